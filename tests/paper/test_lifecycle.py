"""The paper lifecycle: legal and illegal steps, the backend events they raise."""

from __future__ import annotations

import datetime as dt

import pytest

from edi_bridge import Bridge, Event
from edi_bridge.errors import IllegalTransition, ValidationError
from edi_bridge.models import (
    EDI_TRANSITIONS,
    PAPER_TRANSITIONS,
    Channel,
    EventKind,
    ExchangeStatus,
    allowed_transitions,
)
from edi_bridge.testing.samples import sample_scan

from .conftest import RP_BARCODE, paper_exchange

S = ExchangeStatus


def test_paper_channel_has_its_own_lifecycle() -> None:
    # A prepared exchange is posted, or cancelled by hand before it is.
    assert allowed_transitions(Channel.PAPER, S.PREPARED) == {S.DISPATCHED, S.CANCELLED}
    assert allowed_transitions(Channel.PAPER, S.SCAN_RECEIVED) == {S.SIGNED}
    assert allowed_transitions(Channel.PAPER, S.SIGNED) == frozenset()
    # The EDI lifecycle is untouched by the paper statuses.
    assert S.PREPARED not in EDI_TRANSITIONS
    assert set(PAPER_TRANSITIONS) >= {S.RETURNED, S.LOST}


def test_courier_round_trip_ends_signed_with_every_step_in_history(bridge: Bridge) -> None:
    seen: list[Event] = []
    bridge.on("*", seen.append)
    exchange = paper_exchange(bridge)
    bridge.paper.dispatch(exchange.id, "courier", "КУР-0042")
    bridge.paper.mark(exchange.id, "delivered", "handed to the secretary")
    scanned = bridge.paper.scan_received(exchange.id, sample_scan(), "scan.pdf")
    assert scanned.status == S.SCAN_RECEIVED
    done = bridge.paper.originals_received(exchange.id)
    assert done.status == S.SIGNED
    assert [h.status for h in done.history] == [
        "prepared",
        "prepared",  # paper.scan_email is not set: said so in the history
        "dispatched",
        "delivered",
        "scan_received",
        "signed",
    ]
    assert [e.kind for e in seen] == [
        "prepared",
        "dispatched",
        "delivered",
        "scan_received",
        "signed",
    ]
    assert done.provider_ref == {"carrier": "courier", "tracking": "КУР-0042"}
    assert [s.role for s in done.signatures] == ["scan"]


def test_scan_emits_the_temporary_activation_event(bridge: Bridge) -> None:
    exchange = paper_exchange(bridge)
    bridge.paper.dispatch(exchange.id, "russianpost", RP_BARCODE)
    bridge.paper.scan_received(exchange.id, sample_scan(), "scan.jpg")
    events = [e for e in bridge.events() if e.kind == EventKind.SCAN_RECEIVED]
    assert len(events) == 1
    assert events[0].exchange_id == exchange.id
    assert events[0].data["temporary_activation"] is True
    assert dt.date.fromisoformat(events[0].data["originals_due"]) > dt.date.today()


@pytest.mark.parametrize(
    ("step", "current"),
    [
        (lambda b, i: b.paper.scan_received(i, sample_scan(), "s.pdf"), "prepared"),
        (lambda b, i: b.paper.originals_received(i), "prepared"),
        (lambda b, i: b.paper.mark(i, "delivered"), "prepared"),
    ],
)
def test_steps_out_of_order_are_refused(bridge: Bridge, step: object, current: str) -> None:
    exchange = paper_exchange(bridge)
    with pytest.raises(IllegalTransition) as err:
        step(bridge, exchange.id)  # type: ignore[operator]
    assert err.value.current == current
    assert bridge.status(exchange.id).status == S.PREPARED


def test_dispatching_a_signed_exchange_again_changes_nothing(bridge: Bridge) -> None:
    exchange = paper_exchange(bridge)
    bridge.paper.dispatch(exchange.id, "courier", "A-1")
    signed = bridge.paper.originals_received(exchange.id)
    again = bridge.paper.dispatch(exchange.id, "courier", "A-2")
    assert again.status == S.SIGNED
    assert again.history == signed.history


def test_invalid_tracking_number_is_refused_and_nothing_changes(bridge: Bridge) -> None:
    exchange = paper_exchange(bridge)
    with pytest.raises(ValidationError) as err:
        bridge.paper.dispatch(exchange.id, "russianpost", "11741865001807")
    assert err.value.field == "tracking"
    with pytest.raises(ValidationError) as unknown:
        bridge.paper.dispatch(exchange.id, "pigeon", "1")
    assert unknown.value.field == "carrier"
    after = bridge.status(exchange.id)
    assert after.status == S.PREPARED
    assert len(after.history) == 2  # prepared, and the unset paper.scan_email


def test_one_tracking_number_serves_one_exchange(bridge: Bridge) -> None:
    first = paper_exchange(bridge, "one")
    second = paper_exchange(bridge, "two")
    bridge.paper.dispatch(first.id, "russianpost", RP_BARCODE)
    with pytest.raises(ValidationError, match=f"already used for {first.id}"):
        bridge.paper.dispatch(second.id, "russianpost", RP_BARCODE)


def test_returned_shipment_needs_attention_and_can_be_posted_again(bridge: Bridge) -> None:
    exchange = paper_exchange(bridge)
    bridge.paper.dispatch(exchange.id, "courier", "A-1")
    returned = bridge.paper.mark(exchange.id, "returned", "nobody at the address")
    assert returned.needs_attention
    assert returned.reason == "set by hand: nobody at the address"
    again = bridge.paper.dispatch(exchange.id, "courier", "A-2")
    assert again.status == S.DISPATCHED
    assert not again.needs_attention


def test_overdue_originals_raise_one_event(bridge: Bridge) -> None:
    exchange = paper_exchange(bridge)
    bridge.paper.dispatch(exchange.id, "courier", "A-1")
    bridge.paper.scan_received(exchange.id, sample_scan(), "scan.pdf")
    assert bridge.paper.check_overdue() == 0
    late = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    assert bridge.paper.check_overdue(now=late) == 1
    assert bridge.paper.check_overdue(now=late) == 0  # once per scan
    overdue = [e for e in bridge.events() if e.kind == EventKind.ORIGINALS_OVERDUE]
    assert [e.exchange_id for e in overdue] == [exchange.id]
    assert overdue[0].reason == "originals not received within 30 days of the scan"
    assert bridge.status(exchange.id).needs_attention
    # The originals arriving late still conclude it and clear the flag.
    done = bridge.paper.originals_received(exchange.id)
    assert done.status == S.SIGNED
    assert not done.needs_attention


def test_deadline_is_configurable(tmp_path: object) -> None:
    from pathlib import Path

    from .conftest import open_bridge

    with open_bridge(Path(str(tmp_path)), **{"paper.originals_deadline_days": "3"}) as bridge:
        exchange = paper_exchange(bridge)
        bridge.paper.dispatch(exchange.id, "courier", "A-1")
        bridge.paper.scan_received(exchange.id, sample_scan(), "scan.pdf")
        assert bridge.paper.check_overdue(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=4)) == 1


def test_empty_scan_is_refused(bridge: Bridge) -> None:
    exchange = paper_exchange(bridge)
    bridge.paper.dispatch(exchange.id, "courier", "A-1")
    with pytest.raises(ValidationError) as err:
        bridge.paper.scan_received(exchange.id, b"", "scan.pdf")
    assert err.value.field == "file"
    with pytest.raises(ValidationError):
        bridge.paper.scan_received(exchange.id, sample_scan(), "../scan.pdf")
    assert bridge.status(exchange.id).status == S.DISPATCHED


def test_edi_exchange_is_not_handled_as_paper(bridge: Bridge) -> None:
    from edi_bridge.testing import sample_counterparty
    from edi_bridge.testing.samples import sample_contract

    edi = bridge.send(sample_counterparty("e"), sample_contract("E-1"), provider="mock")
    with pytest.raises(ValidationError) as err:
        bridge.paper.dispatch(edi.id, "courier", "A-1")
    assert err.value.field == "exchange_id"
