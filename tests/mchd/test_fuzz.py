"""Whatever bytes arrive, the reader gives a model or one refusal line, never a crash."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from edi_bridge.mchd import (
    InvalidPowerOfAttorney,
    build_power_of_attorney,
    read_power_of_attorney,
    synthetic_organisation,
    synthetic_person,
)

DOCUMENT = build_power_of_attorney(
    principal=synthetic_organisation(61),
    head=synthetic_person(62),
    representatives=[synthetic_person(63)],
    issue_date=dt.date(2026, 1, 1),
    valid_until=dt.date(2026, 12, 31),
)


def _read_or_refuse(data: bytes) -> None:
    refusal: InvalidPowerOfAttorney | None = None
    try:
        poa = read_power_of_attorney(data)
    except InvalidPowerOfAttorney as exc:
        refusal = exc
    if refusal is None:
        assert poa.issue_date <= poa.valid_until
    else:
        assert "\n" not in str(refusal)
        assert refusal.field


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(DOCUMENT) - 1), st.integers(0, 255)), max_size=8))
def test_changed_bytes_are_read_or_refused(changes: list[tuple[int, int]]) -> None:
    data = bytearray(DOCUMENT)
    for where, value in changes:
        data[where] = value
    _read_or_refuse(bytes(data))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(DOCUMENT)), st.integers(0, len(DOCUMENT)))
def test_cut_documents_are_read_or_refused(start: int, end: int) -> None:
    _read_or_refuse(DOCUMENT[: min(start, end)] + DOCUMENT[max(start, end) :])


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_are_refused(data: bytes) -> None:
    _read_or_refuse(data)
