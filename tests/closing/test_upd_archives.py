"""Older УПД formats (5.01, 5.02) read read-only, buyer titles, and files that are no УПД.

The files in ``samples/`` are synthetic (made-up organisations), written in
windows-1251 with the element names of the FNS formats.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from edi_bridge.cli import main
from edi_bridge.closing.inputs import UpdInput, build_document
from edi_bridge.closing.model import UpdFunction
from edi_bridge.closing.upd import ENCODING, build_upd, read_upd
from edi_bridge.closing.upd_buyer import (
    BuyerTitle,
    read_buyer_title,
    read_closing_xml,
)
from edi_bridge.closing.upd_read import ReadUpd
from edi_bridge.errors import ValidationError

SAMPLES = Path(__file__).resolve().parent / "samples"
UPD_501 = SAMPLES / "ON_NSCHFDOPPR-5.01.xml"
UPD_502 = SAMPLES / "ON_NSCHFDOPPR-5.02.xml"
BUYER_501 = SAMPLES / "ON_NSCHFDOPPOK-5.01.xml"
BUYER_503 = SAMPLES / "ON_NSCHFDOPPOK-5.03.xml"
WAYBILL = SAMPLES / "ON_TRNACLGROT.xml"


def _edited(path: Path, edit: str, value: str | None, attr: str) -> bytes:
    tree = etree.fromstring(path.read_bytes())
    el = tree if edit == "." else tree.find(edit)
    assert el is not None
    if value is None:
        del el.attrib[attr]
    else:
        el.set(attr, value)
    return etree.tostring(tree, xml_declaration=True, encoding=ENCODING)


# -- seller's titles 5.01 and 5.02 ------------------------------------------------------


def test_a_501_upd_is_read_read_only_and_labelled_with_its_version() -> None:
    read = read_upd(UPD_501.read_bytes())
    assert read.version == "5.01"
    assert read.read_only
    doc = read.document
    assert doc.number == "УПД-2019-03/0007"
    assert doc.date == dt.date(2019, 3, 31)
    assert doc.period == "2019-03"
    assert doc.function is UpdFunction.INVOICE_AND_TRANSFER
    assert (doc.seller.inn, doc.buyer.kpp) == ("7708123450", "770101001")
    assert [line.unit_name for line in doc.lines] == ["шт", "мес"]  # from ДопСведТов
    assert [line.vat_rate for line in doc.lines] == [20, 20]
    assert (doc.amount, doc.vat, doc.total) == (
        Decimal("13000.00"),
        Decimal("2600.00"),
        Decimal("15600.00"),
    )
    assert doc.basis is not None
    assert doc.basis.number == "Д-17/2018"
    assert doc.signatory.full_name == "Смирнов Алексей Игоревич"
    assert doc.signatory.position == "Генеральный директор"  # Подписант/ЮЛ/@Должн


def test_a_502_upd_without_vat_and_without_basis_is_read() -> None:
    read = read_upd(UPD_502.read_bytes())
    assert (read.version, read.read_only) == ("5.02", True)
    doc = read.document
    assert doc.function is UpdFunction.TRANSFER
    assert doc.lines[0].vat_rate is None
    assert doc.vat == Decimal("0.00")
    assert doc.basis is None  # "Без документа-основания"
    assert read.formed_at == dt.datetime(2022, 2, 10, 9, 0, 0)


def test_a_503_upd_we_write_is_read_as_current_not_read_only(vat_input: UpdInput) -> None:
    doc = build_document(vat_input, vat_input.period, vat_input.seller, vat_input.buyer)
    assert vat_input.seller.participant_id
    upd = build_upd(doc, sender_id=vat_input.seller.participant_id, recipient_id="2BM-1")
    read = read_upd(upd.content)
    assert (read.version, read.read_only) == ("5.03", False)
    assert read.as_json()["version"] == "5.03"


def test_older_upd_figures_that_do_not_add_up_are_refused() -> None:
    bad = _edited(UPD_501, "Документ/ТаблСчФакт/ВсегоОпл", "1.00", "СтТовУчНалВсего")
    with pytest.raises(ValidationError) as err:
        read_upd(bad)
    assert err.value.field == "УПД.total"


def test_older_upd_names_its_own_missing_attribute() -> None:
    bad = _edited(UPD_502, "Документ/СвСчФакт", None, "НомерСчФ")
    with pytest.raises(ValidationError) as err:
        read_upd(bad)
    assert err.value.field == "Файл/Документ/СвСчФакт/@НомерСчФ"


def test_an_older_upd_with_a_malformed_file_id_is_refused() -> None:
    bad = _edited(UPD_501, ".", "ON_NSCHFDOPPR_only-one-part", "ИдФайл")
    with pytest.raises(ValidationError) as err:
        read_upd(bad)
    assert err.value.field == "Файл/@ИдФайл"
    assert "ON_NSCHFDOPPR_<to>_<from>_<date>_<GUID>" in str(err.value)


def test_an_invoice_only_upd_is_refused_saying_why() -> None:
    bad = _edited(UPD_501, "Документ", "СЧФ", "Функция")
    with pytest.raises(ValidationError) as err:
        read_upd(bad)
    assert "СЧФ (an invoice without the transfer part)" in str(err.value)


@pytest.mark.parametrize("version", ["5.04", "4.00", ""])
def test_an_unknown_version_is_refused_naming_the_versions_read(version: str) -> None:
    bad = _edited(UPD_501, ".", version, "ВерсФорм")
    with pytest.raises(ValidationError) as err:
        read_upd(bad)
    assert err.value.field == "Файл/@ВерсФорм"
    assert "5.01, 5.02, 5.03" in str(err.value)


# -- buyer's titles -------------------------------------------------------------------


def test_a_501_buyer_title_with_disagreements_is_read() -> None:
    title = read_buyer_title(BUYER_501.read_bytes())
    assert (title.version, title.read_only) == ("5.01", True)
    assert title.seller_file_id.startswith("ON_NSCHFDOPPR_")
    assert title.document_number == "УПД-2019-03/0007"
    assert title.document_date == dt.date(2019, 3, 31)
    assert title.accepted_on == dt.date(2019, 4, 17)
    assert title.result == "2"
    assert title.result_text == "accepted with disagreements"
    assert title.disagreements is not None
    assert title.disagreements.document_name == "Акт о расхождениях"
    assert title.disagreements.document_number == "Р-5"
    assert title.disagreements.document_date == dt.date(2019, 4, 17)
    assert (title.signer_name, title.signer_position) == (
        "Иванова Мария Петровна",
        "Генеральный директор",
    )
    assert title.received_by == "Кузнецова Ольга Викторовна, Главный бухгалтер"


def test_a_503_buyer_title_accepted_without_disagreements_is_read() -> None:
    title = read_buyer_title(BUYER_503.read_bytes())
    assert title.version == "5.03"
    assert title.document_number == "УПД-2026-03/0001"  # ПорНомДокИнфПр in 5.03
    assert title.accepted_on == dt.date(2026, 4, 4)
    assert title.result == "1"
    assert title.disagreements is None
    assert title.signer_name == "Иванова Мария Петровна"
    assert title.formed_at == dt.datetime(2026, 4, 5, 11, 30)


def test_a_503_buyer_title_names_its_disagreements_document() -> None:
    tree = etree.fromstring(BUYER_503.read_bytes())
    code = tree.find("Документ/СодФХЖ4/СвПрин/КодСодОпер")
    assert code is not None
    code.set("КодИтога", "2")
    etree.SubElement(
        code,
        "РеквДокРасх",
        РеквНаимДок="Акт о расхождениях",
        РеквНомерДок="7",
        РеквДатаДок="04.04.2026",
    )
    title = read_buyer_title(etree.tostring(tree, encoding=ENCODING))
    assert title.disagreements is not None
    assert (title.disagreements.document_number, title.disagreements.document_date) == (
        "7",
        dt.date(2026, 4, 4),
    )


def test_a_rejected_buyer_title_has_disagreements_even_without_a_document() -> None:
    bad = _edited(BUYER_503, "Документ/СодФХЖ4/СвПрин/КодСодОпер", "3", "КодИтога")
    title = read_buyer_title(bad)
    assert title.result_text == "not accepted"
    assert title.disagreements is not None
    assert title.disagreements.result == "3"


def test_a_buyer_title_without_an_acceptance_date_reads_none() -> None:
    data = _edited(BUYER_503, "Документ/СодФХЖ4/СвПрин", None, "ДатаПрин")
    assert read_buyer_title(data).accepted_on is None


def test_a_buyer_title_without_signer_name_is_refused() -> None:
    tree = etree.fromstring(BUYER_503.read_bytes())
    signer = tree.find("Документ/Подписант")
    assert signer is not None
    signer.remove(signer.find("ФИО"))
    with pytest.raises(ValidationError) as err:
        read_buyer_title(etree.tostring(tree, encoding=ENCODING))
    assert err.value.field == "Файл/Документ/Подписант/ФИО"


# -- what a file is ---------------------------------------------------------------------


def test_read_closing_xml_returns_the_right_kind_for_each_file() -> None:
    assert isinstance(read_closing_xml(UPD_501.read_bytes()), ReadUpd)
    assert isinstance(read_closing_xml(UPD_502.read_bytes()), ReadUpd)
    assert isinstance(read_closing_xml(BUYER_501.read_bytes()), BuyerTitle)
    assert isinstance(read_closing_xml(BUYER_503.read_bytes()), BuyerTitle)


@pytest.mark.parametrize(
    ("file_id", "said"),
    [
        ("ON_TRNACLGROT_A_B_20260402_x", "this is a waybill ON_TRNACLGROT, not a УПД"),
        ("DP_TOVTORGPR_A_B_20260402_x", "a goods waybill ТОРГ-12 (seller's title) DP_TOVTORGPR"),
        ("ON_NKORSCHFDOPPR_A_B_20260402_x", "a corrective УКД (seller's title) ON_NKORSCHFDOPPR"),
        ("DP_IZVPOL_A_B_20260402_x", "a receipt notice"),
        ("ON_SOMETHINGNEW_A_B", "an exchange file ON_SOMETHINGNEW, not a УПД"),
    ],
)
def test_a_file_that_is_no_upd_is_refused_saying_what_it_is(file_id: str, said: str) -> None:
    data = _edited(WAYBILL, ".", file_id, "ИдФайл")
    with pytest.raises(ValidationError) as err:
        read_closing_xml(data)
    assert err.value.field == "Файл/@ИдФайл"
    assert said in str(err.value)
    assert "5.03" not in str(err.value)


def test_a_power_of_attorney_is_named_as_such() -> None:
    with pytest.raises(ValidationError) as err:
        read_closing_xml("<Доверенность ВерсФорм='001'/>".encode())
    assert "power of attorney" in str(err.value)


def test_a_buyer_title_given_to_the_seller_reader_is_named() -> None:
    with pytest.raises(ValidationError) as err:
        read_upd(BUYER_501.read_bytes())
    assert "a УПД buyer's title ON_NSCHFDOPPOK" in str(err.value)


# -- the command line -------------------------------------------------------------------


@pytest.mark.parametrize(("path", "version"), [(UPD_501, "5.01"), (UPD_502, "5.02")])
def test_cli_upd_read_labels_an_older_upd_read_only(path: Path, version: str) -> None:
    shown = CliRunner().invoke(main, ["upd", "read", str(path)])
    assert shown.exit_code == 0, shown.output
    assert f"формат {version} (только чтение)" in shown.output
    as_json = CliRunner().invoke(main, ["upd", "read", str(path), "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert (data["kind"], data["version"], data["read_only"]) == ("upd", version, True)
    assert data["document"]["seller"]["inn"] == "7708123450"


def test_cli_upd_read_shows_a_buyer_title() -> None:
    shown = CliRunner().invoke(main, ["upd", "read", str(BUYER_501)])
    assert shown.exit_code == 0, shown.output
    assert "титул покупателя УПД, формат 5.01" in shown.output
    assert "принято с расхождениями" in shown.output
    assert "Акт о расхождениях № Р-5 от 17.04.2019" in shown.output
    assert "подписал     Иванова Мария Петровна, Генеральный директор" in shown.output
    as_json = CliRunner().invoke(main, ["upd", "read", str(BUYER_501), "--json"])
    data = json.loads(as_json.output)
    assert data["kind"] == "buyer_title"
    assert data["accepted_on"] == "2019-04-17"
    assert data["disagreements"]["document_date"] == "2019-04-17"
    assert data["signer_name"] == "Иванова Мария Петровна"


def test_cli_upd_read_says_what_a_waybill_is() -> None:
    result = CliRunner().invoke(main, ["upd", "read", str(WAYBILL)])
    assert result.exit_code == 1
    assert "a waybill ON_TRNACLGROT, not a УПД" in result.output
    assert "must be 5.03" not in result.output
    assert "Traceback" not in result.output


def test_importing_the_library_does_not_load_the_xml_readers() -> None:
    import subprocess
    import sys

    code = "import sys, edi_bridge, edi_bridge.closing; print('lxml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
