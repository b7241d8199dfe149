"""Contracts rendered from DOCX templates: merged values in the right form, strict fields."""

from __future__ import annotations

import importlib.util
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from edi_bridge.cli import main
from edi_bridge.errors import ValidationError
from edi_bridge.testing.samples import sample_counterparty, sample_counterparty_data

pytest.importorskip("docxtpl", reason="the intake extra (docxtpl) is not installed")

from edi_bridge.contracts import (
    find_converter,
    genitive_name,
    genitive_position,
    render_contract,
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "examples" / "contracts" / "service_contract.docx"


def docx_text(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def make_template(tmp_path: Path, *paragraphs: str) -> Path:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    path = tmp_path / "t.docx"
    document.save(str(path))
    return path


NAMES = [
    ("Иванов Иван Иванович", "Иванова Ивана Ивановича"),
    ("Петрова Мария Сергеевна", "Петровой Марии Сергеевны"),
    ("Черных Анна Петровна", "Черных Анны Петровны"),
    ("Смирнова О. В.", "Смирновой О. В."),
]
POSITIONS = [
    ("Генеральный директор", "Генерального директора"),
    ("Директор", "Директора"),
    ("Исполнительный директор", "Исполнительного директора"),
    ("Управляющий", "Управляющего"),
    ("Индивидуальный предприниматель", "Индивидуального предпринимателя"),
    ("Директор по развитию", "Директора по развитию"),
    ("Председатель правления", "Председателя правления"),
]


@pytest.mark.parametrize(
    ("decline", "nominative", "genitive"),
    [(genitive_name, *pair) for pair in NAMES] + [(genitive_position, *p) for p in POSITIONS],
    ids=lambda v: v if isinstance(v, str) else getattr(v, "__name__", "?"),
)
def test_signatory_names_and_positions_are_declined_into_the_genitive(
    decline: Callable[[str], str], nominative: str, genitive: str
) -> None:
    assert decline(nominative) == genitive


def test_rendered_contract_contains_each_merged_value_in_the_right_form(tmp_path: Path) -> None:
    cp = sample_counterparty("render")
    out = tmp_path / "c.docx"
    result = render_contract(
        TEMPLATE, cp, number="Д-2026/17", date="2026-03-05", price="120000.5", out=out
    )
    text = docx_text(out.read_bytes())
    for expected in (
        "ДОГОВОР ОКАЗАНИЯ УСЛУГ № Д-2026/17",
        "«05» марта 2026 г.",
        "и ООО «Ромашка», именуемое",
        "в лице Генерального директора Ивановой Марии Петровны, действующей на основании Устава",
        f"ИНН {cp.inn}, КПП {cp.kpp}",
        f"ОГРН {cp.ogrn}",
        "Почтовый адрес: 125009, г. Москва, ул. Тверская, д. 1",
        "120\u00a0000,50 руб.",
        "Заказчик является плательщиком НДС.",
        "Плательщик НДС: да",
        "по учётной записи «render»",
        "accounting@example.ru",
        "Пётр Сидоров, +7 495 123-45-67",
        "/ Иванова М. П. /",
    ):
        assert expected in text
    assert "{{" not in text
    assert result.fields["inn"] == cp.inn


def test_sole_proprietor_gets_ogrnip_and_no_kpp(tmp_path: Path) -> None:
    from edi_bridge.models import parse_counterparty
    from edi_bridge.requisites import complete_inn, complete_ogrn

    data = sample_counterparty_data(
        "ip",
        name="ИП Лебедев Игорь Павлович",
        inn=complete_inn("5012345678"),
        kpp=None,
        ogrn=complete_ogrn("30450000000001"),
        vat_payer=False,
        signatory={
            "full_name": "Лебедев Игорь Павлович",
            "position": "Индивидуальный предприниматель",
        },
    )
    out = tmp_path / "ip.docx"
    render_contract(
        TEMPLATE, parse_counterparty(data), number="1", date="2026-01-10", price="1000", out=out
    )
    text = docx_text(out.read_bytes())
    assert "в лице Индивидуального предпринимателя Лебедева Игоря Павловича, действующего" in text
    assert f"ОГРНИП {data['ogrn']}" in text
    assert "КПП" not in text.split("Заказчик\n", 1)[1]
    assert "Заказчик не является плательщиком НДС." in text


def test_unknown_merge_field_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    template = make_template(tmp_path, "Договор {{ number }} с {{ director_fio }}")
    out = tmp_path / "out.docx"
    with pytest.raises(ValidationError) as info:
        render_contract(template, sample_counterparty(), number="1", date="2026-01-01", out=out)
    assert info.value.field == "template.director_fio"
    assert info.value.rule == "unknown merge field"
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [template]


def test_field_without_a_value_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out.docx"
    with pytest.raises(ValidationError) as info:
        render_contract(TEMPLATE, sample_counterparty(), number="1", date="2026-01-01", out=out)
    assert info.value.field == "template.price"
    assert "no value" in info.value.rule
    assert not out.exists()


def test_template_and_call_can_override_the_declined_forms(tmp_path: Path) -> None:
    template = make_template(
        tmp_path,
        '{% set signatory_position_genitive = "исполняющего обязанности директора" %}'
        "в лице {{ signatory_position_genitive }} {{ signatory_name_genitive }}",
        "{{ legal_address }}",
    )
    out = tmp_path / "o.docx"
    render_contract(
        template,
        sample_counterparty(),
        number="1",
        date="2026-01-01",
        out=out,
        overrides={
            "signatory_name_genitive": "Ивановой М. П.",
            "legal_address": "г. Москва, ул. Условная, д. 5",
        },
    )
    text = docx_text(out.read_bytes())
    assert "в лице исполняющего обязанности директора Ивановой М. П." in text
    assert "г. Москва, ул. Условная, д. 5" in text


def test_same_template_and_fields_give_the_same_bytes(tmp_path: Path) -> None:
    args = {"number": "7", "date": "2026-02-02", "price": "10"}
    a = render_contract(TEMPLATE, sample_counterparty(), out=tmp_path / "a.docx", **args)
    b = render_contract(TEMPLATE, sample_counterparty(), out=tmp_path / "b.docx", **args)
    assert a.sha256 == b.sha256
    assert (tmp_path / "a.docx").read_bytes() == (tmp_path / "b.docx").read_bytes()


def test_example_template_is_reproducible_from_its_script() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_service_contract", ROOT / "examples" / "contracts" / "make_service_contract.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build() == TEMPLATE.read_bytes()


@pytest.mark.skipif(
    find_converter() is None,
    reason="LibreOffice (soffice) is not installed: "
    "it is too heavy for CI (about 86 MB download, 263 MB installed)",
)
def test_pdf_output_through_libreoffice_carries_the_merged_text(tmp_path: Path) -> None:
    import pdfplumber

    out = tmp_path / "c.pdf"
    result = render_contract(
        TEMPLATE, sample_counterparty("pdf"), number="P-1", date="2026-04-01", price="500", out=out
    )
    assert result.pdf
    with pdfplumber.open(out) as pdf:
        text = " ".join((page.extract_text() or "") for page in pdf.pages)
    assert "Генерального директора Ивановой Марии Петровны" in " ".join(text.split())


def cli_render(tmp_path: Path, template: Path, *extra: str) -> Result:
    cp_path = tmp_path / "cp.json"
    cp_path.write_text(json.dumps(sample_counterparty_data("cli")), encoding="utf-8")
    args = ["contract", "render", str(template), "--counterparty", str(cp_path)]
    return CliRunner().invoke(main, [*args, "--date", "2026-05-06", *extra])


def test_pdf_without_libreoffice_writes_the_docx_and_cli_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDI_BRIDGE_SOFFICE", str(tmp_path / "no-such-soffice"))
    result = cli_render(
        tmp_path, TEMPLATE, "--number", "C-1", "--price", "99.90", "--out", str(tmp_path / "c.pdf")
    )
    assert result.exit_code == 3
    assert "PDF was not possible" in result.stderr
    assert not (tmp_path / "c.pdf").exists()
    assert "C-1" in docx_text((tmp_path / "c.docx").read_bytes())


def test_cli_render_refuses_an_unknown_field_in_one_line(tmp_path: Path) -> None:
    template = make_template(tmp_path, "{{ nonexistent_field }}")
    result = cli_render(tmp_path, template, "--number", "1", "--out", str(tmp_path / "x.docx"))
    assert result.exit_code == 1
    assert result.stderr.strip() == ("edi-bridge: template.nonexistent_field: unknown merge field")
    assert not (tmp_path / "x.docx").exists()


def test_template_cannot_reach_python_internals(tmp_path: Path) -> None:
    template = make_template(tmp_path, "{{ name.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(ValidationError, match="not allowed in a template"):
        render_contract(
            template, sample_counterparty(), number="1", date="2026-01-01", out=tmp_path / "o.docx"
        )
    assert not (tmp_path / "o.docx").exists()
