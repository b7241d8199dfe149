"""The carrier contract: what every tracking carrier adapter must do, against its fake.

A test module subclasses :class:`CarrierContract` and sets what differs per carrier::

    class TestCdekCarrier(CarrierContract):
        carrier = "cdek"
        number = "1234567890"
        bad_numbers = ("123", "12345678901234567890", "ABCDEFGHIJ")
        reports_lost = False  # CDEK documents no "lost" status
        other_number = "1234567891"
        invalid_number = "1234567899"  # CDEK plays INVALID for numbers in its "invalid" option

The suite serves the carrier's fake (``edi-bridge mock serve NAME`` does the same) with
a shipment scenario (:mod:`edi_bridge.paper.scenario`), points a Bridge at it with the
settings the fake gives (:meth:`edi_bridge.fakes.base.FakeApp.settings`), and proves:
dispatch, tracking to delivered (once, however often polled, also after some queries),
returned, lost (or, for a carrier that documents no such status, never taken for
delivered), bad tracking numbers refused at dispatch naming the field, an answer about
another shipment refused as an error (the fake's ``answer_number`` plays it) and, for a
carrier that documents one, an order it refuses (``invalid_number``, named to the fake in
its ``invalid`` option) needing attention without moving.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import pytest

from ..errors import ProviderError, ValidationError
from ..fakes.base import FakeApp
from ..fakes.server import FakeOptions, FakeServer, load_fake
from ..models import Exchange, ExchangeStatus
from ..paper.carrier import ShipmentStatus
from ..workflow import Bridge
from .samples import sample_contract, sample_counterparty


class CarrierContract:
    """Subclass and set ``carrier``, ``number``, ``other_number``, ``bad_numbers``,
    ``reports_lost`` and, where the carrier has one, ``invalid_number``."""

    carrier: ClassVar[str] = ""
    number: ClassVar[str] = ""  # a valid tracking number the fake knows
    bad_numbers: ClassVar[tuple[str, ...]] = ()  # numbers the carrier's own rule refuses
    reports_lost: ClassVar[bool] = True  # whether the carrier documents a "lost" status
    other_number: ClassVar[str] = ""  # another valid number (an answer about the wrong one)
    invalid_number: ClassVar[str] = ""  # a number the fake plays as an order refused

    @contextmanager
    def bridge_on(
        self, tmp_path: Path, scenario: str, **extra: str
    ) -> Iterator[tuple[Bridge, FakeApp]]:
        """A Bridge pointed at the carrier's fake playing ``scenario``, and the fake."""
        fake = load_fake(self.carrier, FakeOptions(scenario=scenario, extra=extra))
        assert isinstance(fake, FakeApp)
        with FakeServer(fake) as server:
            settings = fake.settings(server.url)
            settings[f"{fake.section}.rate"] = "1000"  # the polite default pauses a second
            with Bridge.open(tmp_path / "edi.db", settings=settings) as bridge:
                yield bridge, fake

    @staticmethod
    def paper_exchange(bridge: Bridge, seed: str = "carrier") -> Exchange:
        """A contract to a counterparty without EDI: routed to paper."""
        return bridge.send(sample_counterparty(seed, edi=[]), sample_contract(f"P-{seed}"))

    def test_a_dispatched_shipment_is_tracked_to_delivered_once(self, tmp_path: Path) -> None:
        with self.bridge_on(tmp_path, "delivered") as (bridge, _fake):
            exchange = self.paper_exchange(bridge)
            bridge.paper.dispatch(exchange.id, self.carrier, self.number)
            assert bridge.status(exchange.id).status == ExchangeStatus.DISPATCHED
            assert [c.kind for c in bridge.poll([self.carrier])] == ["delivered"]
            after = bridge.status(exchange.id)
            assert after.status == ExchangeStatus.DELIVERED
            # Polling again changes nothing twice.
            assert bridge.poll([self.carrier]) == []
            assert len(bridge.status(exchange.id).history) == len(after.history)

    def test_delivery_after_some_queries(self, tmp_path: Path) -> None:
        with self.bridge_on(tmp_path, "delivered-after:3") as (bridge, _fake):
            exchange = self.paper_exchange(bridge)
            bridge.paper.dispatch(exchange.id, self.carrier, self.number)
            statuses = []
            for _ in range(3):
                bridge.poll([self.carrier])
                statuses.append(bridge.status(exchange.id).status)
            assert statuses == ["dispatched", "dispatched", "delivered"]

    def test_a_returned_shipment_needs_attention(self, tmp_path: Path) -> None:
        with self.bridge_on(tmp_path, "returned") as (bridge, _fake):
            exchange = self.paper_exchange(bridge)
            bridge.paper.dispatch(exchange.id, self.carrier, self.number)
            assert [c.kind for c in bridge.poll([self.carrier])] == ["returned"]
            after = bridge.status(exchange.id)
            assert after.status == ExchangeStatus.RETURNED
            assert after.needs_attention

    def test_a_lost_shipment_is_reported_or_never_taken_for_delivered(self, tmp_path: Path) -> None:
        with self.bridge_on(tmp_path, "lost") as (bridge, _fake):
            exchange = self.paper_exchange(bridge)
            bridge.paper.dispatch(exchange.id, self.carrier, self.number)
            for _ in range(3):
                bridge.poll([self.carrier])
            after = bridge.status(exchange.id)
            if self.reports_lost:
                assert after.status == ExchangeStatus.LOST
                assert after.needs_attention
            else:
                # No documented status: the shipment stays out, its failure in the history.
                assert after.status == ExchangeStatus.DISPATCHED
                records = bridge.paper.carrier(self.carrier).track(self.number)
                assert records[-1].status == ShipmentStatus.DELIVERY_FAILED

    def test_bad_tracking_numbers_are_refused_at_dispatch_naming_the_field(
        self, tmp_path: Path
    ) -> None:
        assert self.bad_numbers, "name at least one number the carrier's rule refuses"
        with self.bridge_on(tmp_path, "delivered") as (bridge, _fake):
            exchange = self.paper_exchange(bridge)
            before = bridge.status(exchange.id)
            for bad in self.bad_numbers:
                with pytest.raises(ValidationError) as refused:
                    bridge.paper.dispatch(exchange.id, self.carrier, bad)
                assert refused.value.field == "tracking", bad
            after = bridge.status(exchange.id)
            assert after.status == before.status
            assert len(after.history) == len(before.history)

    def test_an_answer_about_another_shipment_is_an_error_not_a_status(
        self, tmp_path: Path
    ) -> None:
        assert self.other_number, "name another valid number"
        with self.bridge_on(tmp_path, "delivered") as (bridge, fake):
            exchange = self.paper_exchange(bridge)
            bridge.paper.dispatch(exchange.id, self.carrier, self.number)
            fake.answer_number = self.other_number  # type: ignore[attr-defined]
            with pytest.raises(ProviderError, match=self.other_number):
                bridge.paper.carrier(self.carrier).track(self.number)
            assert bridge.status(exchange.id).status == ExchangeStatus.DISPATCHED

    def test_an_order_the_carrier_refuses_needs_attention_and_moves_nothing(
        self, tmp_path: Path
    ) -> None:
        if not self.invalid_number:
            pytest.skip(f"{self.carrier} documents no status for a refused order")
        with self.bridge_on(tmp_path, "delivered", invalid=self.invalid_number) as (bridge, _f):
            exchange = self.paper_exchange(bridge)
            bridge.paper.dispatch(exchange.id, self.carrier, self.invalid_number)
            for _ in range(2):
                bridge.poll([self.carrier])
            after = bridge.status(exchange.id)
            assert after.status == ExchangeStatus.DISPATCHED
            assert after.needs_attention
            records = bridge.paper.carrier(self.carrier).track(self.invalid_number)
            assert records[-1].status == ShipmentStatus.INVALID


__all__ = ["CarrierContract"]
