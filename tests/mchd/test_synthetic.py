"""The synthetic builder makes documents the official XSD accepts, for invented
parties with well-formed identifiers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from edi_bridge.mchd import (
    Original,
    Redelegation,
    build_power_of_attorney,
    build_redelegation,
    synthetic_organisation,
    synthetic_person,
)
from edi_bridge.mchd.rules import snils_problem
from edi_bridge.requisites import check_inn, check_kpp, check_ogrn


@pytest.fixture(scope="module")
def schema(xsd: Path) -> etree.XMLSchema:
    (path,) = xsd.glob("ON_EMCHD_1_*.xsd")
    return etree.XMLSchema(etree.parse(str(path)))


def _assert_valid(schema: etree.XMLSchema, data: bytes) -> None:
    root = etree.fromstring(data)
    log: Any = schema.error_log
    assert schema.validate(root), [e.message for e in log]


@pytest.mark.parametrize("seed", [0, 1, 42, 99_999, 123_456_789])
def test_synthetic_parties_have_well_formed_identifiers(seed: int) -> None:
    person = synthetic_person(seed)
    org = synthetic_organisation(seed)
    assert person.inn
    assert check_inn(person.inn) is None
    assert len(person.inn) == 12
    assert person.snils
    assert snils_problem(person.snils) is None
    assert org.inn
    assert check_inn(org.inn) is None
    assert len(org.inn) == 10
    assert org.kpp
    assert check_kpp(org.kpp) is None
    assert org.ogrn
    assert check_ogrn(org.ogrn) is None


@pytest.mark.parametrize(
    ("powers", "revocable", "redelegation", "representatives"),
    [
        ((("SYNTHETIC_SIGN_DOCS", "Подписание документов"),), True, Redelegation.NONE, 1),
        ((("CODE_A", "Первое"), ("CODE_B", "Второе")), False, Redelegation.ONCE, 2),
        ("Подписывать договоры и акты", True, Redelegation.SUCCESSIVE, 1),
    ],
)
def test_direct_documents_are_valid_against_the_xsd(
    schema: etree.XMLSchema,
    powers: tuple[tuple[str, str], ...] | str,
    revocable: bool,
    redelegation: Redelegation,
    representatives: int,
) -> None:
    data = build_power_of_attorney(
        principal=synthetic_organisation(3, 'АО "Образец & Ко"'),
        head=synthetic_person(4, position="Генеральный директор"),
        representatives=[synthetic_person(10 + n) for n in range(representatives)],
        issue_date=dt.date(2026, 3, 1),
        valid_until=dt.date(2026, 12, 31),
        powers=powers,
        revocable=revocable,
        redelegation=redelegation,
    )
    _assert_valid(schema, data)


def test_an_organisation_representative_is_valid_against_the_xsd(
    schema: etree.XMLSchema,
) -> None:
    data = build_power_of_attorney(
        principal=synthetic_organisation(5),
        head=synthetic_person(6),
        representatives=[synthetic_organisation(7)],
        issue_date=dt.date(2026, 3, 1),
        valid_until=dt.date(2026, 12, 31),
    )
    _assert_valid(schema, data)


def test_a_redelegation_is_valid_against_the_xsd(schema: etree.XMLSchema) -> None:
    data = build_redelegation(
        original=Original(
            synthetic_organisation(8),
            "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
            dt.date(2026, 1, 1),
            dt.date(2026, 12, 31),
        ),
        transferred_by=synthetic_person(9),
        representatives=[synthetic_person(10)],
        issue_date=dt.date(2026, 2, 1),
        valid_until=dt.date(2026, 6, 30),
    )
    _assert_valid(schema, data)


def test_synthetic_documents_say_they_are_synthetic() -> None:
    data = build_power_of_attorney(
        principal=synthetic_organisation(1),
        head=synthetic_person(2),
        representatives=[synthetic_person(3)],
        issue_date=dt.date(2026, 1, 1),
        valid_until=dt.date(2026, 2, 1),
    )
    assert "Синтетический".encode() in data
