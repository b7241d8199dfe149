"""Cancelling by hand: a queued or prepared exchange becomes ``cancelled`` and is never
sent; one a worker is sending right now, or one in flight before its deadline, is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi_bridge import Bridge, Counterparty
from edi_bridge.cli import main
from edi_bridge.errors import ValidationError
from edi_bridge.lifecycle import EventKind, ExchangeStatus
from edi_bridge.testing import sample_contract

S = ExchangeStatus


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    with Bridge.open(tmp_path / "edi.db") as opened:
        yield opened


def test_a_queued_exchange_is_cancelled_and_the_worker_never_sends_it(
    bridge: Bridge, counterparty: Counterparty
) -> None:
    queued = bridge.enqueue(counterparty, sample_contract(), scenario="silent")
    cancelled = bridge.cancel(queued.id)
    assert cancelled.status == S.CANCELLED
    assert cancelled.is_terminal
    assert cancelled.history[-1].cause == "cancelled by hand while queued"
    assert bridge.dispatch_queued() == []
    assert bridge.status(queued.id).status == S.CANCELLED
    assert [e.kind for e in bridge.events() if e.exchange_id == queued.id][-1] == (
        EventKind.CANCELLED
    )


def test_a_prepared_paper_exchange_is_cancelled(bridge: Bridge, counterparty: Counterparty) -> None:
    prepared = bridge.paper.prepare(
        counterparty, sample_contract(), idempotency_key="paper-1", reason="test"
    )
    assert bridge.cancel(prepared.id).status == S.CANCELLED


def test_a_queued_exchange_a_worker_is_sending_is_refused(
    tmp_path: Path, bridge: Bridge, counterparty: Counterparty
) -> None:
    queued = bridge.enqueue(counterparty, sample_contract(), scenario="silent")
    with Bridge.open(tmp_path / "edi.db") as worker:
        assert worker.claim_queued() == [queued.id]
        with pytest.raises(ValidationError, match="being sent right now"):
            bridge.cancel(queued.id)
    assert bridge.status(queued.id).status == S.QUEUED


def test_an_in_flight_exchange_before_its_deadline_is_refused(
    bridge: Bridge, counterparty: Counterparty
) -> None:
    sent = bridge.send(counterparty, sample_contract(), scenario="silent")
    with pytest.raises(ValidationError, match="only a queued or prepared exchange"):
        bridge.cancel(sent.id)
    assert bridge.status(sent.id).status == sent.status


def test_cli_cancels_a_queued_exchange_and_refuses_a_sent_one(
    tmp_path: Path, counterparty: Counterparty, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDI_BRIDGE_DB", raising=False)
    db = str(tmp_path / "edi.db")
    with Bridge.open(db) as bridge:
        queued = bridge.enqueue(
            counterparty, sample_contract(), idempotency_key="cli-queued", scenario="silent"
        )
        sent = bridge.send(
            counterparty, sample_contract(), idempotency_key="cli-sent", scenario="silent"
        )
    ok = CliRunner().invoke(main, ["--db", db, "cancel", queued.id, "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["status"] == "cancelled"
    refused = CliRunner().invoke(main, ["--db", db, "cancel", sent.id])
    assert refused.exit_code == 1
    assert "has not expired" in refused.output
