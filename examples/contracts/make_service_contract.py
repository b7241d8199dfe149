"""Build ``service_contract.docx``, the example contract template, from code.

    python examples/contracts/make_service_contract.py [OUT.docx]

The provider's own requisites are written into the template (it is the provider's
template); the client's come from merge fields (docs/contracts.md lists them). The
result is normalised, so running this again gives the same bytes.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from edi_bridge.contracts.render import normalise_docx

HERE = Path(__file__).resolve().parent

PROVIDER = [
    "ООО «Сервис-Пример»",
    "ИНН 7700000016, КПП 770001001",
    "ОГРН 1027700000019",
    "Почтовый адрес: 101000, г. Москва, ул. Образцовая, д. 1",
    "E-mail: contracts@service-example.example",
]
CLIENT = [
    "{{ name }}",
    "ИНН {{ inn }}{% if kpp %}, КПП {{ kpp }}{% endif %}",
    "{{ ogrn_label }} {{ ogrn }}",
    "Почтовый адрес: {{ contract_postal_address }}",
    "Телефон: {{ contact_phone }}",
    "E-mail: {{ contact_email }}",
    "Плательщик НДС: {% if vat_payer %}да{% else %}нет{% endif %}",
]
CLAUSES = [
    (
        "1. Предмет договора",
        [
            "1.1. Исполнитель оказывает Заказчику услуги доступа к сервису по учётной записи "
            "«{{ username }}», а Заказчик принимает и оплачивает их.",
        ],
    ),
    (
        "2. Стоимость и порядок расчётов",
        [
            "2.1. Стоимость услуг составляет {{ price }} руб. за период оказания услуг.",
            "2.2. Заказчик {{ vat_wording }}.",
        ],
    ),
    (
        "3. Документы",
        [
            "3.1. Закрывающие документы направляются Заказчику по электронной почте "
            "{{ closing_email }} и по адресу: {{ closing_postal_address }}.",
            "3.2. Ответственное лицо Заказчика: {{ contact_name }}, {{ contact_phone }}.",
        ],
    ),
]


def build() -> bytes:
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name = "DejaVu Serif"  # type: ignore[attr-defined]
    style.font.size = Pt(11)  # type: ignore[attr-defined]
    title = document.add_paragraph("ДОГОВОР ОКАЗАНИЯ УСЛУГ № {{ number }}")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.runs[0].bold = True
    document.add_paragraph("г. Москва\t\t\t\t\t\t\t{{ date_long }}")
    document.add_paragraph(
        "ООО «Сервис-Пример», именуемое в дальнейшем «Исполнитель», в лице Генерального "
        "директора Образцова Петра Петровича, действующего на основании Устава, с одной "
        "стороны, и {{ name }}, именуемое в дальнейшем «Заказчик», в лице "
        "{{ signatory_position_genitive }} {{ signatory_name_genitive }}, {{ acting }} на "
        "основании {% if is_organisation %}Устава{% else %}записи в ЕГРИП "
        "({{ ogrn_label }} {{ ogrn }}){% endif %}, с другой стороны, заключили настоящий "
        "договор о нижеследующем."
    )
    for heading, paragraphs in CLAUSES:
        document.add_paragraph(heading).runs[0].bold = True
        for text in paragraphs:
            document.add_paragraph(text)
    document.add_paragraph("4. Реквизиты и подписи сторон").runs[0].bold = True
    table = document.add_table(rows=2, cols=2)
    table.style = "Table Grid"
    for cell, title_text, lines in (
        (table.rows[0].cells[0], "Исполнитель", PROVIDER),
        (table.rows[0].cells[1], "Заказчик", CLIENT),
    ):
        cell.paragraphs[0].add_run(title_text).bold = True
        for line in lines:
            cell.add_paragraph(line)
    table.rows[1].cells[0].paragraphs[
        0
    ].text = "Генеральный директор\n______________ / Образцов П. П. /"
    table.rows[1].cells[1].paragraphs[
        0
    ].text = "{{ signatory_position }}\n______________ / {{ signatory_initials }} /"
    buf = io.BytesIO()
    document.save(buf)
    return normalise_docx(buf.getvalue())


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "service_contract.docx"
    out.write_bytes(build())
    print(out)


if __name__ == "__main__":
    main()
