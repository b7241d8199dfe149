"""What a send costs the store and the process beyond the provider call: no look-up of
the key before the insert, no read-back for a worker, one lease heartbeat thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from edi_bridge_providers.mock import MockProvider

from edi_bridge import Bridge, Counterparty
from edi_bridge.errors import ConfigurationError
from edi_bridge.provider import SendRequest, SendResult
from edi_bridge.testing import sample_contract, sample_counterparty


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    with Bridge.open(tmp_path / "edi.db") as opened:
        # Warm: the mock's tables and the statements built once.
        opened.send(sample_counterparty("warm"), sample_contract("W-0"), scenario="silent")
        yield opened


def _statements(bridge: Bridge) -> tuple[list[str], Any]:
    seen: list[str] = []

    def on_execute(_c: Any, _cur: Any, sql: str, *_: Any) -> None:
        if "mock_" not in sql:  # the mock provider's own bookkeeping
            seen.append(" ".join(sql.split()))

    sa.event.listen(bridge.store.engine, "before_cursor_execute", on_execute)
    return seen, on_execute


def test_a_new_send_inserts_without_looking_up_its_key_first(bridge: Bridge) -> None:
    seen, listener = _statements(bridge)
    exchange = bridge.send(sample_counterparty("k1"), sample_contract("K-1"))
    sa.event.remove(bridge.store.engine, "before_cursor_execute", listener)
    assert exchange.status == "sent"
    assert not [s for s in seen if "WHERE edi_exchanges.idempotency_key" in s]


def test_the_same_key_again_still_returns_the_one_exchange(bridge: Bridge) -> None:
    counterparty, document = sample_counterparty("k2"), sample_contract("K-2")
    first = bridge.send(counterparty, document, idempotency_key="order-2")
    again = bridge.send(counterparty, document, idempotency_key="order-2")
    assert again.id == first.id
    assert len(bridge.list()) == 2  # the warm-up's and this one


def test_a_recorded_key_is_returned_even_when_routing_now_refuses(
    bridge: Bridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    counterparty, document = sample_counterparty("k3"), sample_contract("K-3")
    first = bridge.send(counterparty, document, idempotency_key="order-3")

    def refused(*_: Any, **__: Any) -> Any:
        raise ConfigurationError("routing is broken now")

    monkeypatch.setattr(bridge.sending, "_route", refused)
    assert bridge.send(counterparty, document, idempotency_key="order-3").id == first.id
    with pytest.raises(ConfigurationError, match="routing is broken now"):
        bridge.send(counterparty, sample_contract("K-4"), idempotency_key="order-4")


def test_a_workers_dispatch_does_not_read_the_exchange_back(bridge: Bridge) -> None:
    queued = bridge.enqueue(sample_counterparty("d1"), sample_contract("D-1"))
    assert bridge.claim_queued(1) == [queued.id]
    seen, listener = _statements(bridge)
    outcome = bridge.sending.dispatch_outcome(queued.id)
    sa.event.remove(bridge.store.engine, "before_cursor_execute", listener)
    assert (outcome.exchange_id, outcome.status) == (queued.id, "sent")
    assert bridge.status(queued.id).status == "sent"
    # The history and the signatures with them are what a read-back costs.
    assert not [s for s in seen if s.startswith(("SELECT edi_history", "SELECT edi_signatures.id"))]
    assert len(seen) <= 16  # the mock's own two BEGINs included


class Held(MockProvider):
    """Holds every send until the test lets them go."""

    entered = threading.Semaphore(0)
    go = threading.Event()

    def send(self, request: SendRequest) -> SendResult:
        Held.entered.release()
        Held.go.wait(30)
        return super().send(request)


def test_sends_in_flight_share_one_lease_heartbeat_thread(
    tmp_path: Path, counterparty: Counterparty, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Bridge.open(tmp_path / "edi.db") as bridge:
        monkeypatch.setattr(bridge.registry, "get", lambda name: Held)
        threads = [
            threading.Thread(
                target=bridge.send, args=(sample_counterparty(f"h{i}"), sample_contract(f"H-{i}"))
            )
            for i in range(3)
        ]
        for t in threads:
            t.start()
        try:
            for _ in threads:
                assert Held.entered.acquire(timeout=30)
            names = [t.name for t in threading.enumerate() if t.name.startswith("lease")]
        finally:
            Held.go.set()
            for t in threads:
                t.join(30)
        assert names == ["lease-heartbeat"]
        assert {e.status for e in bridge.list()} == {"sent"}


def test_a_dispatch_validates_a_counterparty_once_while_its_requisites_stay_the_same() -> None:
    from edi_bridge.workflow.attempts import KnownCounterparties

    known = KnownCounterparties()
    stored = sample_counterparty("v1").model_dump(mode="json")
    first = known.of("k", stored)
    assert known.of("k", dict(stored)) is first
    changed = {**stored, "name": "ООО Другое имя"}
    assert known.of("k", changed).name == "ООО Другое имя"
