"""Counterparty requisites: exactly the documented fields, each rule named."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edi_bridge import ValidationError, parse_counterparty
from edi_bridge.requisites import complete_inn, complete_ogrn
from edi_bridge.testing.samples import sample_counterparty_data


def _refused(data: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse_counterparty(data)
    return info.value


def test_sample_legal_entity_is_accepted() -> None:
    cp = parse_counterparty(sample_counterparty_data())
    assert cp.is_organisation
    assert cp.key == f"{cp.inn}-{cp.kpp}"


def test_sole_proprietor_has_no_kpp_and_a_15_digit_ogrnip() -> None:
    data = sample_counterparty_data(inn=complete_inn("5001007322"), ogrn="304500116000157")
    data["kpp"] = None
    cp = parse_counterparty(data)
    assert not cp.is_organisation
    data["kpp"] = "500101001"
    assert _refused(data).field == "kpp"


def test_legal_entity_needs_kpp() -> None:
    data = sample_counterparty_data()
    del data["kpp"]
    err = _refused(data)
    assert err.field == "kpp"
    assert "required" in err.rule


def test_legal_entity_needs_13_digit_ogrn() -> None:
    err = _refused(sample_counterparty_data(ogrn="304500116000157"))
    assert err.field == "ogrn"
    assert "13 digits" in err.rule


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"inn": "7707083894"}, "inn"),
        ({"ogrn": "1027700132194"}, "ogrn"),
        ({"kpp": "77070100"}, "kpp"),
        ({"contact": {"name": "A", "phone": "+7 495 1234567", "email": "no-at-sign"}}, "email"),
        ({"closing_documents": {"email": "x@", "postal_address": "Москва"}}, "email"),
        ({"signatory": {"full_name": "  ", "position": "Директор"}}, "signatory.full_name"),
        ({"signatory": {"full_name": "Иванов", "position": ""}}, "signatory.position"),
        ({"vat_payer": "yes"}, "vat_payer"),
        ({"inn": 7707083893}, "inn"),
    ],
)
def test_each_bad_requisite_is_refused_naming_its_field(
    override: dict[str, Any], field: str
) -> None:
    err = _refused(sample_counterparty_data(**override))
    assert field in err.field
    assert err.rule
    assert field in str(err)


def test_unknown_field_is_an_error() -> None:
    err = _refused(sample_counterparty_data(website="https://example.ru"))
    assert err.field == "website"
    assert err.rule == "unknown field"


def test_missing_field_is_named() -> None:
    data = sample_counterparty_data()
    del data["username"]
    assert _refused(data).field == "username"


@pytest.mark.parametrize(
    ("operator", "participant", "ok"),
    [
        ("diadoc", "2BM-7707083893-770701001-201801010000000000000", True),
        ("sbis", "2BE1234567890", True),
        ("diadoc", "2BE1234567890", False),
        ("sbis", "2BM-7707083893", False),
        ("kontur-roaming", "2AL-1234", True),  # unknown operators are not second-guessed
    ],
)
def test_participant_prefix_must_match_operator(operator: str, participant: str, ok: bool) -> None:
    data = sample_counterparty_data(edi=[{"operator": operator, "participant_id": participant}])
    if ok:
        assert parse_counterparty(data).edi[0].participant_id == participant
    else:
        err = _refused(data)
        assert err.field.startswith("edi.0")
        assert "prefix" in err.rule


def test_json_text_and_bad_json() -> None:
    text = json.dumps(sample_counterparty_data())
    assert parse_counterparty(text).name
    assert _refused_text("{nope").field == "counterparty"
    assert _refused_text("[]").rule == "must be a JSON object"


def _refused_text(text: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse_counterparty(text)
    return info.value


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(
    field=st.sampled_from(sorted(sample_counterparty_data())),
    value=_json_values,
)
def test_any_malformed_field_is_refused_with_the_library_error(field: str, value: Any) -> None:
    data = sample_counterparty_data()
    data[field] = value
    problem: ValidationError | None = None
    try:
        parse_counterparty(data)
    except ValidationError as err:
        problem = err
    # Some random values are valid (any text is a name); anything else must be
    # refused with the library's error, naming the field that was broken.
    if problem is not None:
        assert problem.field.split(".")[0] in {field, "kpp", "ogrn"}


@given(st.from_regex(r"[0-9]{9}", fullmatch=True), st.from_regex(r"[0-9]{12}", fullmatch=True))
def test_generated_valid_requisites_are_accepted(inn_prefix: str, ogrn_prefix: str) -> None:
    data = sample_counterparty_data(inn=complete_inn(inn_prefix), ogrn=complete_ogrn(ogrn_prefix))
    assert parse_counterparty(data).inn == data["inn"]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("name",), "ООО «Рога\x0bи копыта»"),
        (("signatory", "full_name"), "Иванов\x00Иван Иванович"),
        (("contract_postal_address",), "101000, Москва\x1b[31m"),
        (("edi", 0, "participant_id"), "2BM-7707083893-\x00"),
    ],
)
def test_control_characters_in_requisites_are_refused_naming_the_field(
    path: tuple[str | int, ...], value: str
) -> None:
    data = sample_counterparty_data("control")
    if path[0] == "edi":
        data["edi"] = [{"operator": "diadoc", "participant_id": value}]
    else:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
    with pytest.raises(ValidationError) as info:
        parse_counterparty(data)
    assert info.value.field == ".".join(str(p) for p in path)
    assert "control characters" in info.value.rule


def test_tabs_and_line_breaks_in_requisites_are_kept() -> None:
    data = sample_counterparty_data("control")
    data["contract_postal_address"] = "101000, Москва,\nул. Примерная, д. 1"
    assert parse_counterparty(data).contract_postal_address.endswith("д. 1")
