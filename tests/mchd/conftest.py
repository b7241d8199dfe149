"""The official EMCHD_1 XSD (reference data, read in place) and synthetic parties."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from reference import require_reference

from edi_bridge.mchd import (
    Organisation,
    Person,
    build_power_of_attorney,
    synthetic_organisation,
    synthetic_person,
)

ISSUED = dt.date(2026, 1, 15)
UNTIL = dt.date(2027, 1, 14)


@pytest.fixture(scope="session")
def xsd() -> Path:
    return require_reference("mchd")


@pytest.fixture(scope="session")
def principal() -> Organisation:
    return synthetic_organisation(11)


@pytest.fixture(scope="session")
def head() -> Person:
    return synthetic_person(12, position="Генеральный директор")


@pytest.fixture(scope="session")
def employee() -> Person:
    return synthetic_person(13, position="Менеджер по продажам")


@pytest.fixture
def document(principal: Organisation, head: Person, employee: Person) -> bytes:
    return build_power_of_attorney(
        principal=principal,
        head=head,
        representatives=[employee],
        issue_date=ISSUED,
        valid_until=UNTIL,
        number="0b6f5a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b",
        internal_number="МЧД-7",
    )
