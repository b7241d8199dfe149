from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from lxml import etree

from edi_bridge.closing.inputs import UpdInput, build_document
from edi_bridge.closing.model import UpdFunction
from edi_bridge.closing.upd import ENCODING, build_upd, read_upd
from edi_bridge.errors import UnsafeInput, ValidationError


def _build(inp: UpdInput, **kw):  # type: ignore[no-untyped-def]
    doc = build_document(inp, inp.period, inp.seller, inp.buyer)
    route = inp.buyer.edi[0].participant_id if inp.buyer.edi else inp.buyer.inn
    assert inp.seller.participant_id
    return doc, build_upd(doc, sender_id=inp.seller.participant_id, recipient_id=route, **kw)


@pytest.mark.parametrize("name", ["vat_input", "novat_input"])
def test_generated_upd_validates_against_the_official_schema(
    name: str, request: pytest.FixtureRequest, upd_schema: etree.XMLSchema
) -> None:
    doc, upd = _build(request.getfixturevalue(name))
    tree = etree.fromstring(upd.content)
    assert upd_schema.validate(tree), upd_schema.error_log
    assert tree.get("ИдФайл") == upd.file_id
    assert upd.file_name == upd.file_id + ".xml"
    expected = "СЧФДОП" if doc.function is UpdFunction.INVOICE_AND_TRANSFER else "ДОП"
    assert tree.find("Документ").get("Функция") == expected


def test_upd_is_windows_1251(vat_input: UpdInput) -> None:
    _, upd = _build(vat_input)
    assert upd.content.startswith(b"<?xml version='1.0' encoding='windows-1251'?>")
    assert "Счет-фактура".encode(ENCODING) in upd.content
    with pytest.raises(UnicodeDecodeError):
        upd.content.decode("utf-8")


def test_file_id_follows_the_format(vat_input: UpdInput) -> None:
    guid = uuid.UUID("12345678-1234-5678-1234-567812345678")
    now = dt.datetime(2026, 4, 1, 9, 30, 0)
    _, upd = _build(vat_input, now=now, guid=guid)
    assert upd.file_id == (
        f"ON_NSCHFDOPPR_{vat_input.buyer.edi[0].participant_id}_"
        f"{vat_input.seller.participant_id}_20260401_{guid}_0_0_0_0_0_00"
    )
    # Same time and GUID: the same bytes (a re-run writes an identical file).
    assert _build(vat_input, now=now, guid=guid)[1].content == upd.content


def test_buyer_outside_vat_with_vat_paying_seller_validates(
    vat_input: UpdInput, upd_schema: etree.XMLSchema
) -> None:
    buyer = vat_input.buyer.model_copy(update={"vat_payer": False})
    inp = vat_input.model_copy(update={"buyer": buyer})
    doc, upd = _build(inp)
    assert doc.function is UpdFunction.TRANSFER
    assert doc.vat > 0
    assert upd_schema.validate(etree.fromstring(upd.content)), upd_schema.error_log
    assert read_upd(upd.content).document == doc


@pytest.mark.parametrize("name", ["vat_input", "novat_input"])
def test_reader_round_trips_generated_files(name: str, request: pytest.FixtureRequest) -> None:
    doc, upd = _build(request.getfixturevalue(name))
    read = read_upd(upd.content)
    assert read.document == doc
    assert read.file_id == upd.file_id


def test_reader_reads_the_official_example(fns_dir: Path) -> None:
    read = read_upd((fns_dir / "example-upd.xml").read_bytes())
    doc = read.document
    assert doc.function is UpdFunction.INVOICE_AND_TRANSFER
    assert doc.seller.inn == "7804431521"
    assert doc.buyer.kpp == "780501001"
    assert len(doc.lines) == 2
    assert str(doc.vat) == "3633.79"
    assert doc.lines[0].vat_rate == 22


def test_reader_refuses_totals_that_do_not_add_up(vat_input: UpdInput) -> None:
    _, upd = _build(vat_input)
    tree = etree.fromstring(upd.content)
    totals = tree.find("Документ/ТаблСчФакт/ВсегоОпл")
    totals.set("СтТовУчНалВсего", "1.00")
    bad = etree.tostring(tree, xml_declaration=True, encoding=ENCODING)
    with pytest.raises(ValidationError) as err:
        read_upd(bad)
    assert err.value.field == "УПД.total"


def test_reader_names_a_missing_attribute(vat_input: UpdInput) -> None:
    _, upd = _build(vat_input)
    tree = etree.fromstring(upd.content)
    del tree.find("Документ/СвСчФакт").attrib["НомерДок"]
    with pytest.raises(ValidationError) as err:
        read_upd(etree.tostring(tree, encoding=ENCODING))
    assert err.value.field == "Файл/Документ/СвСчФакт/@НомерДок"


XXE = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE Файл [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Файл ИдФайл="x" ВерсФорм="5.03" ВерсПрог="x">&xxe;</Файл>""".encode()

REMOTE_DTD = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE Файл SYSTEM "http://127.0.0.1:9/evil.dtd">
<Файл ИдФайл="x" ВерсФорм="5.03" ВерсПрог="x"/>""".encode()


def _laughs() -> bytes:
    ents = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    ]
    return (
        '<?xml version="1.0"?><!DOCTYPE Файл [' + "".join(ents) + ']><Файл a="&lol9;"/>'
    ).encode()


@pytest.mark.parametrize(
    "payload", [XXE, REMOTE_DTD, _laughs()], ids=["external-entity", "remote-dtd", "laughs"]
)
def test_hostile_xml_is_refused(payload: bytes) -> None:
    with pytest.raises(UnsafeInput) as err:
        read_upd(payload)
    assert "DTD" in str(err.value) or "entit" in str(err.value)


def test_oversized_xml_is_refused_before_parsing() -> None:
    big = ("<?xml version='1.0' encoding='utf-8'?><Файл>" + " " * 2048 + "</Файл>").encode()
    with pytest.raises(UnsafeInput) as err:
        read_upd(big, limit=1024)
    assert "limit is 1024" in str(err.value)


def test_malformed_xml_is_refused_clearly() -> None:
    with pytest.raises(UnsafeInput) as err:
        read_upd("<Файл><oops></Файл>".encode())
    assert "not well-formed" in str(err.value)
