"""Tracking number rules: Russian Post domestic and S10 check digits, CDEK, couriers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edi_bridge.errors import ValidationError
from edi_bridge.paper.tracking import (
    check_cdek,
    check_free_form,
    check_russian_post,
    domestic_check_digit,
    russian_post_rule,
    s10_check_digit,
)


@pytest.mark.parametrize(
    ("first13", "check"),
    [("1174186500180", 6), ("1010000000000", 4), ("0000000000000", 0)],
)
def test_domestic_check_digit(first13: str, check: int) -> None:
    assert domestic_check_digit(first13) == check


@pytest.mark.parametrize(
    ("serial", "check"),
    # 00000000: S = 0 -> C = 11 -> 5; 00000001: S = 7 -> 4; 00000010: S = 9 -> 2.
    [("12345678", 5), ("00000000", 5), ("00000001", 4), ("00000010", 2)],
)
def test_s10_check_digit(serial: str, check: int) -> None:
    assert s10_check_digit(serial) == check


def test_s10_remainder_one_gives_zero() -> None:
    # 00000008: S = 8*7 = 56, 56 mod 11 = 1, C = 10 -> 0.
    assert s10_check_digit("00000008") == 0


@pytest.mark.parametrize(
    "number", ["11741865001806", "1174 1865 0018 06", "RA123456785RU", "ra 123456785 ru"]
)
def test_valid_russian_post_numbers_are_accepted_in_canonical_form(number: str) -> None:
    value = check_russian_post(number)
    assert value == value.upper().replace(" ", "")
    assert russian_post_rule(value) is None


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("11741865001807", "check digit (14th)"),
        ("RA123456789RU", "S10 check digit"),
        ("1174186500180", "must be 14 digits"),
        ("RA12345678RU", "must be 14 digits"),
        ("", "must be 14 digits"),
    ],
)
def test_invalid_russian_post_numbers_are_refused_naming_the_rule(number: str, rule: str) -> None:
    with pytest.raises(ValidationError) as err:
        check_russian_post(number)
    assert err.value.field == "tracking"
    assert rule in err.value.rule


def test_cdek_numbers_are_digits() -> None:
    assert check_cdek("1234 567 890") == "1234567890"
    with pytest.raises(ValidationError, match="6 to 20 digits"):
        check_cdek("12AB34")


def test_courier_waybills_are_free_form_but_bounded() -> None:
    assert check_free_form("  КУР-42 ") == "КУР-42"
    with pytest.raises(ValidationError):
        check_free_form(" ")
    with pytest.raises(ValidationError):
        check_free_form("x" * 65)


@given(st.text(alphabet="0123456789", min_size=13, max_size=13), st.integers(1, 9))
def test_any_domestic_barcode_with_its_check_digit_passes_and_a_wrong_one_fails(
    first13: str, shift: int
) -> None:
    good = first13 + str(domestic_check_digit(first13))
    bad = first13 + str((domestic_check_digit(first13) + shift) % 10)
    assert russian_post_rule(good) is None
    assert russian_post_rule(bad) is not None


@given(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)
def test_any_s10_identifier_with_its_check_digit_passes(prefix: str, serial: str) -> None:
    assert russian_post_rule(f"{prefix}{serial}{s10_check_digit(serial)}RU") is None
