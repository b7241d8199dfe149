"""The print pack: one PDF to print and post for a paper exchange.

Page 1 is the cover letter (client, postal address, contact person, what to
do), page 2 an address label to cut out, then the contract twice when it is a
PDF (one copy for each side). Text is set in DejaVu Sans, bundled with the
package, so Cyrillic renders the same on every machine; reportlab embeds the
glyphs used. Needs the ``paper`` extra (reportlab, pypdf).
"""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from ..errors import ConfigurationError, ValidationError
from ..models import Exchange

FONT_DIR = Path(__file__).parent / "fonts"
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
COPIES = 2
_INDEX_RE = re.compile(r"^\s*(\d{6})\b")


@dataclasses.dataclass(frozen=True)
class PackSender:
    """Who posts the pack and where the signed copy comes back."""

    name: str | None = None
    address: str | None = None
    scan_email: str | None = None


def _libraries() -> tuple[Any, Any]:
    try:
        import pypdf
        import reportlab
    except ImportError:
        raise ConfigurationError(
            "the print pack needs the 'paper' extra: pip install 'edi-bridge[paper]'"
        ) from None
    return reportlab, pypdf


def _register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    registered = pdfmetrics.getRegisteredFontNames()
    for name, file in ((FONT, "DejaVuSans.ttf"), (FONT_BOLD, "DejaVuSans-Bold.ttf")):
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))
    # So that <b> in paragraphs picks the bold face.
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )


def postal_index(address: str) -> str | None:
    """The six-digit postal index at the start of a Russian address."""
    found = _INDEX_RE.match(address)
    return found.group(1) if found else None


def _cover_and_label(exchange: Exchange, sender: PackSender, is_pdf: bool) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table

    _register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=15, spaceAfter=6)
    head = ParagraphStyle("head", parent=body, fontName=FONT_BOLD, fontSize=14, leading=18)
    big = ParagraphStyle("big", parent=body, fontSize=14, leading=19)
    small = ParagraphStyle("small", parent=body, fontSize=9, leading=12)

    cp = exchange.counterparty
    doc = exchange.document
    number = escape(doc.number)
    date = doc.date.strftime("%d.%m.%Y")

    def para(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(text, style)

    back_to = escape(sender.address) if sender.address else "адресу, указанному в договоре"
    story: list[Any] = [
        para(f"Кому: <b>{escape(cp.name)}</b>", head),
        para(f"ИНН {cp.inn}" + (f", КПП {cp.kpp}" if cp.kpp else "")),
        para(f"Почтовый адрес: {escape(cp.contract_postal_address)}"),
        para(
            f"Контактное лицо: {escape(cp.contact.name)}, тел. {escape(cp.contact.phone)}, "
            f"{escape(str(cp.contact.email))}"
        ),
        para(f"Подписант: {escape(cp.signatory.position)} {escape(cp.signatory.full_name)}"),
        Spacer(1, 8 * mm),
        para(f"Договор № {number} от {date}", head),
        para(
            f"Направляем Вам {COPIES} экземпляра договора № {number} от {date}, "
            "подписанные с нашей стороны."
        ),
        para("Что нужно сделать:", head),
        para("1. Подпишите <b>оба</b> экземпляра и поставьте печать (при наличии)."),
        para(
            "2. Отправьте скан подписанного экземпляра"
            + (f" на {escape(sender.scan_email)}" if sender.scan_email else "")
            + ": по скану мы временно активируем Ваш аккаунт."
        ),
        para(f"3. Верните <b>один</b> экземпляр оригинала по {back_to}."),
        para("Второй экземпляр остаётся у Вас."),
    ]
    if not is_pdf:
        story.append(
            para(
                f"Документ «{escape(doc.file_name)}» не в формате PDF: "
                f"распечатайте его отдельно в {COPIES} экземплярах.",
                small,
            )
        )
    if sender.name:
        story += [Spacer(1, 8 * mm), para(f"С уважением, {escape(sender.name)}")]
    story.append(para(f"Обмен {exchange.id}", small))
    story.append(PageBreak())

    index = postal_index(cp.contract_postal_address)
    to_lines = [
        para("<b>Кому:</b> " + escape(cp.name), big),
        para(f"<b>Для:</b> {escape(cp.contact.name)}", big),
        para("<b>Куда:</b> " + escape(cp.contract_postal_address), big),
    ]
    if index:
        to_lines.append(para(f"<b>Индекс:</b> {index}", big))
    rows = [[to_lines]]
    if sender.name or sender.address:
        rows.append(
            [
                [
                    para("<b>От кого:</b> " + escape(sender.name or ""), body),
                    para("<b>Откуда:</b> " + escape(sender.address or ""), body),
                ]
            ]
        )
    label = Table(rows, colWidths=[150 * mm])
    label.setStyle(
        [
            ("BOX", (0, 0), (-1, -1), 1.2, "black"),
            ("INNERGRID", (0, 0), (-1, -1), 0.5, "black"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 4 * mm),
            ("LEFTPADDING", (0, 0), (-1, -1), 4 * mm),
        ]
    )
    story += [para("Адресный ярлык (вырежьте по рамке)", small), label]

    out = io.BytesIO()
    pdf = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"Договор № {doc.number}: {cp.name}",
        author=sender.name or "edi-bridge",
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
    )
    pdf.build(story)
    return out.getvalue()


def build_print_pack(
    exchange: Exchange, content: bytes, out: Path, *, sender: PackSender | None = None
) -> int:
    """Write the pack to ``out``; returns its number of pages."""
    _, pypdf = _libraries()
    is_pdf = content.startswith(b"%PDF-")
    writer = pypdf.PdfWriter()
    for page in pypdf.PdfReader(
        io.BytesIO(_cover_and_label(exchange, sender or PackSender(), is_pdf))
    ).pages:
        writer.add_page(page)
    if is_pdf:
        try:
            contract = pypdf.PdfReader(io.BytesIO(content))
            pages = list(contract.pages)
        except pypdf.errors.PyPdfError as exc:
            raise ValidationError("document", f"is not a readable PDF ({exc})") from None
        for _ in range(COPIES):
            for page in pages:
                writer.add_page(page)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh:
        writer.write(fh)
    return len(writer.pages)


__all__ = ["PackSender", "build_print_pack", "postal_index"]
