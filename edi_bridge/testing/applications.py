"""Synthetic client applications: e-mails and company cards in every format intake reads.

Every organisation and person here is invented; the INN and OGRN are generated with
valid check digits from a seed. Cards need the ``intake`` extra (python-docx, openpyxl)
and, for PDF, the ``paper`` extra (reportlab).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from ..requisites import complete_inn, complete_ogrn

_FONTS = Path(__file__).resolve().parent.parent / "paper" / "fonts"


@dataclass
class Company:
    """An invented client with valid-checksum requisites."""

    seed: str
    name: str = "Общество с ограниченной ответственностью «Ромашка-Тест»"
    short_name: str = "ООО «Ромашка-Тест»"
    kpp: str | None = "771001001"
    director: str = "Петрова Анна Сергеевна"
    position: str = "Генеральный директор"
    legal_address: str = "123001, г. Москва, ул. Вымышленная, д. 7, офис 3"
    postal_address: str = "123001, г. Москва, а/я 15"
    phone: str = "+7 495 000-11-22"
    email: str = "office@romashka-test.example"
    sole_proprietor: bool = False
    inn: str = field(init=False)
    ogrn: str = field(init=False)

    def __post_init__(self) -> None:
        digits = str(int(hashlib.sha256(self.seed.encode()).hexdigest(), 16))
        if self.sole_proprietor:
            self.inn = complete_inn("50" + digits[:8])
            self.ogrn = complete_ogrn("3045000" + digits[8:15])
            self.kpp = None
        else:
            self.inn = complete_inn("77" + digits[:7])
            self.ogrn = complete_ogrn("1157746" + digits[7:12])

    def card_pairs(self) -> list[tuple[str, str]]:
        """The requisites as a company card lists them (Russian labels)."""
        pairs = [("Полное наименование", self.name), ("Сокращённое наименование", self.short_name)]
        if self.kpp:
            pairs += [("ИНН", self.inn), ("КПП", self.kpp), ("ОГРН", self.ogrn)]
        else:
            pairs += [("ИНН", self.inn), ("ОГРНИП", self.ogrn)]
        pairs += [
            ("Юридический адрес", self.legal_address),
            ("Почтовый адрес", self.postal_address),
            (self.position, self.director),
            ("Телефон", self.phone),
            ("E-mail", self.email),
            ("Банк", "АО «Тестовый банк»"),
            ("БИК", "044525000"),
            ("Р/с", "40702810000000000001"),
        ]
        return pairs


def application_form(
    *,
    username: str | None = "romashka",
    vat: str | None = "да",
    contact: str | None = "Сидоров Пётр Ильич",
    contact_phone: str | None = "+7 916 000-22-33",
    closing_email: str | None = "buh@romashka-test.example",
    edi: str | None = "нет",
    english: bool = False,
) -> str:
    """The application part of the body: what a card does not carry."""
    labels = {
        "username": ("Логин", "Username"),
        "vat": ("НДС", "VAT payer"),
        "contact": ("Контактное лицо", "Contact person"),
        "contact_phone": ("Телефон контактного лица", "Contact phone"),
        "closing_email": ("E-mail для закрывающих документов", "Email for closing documents"),
        "edi": ("ЭДО", "EDI"),
    }
    values = {
        "username": username,
        "vat": vat,
        "contact": contact,
        "contact_phone": contact_phone,
        "closing_email": closing_email,
        "edi": edi,
    }
    lines = [
        "Добрый день! Просим заключить договор. Заявка:"
        if not english
        else "Hello, please find our application below.",
        "",
    ]
    for key, value in values.items():
        if value is not None:
            lines.append(f"{labels[key][1 if english else 0]}: {value}")
    return "\n".join(lines) + "\n"


def card_text(company: Company) -> str:
    return "\n".join(f"{label}: {value}" for label, value in company.card_pairs()) + "\n"


def card_docx_table(company: Company) -> bytes:
    """A card as a two-column table (the most common layout)."""
    import docx

    document = docx.Document()
    document.add_heading("Карточка предприятия", level=1)
    pairs = company.card_pairs()
    table = document.add_table(rows=len(pairs), cols=2)
    for row, (label, value) in zip(table.rows, pairs, strict=True):
        row.cells[0].text = label
        row.cells[1].text = value
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def card_docx_lines(company: Company, *, genitive_signatory: str | None = None) -> bytes:
    """A card as paragraphs, label and value on one line with no colon."""
    import docx

    document = docx.Document()
    document.add_paragraph("Реквизиты организации")
    for label, value in company.card_pairs():
        if genitive_signatory and label == company.position:
            document.add_paragraph(f"В лице {genitive_signatory}, действующего на основании Устава")
            continue
        document.add_paragraph(f"{label}   {value}")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def card_docx_wide(company: Company) -> bytes:
    """A card as a four-column table: two label/value pairs per row."""
    import docx

    document = docx.Document()
    pairs = company.card_pairs()
    pairs += [("", "")] * (len(pairs) % 2)
    table = document.add_table(rows=len(pairs) // 2, cols=4)
    for row, index in zip(table.rows, range(0, len(pairs), 2), strict=True):
        for offset, (label, value) in enumerate(pairs[index : index + 2]):
            row.cells[2 * offset].text = label
            row.cells[2 * offset + 1].text = value
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def card_xlsx(company: Company) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Карточка"
    sheet.append(["Карточка предприятия"])
    for label, value in company.card_pairs():
        sheet.append([label, value])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def card_pdf(company: Company, *, text_layer: bool = True, stacked: bool = False) -> bytes:
    """A one-page PDF card; ``stacked`` puts each value on the line under its label;
    without a text layer it is a picture only (a scan)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DejaVuSans", str(_FONTS / "DejaVuSans.ttf")))
    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    if text_layer:
        page.setFont("DejaVuSans", 10)
        y = 800
        for label, value in company.card_pairs():
            lines = [label, value] if stacked else [f"{label}: {value}"]
            for line in lines:
                page.drawString(40, y, line)
                y -= 16
    else:
        page.rect(40, 600, 400, 200, fill=1)
    page.showPage()
    page.save()
    return buf.getvalue()


def macro_docx(company: Company) -> bytes:
    """A DOCX package that carries a VBA project (as a .docm would)."""
    data = card_docx_table(company)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        dst.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\x00" * 512)
    return out.getvalue()


def zip_bomb_xlsx(expanded_mb: int = 200) -> bytes:
    """A small package whose one member expands to ``expanded_mb`` megabytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"\x00" * (1 << 20)
            for _ in range(expanded_mb):
                member.write(chunk)
    return out.getvalue()


def pdf_bomb(expanded_mb: int = 200) -> bytes:
    """A PDF whose one Flate stream inflates to ``expanded_mb`` megabytes."""
    import zlib

    blob = zlib.compress(b"\x00" * (expanded_mb << 20), 9)
    head = f"%PDF-1.4\n1 0 obj <</Length {len(blob)} /Filter /FlateDecode>>\nstream\n"
    return head.encode() + blob + b"\nendstream\nendobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def build_email(
    *,
    sender: str,
    body: str = "",
    html: bool = False,
    attachments: list[tuple[str, bytes]] | None = None,
    headers: dict[str, str] | None = None,
    subject: str = "Заявка на заключение договора",
) -> bytes:
    """An RFC 822 message as a mail client would send it."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "contracts@provider.example"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="client.example")
    for name, value in (headers or {}).items():
        msg[name] = value
    if html:
        msg.set_content(body, subtype="html")
    else:
        msg.set_content(body)
    for file_name, data in attachments or []:
        maintype, subtype = _media_type(file_name).split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=file_name)
    return msg.as_bytes()


def nested_email(sender: str, depth: int) -> bytes:
    """A message whose multiparts nest ``depth`` levels deep."""
    inner = "Content-Type: text/plain\r\n\r\nИНН: 0\r\n"
    for level in range(depth):
        boundary = f"b{level}"
        inner = (
            f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n"
            f"--{boundary}\r\n{inner}\r\n--{boundary}--\r\n"
        )
    head = f"From: {sender}\r\nSubject: nested\r\nMIME-Version: 1.0\r\n"
    return (head + inner).encode()


def _media_type(file_name: str) -> str:
    suffix = file_name.rsplit(".", 1)[-1].lower()
    return {
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docm": "application/vnd.ms-word.document.macroEnabled.12",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pdf": "application/pdf",
        "txt": "text/plain",
    }.get(suffix, "application/octet-stream")


__all__ = [
    "Company",
    "application_form",
    "build_email",
    "card_docx_lines",
    "card_docx_table",
    "card_docx_wide",
    "card_pdf",
    "card_text",
    "card_xlsx",
    "macro_docx",
    "nested_email",
    "pdf_bomb",
    "zip_bomb_xlsx",
]
