"""Every malformed or hostile МЧД is refused with one line naming the element
and the rule: not XML, entities, wrong namespace or version, format 002, missing
principal or representative, bad GUID, reversed dates, bad identifiers, oversize."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from edi_bridge.mchd import (
    MAX_MCHD_BYTES,
    InvalidPowerOfAttorney,
    Organisation,
    Person,
    build_power_of_attorney,
    read_power_of_attorney,
)

from .conftest import ISSUED, UNTIL


def _refused(data: bytes, schema: Path | None = None) -> InvalidPowerOfAttorney:
    with pytest.raises(InvalidPowerOfAttorney) as caught:
        read_power_of_attorney(data, schema=schema)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(caught.value.field + ": ")
    return caught.value


def _swap(document: bytes, old: str, new: str) -> bytes:
    changed = document.replace(old.encode(), new.encode())
    assert changed != document, old
    return changed


def _drop(document: bytes, start: str, end: str) -> bytes:
    text = document.decode()
    a = text.index(start)
    b = text.index(end, a) + len(end)
    return (text[:a] + text[b:]).encode()


def test_not_xml_is_refused() -> None:
    error = _refused(b"%PDF-1.4 not a power of attorney")
    assert error.field == "document"
    assert "not well-formed" in error.rule


def test_an_internal_entity_is_refused() -> None:
    hostile = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<Доверенность xmlns="urn://x-artefacts/EMCHD_1">&b;</Доверенность>'
    ).encode()
    error = _refused(hostile)
    assert error.field == "document"
    assert "DTD" in error.rule


def test_an_external_entity_is_refused_without_reading_it(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    hostile = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<Доверенность xmlns="urn://x-artefacts/EMCHD_1">&x;</Доверенность>'
    ).encode()
    error = _refused(hostile)
    assert "do not read" not in str(error)


def test_an_oversize_document_is_refused(document: bytes) -> None:
    padded = document + b" " * MAX_MCHD_BYTES
    error = _refused(padded)
    assert error.field == "document"
    assert "limit" in error.rule


def test_another_root_element_is_refused() -> None:
    error = _refused('<Файл xmlns="urn://x-artefacts/EMCHD_1"/>'.encode())
    assert error.field == "Файл"
    assert "not a power of attorney" in error.rule


def test_a_wrong_namespace_is_refused(document: bytes) -> None:
    error = _refused(_swap(document, "urn://x-artefacts/EMCHD_1", "urn://example/other"))
    assert error.field == "Доверенность"
    assert "urn://example/other" in error.rule


def test_a_wrong_version_is_refused(document: bytes) -> None:
    error = _refused(_swap(document, 'ВерсФорм="EMCHD_1"', 'ВерсФорм="EMCHD_2"'))
    assert error.field == "Доверенность/@ВерсФорм"
    assert "EMCHD_2" in error.rule


def test_format_002_is_refused_by_name_never_misread() -> None:
    old = (
        '<?xml version="1.0" encoding="windows-1251"?>'
        '<Доверенность ВерсФорм="002" ИдФайл="ON_DOVEL_1"><Документ>'
        '<СвДов НомДовер="1" ДатаВыдДовер="01.01.2020" ДатаКонДовер="01.01.2021"/>'
        "</Документ></Доверенность>"
    ).encode("cp1251")
    error = _refused(old)
    assert error.field == "Доверенность/@ВерсФорм"
    assert "format 002" in error.rule


def test_a_missing_principal_is_refused(document: bytes, xsd: Path) -> None:
    broken = _drop(document, "<СвДоверит", "</СвДоверит>")
    assert "СвДоверит" in _refused(broken).field
    assert "СвДоверит" in _refused(broken, xsd).rule


def test_a_principal_element_without_any_party_is_refused(document: bytes) -> None:
    broken = _drop(document, "<РосОргДовер", "</РосОргДовер>")
    error = _refused(broken)
    assert error.field == "Довер/СвДоверит[1]/Доверит"
    assert "no principal" in error.rule


def test_a_principal_identified_by_neither_inn_nor_ogrn_is_refused(
    document: bytes, principal: Organisation
) -> None:
    assert principal.inn
    assert principal.ogrn
    broken = _swap(
        _swap(document, f' ИННЮЛ="{principal.inn}"', ""), f' ОГРН="{principal.ogrn}"', ""
    )
    error = _refused(broken)
    assert error.field == "Довер/СвДоверит[1]/Доверит"
    assert "neither INN nor OGRN" in error.rule


def test_a_representative_identified_by_neither_snils_nor_inn_is_refused(
    document: bytes, employee: Person
) -> None:
    text = document.decode()
    start = text.index("<СведФизЛ")
    head, tail = text[:start], text[start:]
    tail = tail.replace(f' ИННФЛ="{employee.inn}"', "", 1)
    tail = tail.split(' СНИЛС="', 1)[0] + tail.split(' СНИЛС="', 1)[1].split('"', 1)[1]
    error = _refused((head + tail).encode())
    assert error.field == "Довер/СвУпПред[1]/Пред"
    assert "neither SNILS nor INN" in error.rule


def test_a_bad_guid_is_refused_by_the_rules_and_by_the_xsd(document: bytes, xsd: Path) -> None:
    broken = _swap(document, 'НомДовер="0b6f5a4e-1c2d', 'НомДовер="zzzzzzzz-1c2d')
    error = _refused(broken)
    assert error.field == "Довер/СвДов/@НомДовер"
    assert "not a GUID" in error.rule
    assert _refused(broken, xsd).field == "СвДов/@НомДовер"


def test_reversed_dates_are_refused(
    xsd: Path, principal: Organisation, head: Person, employee: Person
) -> None:
    reversed_ = build_power_of_attorney(
        principal=principal,
        head=head,
        representatives=[employee],
        issue_date=UNTIL,
        valid_until=ISSUED,
    )
    for schema in (None, xsd):  # the XSD cannot see the order; the rules do
        error = _refused(reversed_, schema)
        assert error.field == "Довер/СвДов/@СрокДейст"
        assert "dates reversed" in error.rule


def test_a_date_that_is_not_a_date_is_refused(document: bytes) -> None:
    error = _refused(_swap(document, 'ДатаВыдДовер="2026-01-15"', 'ДатаВыдДовер="15.01.2026"'))
    assert error.field == "Довер/СвДов/@ДатаВыдДовер"


def test_a_wrong_inn_check_digit_is_refused(document: bytes, principal: Organisation) -> None:
    assert principal.inn
    wrong = principal.inn[:9] + str((int(principal.inn[9]) + 1) % 10)
    error = _refused(_swap(document, f'ИННЮЛ="{principal.inn}"', f'ИННЮЛ="{wrong}"'))
    assert error.field.endswith("СвРосОрг/@ИННЮЛ")
    assert "check digit" in error.rule


def test_a_wrong_snils_check_number_is_refused(document: bytes, employee: Person) -> None:
    assert employee.snils
    shown = f"{employee.snils[:3]}-{employee.snils[3:6]}-{employee.snils[6:9]} "
    good = shown + employee.snils[9:]
    bad = shown + f"{(int(employee.snils[9:]) + 1) % 100:02d}"
    error = _refused(_swap(document, f'СНИЛС="{good}"', f'СНИЛС="{bad}"'))
    assert error.field == "Довер/СвУпПред[1]/Пред/СведФизЛ/@СНИЛС"
    assert "check number" in error.rule


def test_machine_readable_powers_without_a_power_are_refused(document: bytes) -> None:
    broken = _drop(document, "<МашПолн", "/>")
    error = _refused(broken)
    assert error.field == "Довер/СвПолн/МашПолн"


def test_a_missing_registry_reference_is_refused(document: bytes) -> None:
    error = _refused(_drop(document, "<СведСист>", "</СведСист>"))
    assert error.field == "Довер/СвДов/СведСист"


def test_a_document_with_neither_direct_nor_redelegated_powers_is_refused(
    document: bytes,
) -> None:
    error = _refused(_drop(document, "<Довер>", "</Довер>"))
    assert error.field == "Документ"


@pytest.mark.parametrize("days", [0, 1, 365])
def test_valid_dates_in_order_are_accepted(
    days: int, principal: Organisation, head: Person, employee: Person
) -> None:
    poa = read_power_of_attorney(
        build_power_of_attorney(
            principal=principal,
            head=head,
            representatives=[employee],
            issue_date=ISSUED,
            valid_until=ISSUED + dt.timedelta(days=days),
        )
    )
    assert poa.valid_until - poa.issue_date == dt.timedelta(days=days)
