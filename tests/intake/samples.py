"""The sample applications intake is proven on: every card format, several layouts,
missing fields, forged senders and hostile packages. All organisations are invented."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edi_bridge.testing.applications import (
    Company,
    application_form,
    build_email,
    card_docx_lines,
    card_docx_table,
    card_docx_wide,
    card_pdf,
    card_text,
    card_xlsx,
    macro_docx,
    nested_email,
    pdf_bomb,
    zip_bomb_xlsx,
)

ACCOUNT = "Client@Romashka-Test.example"
SENDER = "Анна Петрова <client@romashka-test.example>"


@dataclass(frozen=True)
class Sample:
    name: str
    build: Callable[[], bytes]
    outcome: str  # complete | incomplete | refused
    fields: tuple[str, ...] = ()  # problem fields (incomplete) or words of the refusal
    username: str | None = None


def _co(seed: str, **kw: object) -> Company:
    return Company(seed, **kw)  # type: ignore[arg-type]


def _body_only() -> bytes:
    c = _co("s01")
    return build_email(sender=SENDER, body=application_form() + card_text(c))


def _docx_table() -> bytes:
    c = _co("s02", name="Общество с ограниченной ответственностью «Василёк-Тест»")
    return build_email(
        sender=SENDER,
        body=application_form(edi="Диадок 2BM-" + c.inn + "-x1"),
        attachments=[("Карточка предприятия.docx", card_docx_table(c))],
    )


def _docx_lines_genitive() -> bytes:
    c = _co("s03", director="Кузнецов Олег Викторович", position="Директор")
    card = card_docx_lines(c, genitive_signatory="Директора Кузнецова Олега Викторовича")
    return build_email(sender=SENDER, body=application_form(), attachments=[("card.docx", card)])


def _xlsx() -> bytes:
    c = _co("s04", position="Исполнительный директор", director="Орлова Вера Николаевна")
    return build_email(
        sender=SENDER,
        body=application_form(edi="СБИС 2BE-" + c.inn + "-77"),
        attachments=[("card.xlsx", card_xlsx(c))],
    )


def _pdf() -> bytes:
    c = _co("s05")
    return build_email(
        sender=SENDER,
        body=application_form(vat="не являемся плательщиком"),
        attachments=[("card.pdf", card_pdf(c))],
    )


def _english_sole_proprietor() -> bytes:
    c = _co("s06", sole_proprietor=True)
    body = application_form(english=True, vat="no (simplified tax system)", edi="no") + "\n".join(
        [
            "Full name: Индивидуальный предприниматель Лебедев Игорь Павлович",
            f"INN: {c.inn}",
            f"OGRNIP: {c.ogrn}",
            "Postal address: 390000, г. Рязань, ул. Условная, д. 2",
            "Phone: +7 491 200-00-00",
            "Email: ip-lebedev@client.example",
        ]
    )
    return build_email(sender=SENDER, body=body)


def _html_table() -> bytes:
    c = _co("s07")
    rows = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in c.card_pairs())
    form = "".join(f"<p>{line}</p>" for line in application_form().splitlines())
    html = f"<html><body>{form}<table>{rows}</table><script>alert(1)</script></body></html>"
    return build_email(sender=SENDER, body=html, html=True)


def _txt_card_missing() -> bytes:
    c = _co("s08")
    body = application_form(contact=None, contact_phone=None, closing_email=None, vat=None)
    return build_email(sender=SENDER, body=body, attachments=[("card.txt", card_text(c).encode())])


def _wrong_inn() -> bytes:
    c = _co("s09")
    c.inn = c.inn[:-1] + str((int(c.inn[-1]) + 1) % 10)
    return build_email(
        sender=SENDER, body=application_form(), attachments=[("card.docx", card_docx_table(c))]
    )


def _card_only() -> bytes:
    c = _co("s10")
    return build_email(
        sender=SENDER, body="Карточка во вложении.", attachments=[("card.xlsx", card_xlsx(c))]
    )


def _conflicting_inn() -> bytes:
    c, other = _co("s11"), _co("s11-other")
    return build_email(
        sender=SENDER,
        body=application_form() + f"ИНН: {other.inn}\n",
        attachments=[("card.docx", card_docx_table(c))],
    )


def _forged_from() -> bytes:
    return build_email(
        sender="Анна Петрова <client@romashka-test.example.evil>",
        body=application_form() + card_text(_co("s12")),
    )


def _forged_sender_header() -> bytes:
    return build_email(
        sender=SENDER,
        body=application_form() + card_text(_co("s13")),
        headers={"Sender": "bulk@mailer.example"},
    )


def _forged_return_path() -> bytes:
    return build_email(
        sender=SENDER,
        body=application_form() + card_text(_co("s14")),
        headers={"Return-Path": "<bounce@elsewhere.example>"},
    )


def _macro_docx() -> bytes:
    return build_email(
        sender=SENDER, body=application_form(), attachments=[("card.docx", macro_docx(_co("s15")))]
    )


def _docm() -> bytes:
    return build_email(
        sender=SENDER,
        body=application_form(),
        attachments=[("card.docm", card_docx_table(_co("s16")))],
    )


def _zip_bomb() -> bytes:
    return build_email(
        sender=SENDER, body=application_form(), attachments=[("card.xlsx", zip_bomb_xlsx())]
    )


def _nested() -> bytes:
    return nested_email(SENDER, 8)


def _docx_wide() -> bytes:
    c = _co("s22", phone="+7 812 300-00-00")
    return build_email(
        sender=SENDER, body=application_form(), attachments=[("card.docx", card_docx_wide(c))]
    )


def _pdf_stacked() -> bytes:
    c = _co("s23", director="Волков Денис Олегович", position="Президент")
    return build_email(
        sender=SENDER,
        body=application_form(contact_phone=None),
        attachments=[("card.pdf", card_pdf(c, stacked=True))],
    )


def _pdf_bomb() -> bytes:
    return build_email(
        sender=SENDER, body=application_form(), attachments=[("card.pdf", pdf_bomb())]
    )


def _nested_thousands() -> bytes:
    return nested_email(SENDER, 5000)


def _scan_pdf() -> bytes:
    return build_email(
        sender=SENDER,
        body=application_form(),
        attachments=[("card.pdf", card_pdf(_co("s19"), text_layer=False))],
    )


SAMPLES = [
    Sample("s01-body-text-form", _body_only, "complete"),
    Sample("s02-docx-table-card-diadoc", _docx_table, "complete"),
    Sample("s03-docx-lines-v-lice", _docx_lines_genitive, "complete"),
    Sample("s04-xlsx-card-sbis", _xlsx, "complete"),
    Sample("s05-pdf-card-no-vat", _pdf, "complete"),
    Sample("s06-english-sole-proprietor", _english_sole_proprietor, "complete"),
    Sample("s07-html-table", _html_table, "complete"),
    Sample(
        "s08-txt-card-missing-fields",
        _txt_card_missing,
        "incomplete",
        ("vat_payer", "contact.name", "closing_documents.email"),
    ),
    Sample("s09-wrong-inn-check-digit", _wrong_inn, "incomplete", ("inn",)),
    Sample(
        "s10-card-only",
        _card_only,
        "incomplete",
        ("vat_payer", "username", "contact.name", "closing_documents.email"),
    ),
    Sample("s11-conflicting-inn", _conflicting_inn, "incomplete", ("inn",)),
    Sample("s11b-other-username", _body_only, "incomplete", ("username",), username="lyutik"),
    Sample("s12-forged-from", _forged_from, "refused", ("message.From", "evil")),
    Sample("s13-forged-sender", _forged_sender_header, "refused", ("message.Sender",)),
    Sample("s14-forged-return-path", _forged_return_path, "refused", ("message.Return-Path",)),
    Sample("s15-docx-with-vba-project", _macro_docx, "refused", ("macros",)),
    Sample("s16-docm-attachment", _docm, "refused", ("macro",)),
    Sample("s17-xlsx-zip-bomb", _zip_bomb, "refused", ("zip bomb",)),
    Sample("s18-deep-multipart-nesting", _nested, "refused", ("nesting",)),
    Sample("s19-pdf-without-text-layer", _scan_pdf, "refused", ("text layer",)),
    Sample("s20-5000-nested-multiparts", _nested_thousands, "refused", ("multipart parts",)),
    Sample("s21-pdf-decompression-bomb", _pdf_bomb, "refused", ("decompression bomb",)),
    Sample("s22-docx-four-column-card", _docx_wide, "complete"),
    Sample("s23-pdf-values-under-labels", _pdf_stacked, "complete"),
]
