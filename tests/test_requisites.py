"""Check digits of INN, OGRN, OGRNIP and the KPP pattern (PROTOCOLS §7)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edi_bridge.requisites import (
    check_inn,
    check_kpp,
    check_ogrn,
    check_ogrnip,
    complete_inn,
    complete_ogrn,
)


@pytest.mark.parametrize("inn", ["7707083893", "7736207543", "500100732259", "773173084809"])
def test_published_inns_are_valid(inn: str) -> None:
    assert check_inn(inn) is None


@pytest.mark.parametrize(
    ("inn", "rule"),
    [
        ("7707083894", "check digit"),
        ("500100732258", "check digits"),
        ("770708389", "10 digits"),
        ("77070838933", "10 digits"),
        ("77070838a3", "10 digits"),
        ("７７０７０８３８９３", "10 digits"),  # full-width digits are not ASCII
    ],
)
def test_bad_inns_name_the_rule(inn: str, rule: str) -> None:
    problem = check_inn(inn)
    assert problem is not None
    assert rule in problem


def test_ogrn_and_ogrnip_check_digits() -> None:
    assert check_ogrn("1027700132195") is None
    assert check_ogrn("1027700132194") == "check digit does not match"
    assert check_ogrn("102770013219") is not None
    assert check_ogrnip("304500116000157") is None
    assert check_ogrnip("304500116000158") == "check digit does not match"
    assert check_ogrnip("1027700132195") is not None


@pytest.mark.parametrize("kpp", ["770701001", "77070A001", "7707AB001"])
def test_valid_kpp(kpp: str) -> None:
    assert check_kpp(kpp) is None


@pytest.mark.parametrize("kpp", ["77070100", "0007010011", "770701a01", "7707010AB"])
def test_invalid_kpp(kpp: str) -> None:
    assert check_kpp(kpp) is not None


@given(st.from_regex(r"[0-9]{9}", fullmatch=True) | st.from_regex(r"[0-9]{10}", fullmatch=True))
def test_completed_inn_is_valid_and_any_single_digit_change_breaks_it(prefix: str) -> None:
    inn = complete_inn(prefix)
    assert check_inn(inn) is None
    last = inn[-1]
    changed = inn[:-1] + str((int(last) + 1) % 10)
    assert check_inn(changed) is not None


@given(st.from_regex(r"[1-9][0-9]{11}", fullmatch=True))
def test_completed_ogrn_is_valid(prefix: str) -> None:
    ogrn = complete_ogrn(prefix)
    assert check_ogrn(ogrn) is None
    assert check_ogrn(ogrn[:-1] + str((int(ogrn[-1]) + 1) % 10)) is not None
