from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from edi_bridge.closing.inputs import build_document, parse_batch_line, parse_upd_input
from edi_bridge.closing.model import LineInput, UpdFunction, compute_line
from edi_bridge.errors import ValidationError

from .conftest import example


def test_vat_is_rounded_half_up_per_line_and_totals_are_sums() -> None:
    line = compute_line(1, LineInput(name="SMS", quantity="3", price="0.35"), 22, False)
    # 1.05 * 22 % = 0.231 -> 0.23
    assert (line.amount, line.vat, line.total) == (
        Decimal("1.05"),
        Decimal("0.23"),
        Decimal("1.28"),
    )
    half = compute_line(2, LineInput(name="x", quantity="1", price="0.25"), 22, False)
    assert half.vat == Decimal("0.06")  # 0.055 rounds up, not to even


def test_vat_is_extracted_when_prices_include_it() -> None:
    line = compute_line(1, LineInput(name="x", quantity="1", price="1220.00"), 22, True)
    assert (line.amount, line.vat, line.total) == (
        Decimal("1000.00"),
        Decimal("220.00"),
        Decimal("1220.00"),
    )


def test_seller_outside_vat_charges_none(novat_input) -> None:  # type: ignore[no-untyped-def]
    doc = build_document(novat_input, novat_input.period, novat_input.seller, novat_input.buyer)
    assert doc.vat == 0
    assert all(x.vat_rate is None for x in doc.lines)
    assert doc.function is UpdFunction.TRANSFER


def test_vat_paying_buyer_gets_the_invoice_function(vat_input) -> None:  # type: ignore[no-untyped-def]
    doc = build_document(vat_input, vat_input.period, vat_input.seller, vat_input.buyer)
    assert doc.function is UpdFunction.INVOICE_AND_TRANSFER
    assert doc.vat == sum(x.vat for x in doc.lines) > 0
    assert doc.total == doc.amount + doc.vat


def test_buyer_outside_vat_gets_a_transfer_document_with_vat(vat_input) -> None:  # type: ignore[no-untyped-def]
    buyer = vat_input.buyer.model_copy(update={"vat_payer": False})
    doc = build_document(vat_input, vat_input.period, vat_input.seller, buyer)
    assert doc.function is UpdFunction.TRANSFER
    assert doc.vat > 0


def test_float_amounts_are_refused_naming_the_field() -> None:
    data = example("upd-vat.json")
    data["lines"][0]["price"] = 1.35
    with pytest.raises(ValidationError) as err:
        parse_upd_input(data)
    assert err.value.field == "lines.0.price"
    assert "string" in err.value.rule


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"period": "2026-13"}, "period"),
        ({"lines": []}, "lines"),
        ({"number": ""}, "number"),
    ],
)
def test_bad_input_names_the_field(change: dict[str, object], field: str) -> None:
    data = example("upd-vat.json") | change
    with pytest.raises(ValidationError) as err:
        parse_upd_input(data)
    assert err.value.field.startswith(field)


def test_bad_seller_vat_rate_is_refused() -> None:
    data = example("upd-vat.json")
    data["seller"]["vat_rate"] = 19
    with pytest.raises(ValidationError) as err:
        parse_upd_input(data)
    assert err.value.field == "seller.vat_rate"


def test_batch_line_refuses_duplicate_numbers() -> None:
    data = example("upd-vat.json")
    doc = {"number": "1", "date": "2026-03-31", "lines": data["lines"]}
    line = {"counterparty": data["buyer"], "documents": [doc, doc]}
    import json

    with pytest.raises(ValidationError) as err:
        parse_batch_line(json.dumps(line), 7)
    assert err.value.field == "line 7.documents"


def test_act_needs_its_file() -> None:
    data = example("upd-vat.json")
    line = {
        "counterparty": data["buyer"],
        "documents": [{"kind": "act", "number": "A-1", "date": str(dt.date(2026, 3, 31))}],
    }
    import json

    with pytest.raises(ValidationError) as err:
        parse_batch_line(json.dumps(line), 1)
    assert err.value.field == "line 1.documents.0.files"


def test_sample_batch_and_seller_parse() -> None:
    from edi_bridge.closing.inputs import parse_seller

    from .conftest import EXAMPLES

    parse_seller((EXAMPLES / "seller.json").read_bytes())
    raw = (EXAMPLES / "batch.jsonl").read_bytes().splitlines()
    lines = [parse_batch_line(r, i) for i, r in enumerate(raw, start=1)]
    assert [len(x.documents) for x in lines] == [1, 1]
