"""Reading EMCHD_1: a synthetic document becomes the typed model, checked against
the official XSD when it is given and by the business rules always."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from edi_bridge.mchd import (
    InvalidPowerOfAttorney,
    Organisation,
    Original,
    Person,
    PrincipalKind,
    Redelegation,
    RepresentativeKind,
    build_power_of_attorney,
    build_redelegation,
    read_power_of_attorney,
    synthetic_organisation,
    synthetic_person,
)

from .conftest import ISSUED, UNTIL


def test_a_synthetic_document_reads_into_the_model(
    document: bytes, xsd: Path, principal: Organisation, head: Person, employee: Person
) -> None:
    poa = read_power_of_attorney(document, schema=xsd)
    assert poa.number == "0b6f5a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
    assert poa.internal_number == "МЧД-7"
    assert (poa.issue_date, poa.valid_until) == (ISSUED, UNTIL)
    assert poa.revocable
    assert poa.redelegation is Redelegation.NONE
    assert not poa.is_redelegation
    (who,) = poa.principals
    assert who.kind is PrincipalKind.ORGANISATION
    assert who.organisation == principal
    assert who.heads == (head,)
    (rep,) = poa.representatives
    assert rep.kind is RepresentativeKind.PERSON
    assert rep.person == employee
    assert poa.powers.machine_readable
    assert poa.powers.codes == {"SYNTHETIC_SIGN_DOCS"}
    assert poa.registry.endswith(poa.number)


def test_the_model_serialises_to_json_ready_data(document: bytes) -> None:
    poa = read_power_of_attorney(document)
    data = poa.to_dict()
    assert data["issue_date"] == "2026-01-15"
    assert data["principals"][0]["organisation"]["inn"] == poa.principals[0].inn
    summary = poa.summary()
    assert summary["representative"][0]["snils"] == poa.representatives[0].person.snils  # type: ignore[union-attr]


def test_a_file_path_reads_like_bytes(document: bytes, tmp_path: Path) -> None:
    path = tmp_path / "poa.xml"
    path.write_bytes(document)
    assert read_power_of_attorney(path) == read_power_of_attorney(document)


def test_a_text_power_of_attorney_carries_its_text(
    xsd: Path, principal: Organisation, head: Person, employee: Person
) -> None:
    data = build_power_of_attorney(
        principal=principal,
        head=head,
        representatives=[employee],
        issue_date=ISSUED,
        valid_until=UNTIL,
        powers="Подписывать договоры поставки и акты",
    )
    poa = read_power_of_attorney(data, schema=xsd)
    assert not poa.powers.machine_readable
    assert poa.powers.text == "Подписывать договоры поставки и акты"
    assert poa.powers.codes == frozenset()


def test_an_organisation_can_be_the_representative(
    xsd: Path, principal: Organisation, head: Person
) -> None:
    agent = synthetic_organisation(77, "ООО «Агент»")
    poa = read_power_of_attorney(
        build_power_of_attorney(
            principal=principal,
            head=head,
            representatives=[agent],
            issue_date=ISSUED,
            valid_until=UNTIL,
        ),
        schema=xsd,
    )
    (rep,) = poa.representatives
    assert rep.kind is RepresentativeKind.ORGANISATION
    assert rep.organisation == agent


def test_a_redelegation_names_the_original_and_who_passed_the_powers_on(
    xsd: Path, principal: Organisation, employee: Person
) -> None:
    deputy = synthetic_person(14)
    original = Original(principal, "11111111-2222-4333-8444-555555555555", ISSUED, UNTIL)
    poa = read_power_of_attorney(
        build_redelegation(
            original=original,
            transferred_by=employee,
            representatives=[deputy],
            issue_date=ISSUED + dt.timedelta(days=10),
            valid_until=UNTIL - dt.timedelta(days=10),
        ),
        schema=xsd,
    )
    assert poa.is_redelegation
    assert poa.delegation is not None
    assert poa.delegation.original_number == original.number
    assert poa.principals[0].organisation == principal
    assert poa.delegation.transferred_by[0].person is not None
    assert poa.delegation.transferred_by[0].person.snils == employee.snils
    assert poa.representatives[0].person == deputy


def test_a_configured_schema_is_used_from_the_environment(
    document: bytes, xsd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDI_BRIDGE_MCHD_SCHEMA", str(xsd))
    broken = document.replace('ПрЭлФорм="00000000"'.encode(), 'ПрЭлФорм="2"'.encode())
    assert broken != document
    with pytest.raises(InvalidPowerOfAttorney) as caught:
        read_power_of_attorney(broken)
    assert "XSD" in str(caught.value)
    assert "ПрЭлФорм" in caught.value.field
