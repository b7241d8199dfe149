"""A worker's send slot claims the next exchange inside the transaction that prepares
its send: no claim transaction of its own, and a failure there leaves no hot loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from edi_bridge import Bridge
from edi_bridge.store import schema
from edi_bridge.testing import sample_contract, sample_counterparty
from edi_bridge.workflow.claiming import dispatch_next


def _row(bridge: Bridge, exchange_id: str) -> Any:
    t = schema.exchanges
    with bridge.store.engine.connect() as conn:
        return conn.execute(sa.select(t).where(t.c.id == exchange_id)).one()


def test_dispatch_next_sends_the_oldest_queued_exchange_and_none_when_empty(
    tmp_path: Path,
) -> None:
    with Bridge.open(tmp_path / "edi.db") as bridge:
        first = bridge.enqueue(sample_counterparty("a"), sample_contract("A-1"))
        second = bridge.enqueue(sample_counterparty("b"), sample_contract("B-1"))
        sent = dispatch_next(bridge.sending)
        assert sent is not None
        assert (sent.exchange_id, sent.status) == (first.id, "sent")
        assert bridge.status(first.id).attempts == 1
        again = dispatch_next(bridge.sending)
        assert again is not None
        assert again.exchange_id == second.id
        assert dispatch_next(bridge.sending) is None


def test_a_send_that_fails_before_the_call_stays_leased_to_its_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Bridge.open(tmp_path / "edi.db") as bridge, Bridge.open(tmp_path / "edi.db") as other:
        queued = bridge.enqueue(sample_counterparty("a"), sample_contract("A-1"))

        def broken(*_args: Any, **_kwargs: Any) -> Any:
            raise RuntimeError("signing broke")

        monkeypatch.setattr(bridge.sending, "_request", broken)
        with pytest.raises(RuntimeError, match="signing broke"):
            dispatch_next(bridge.sending)
        row = _row(bridge, queued.id)
        # Held as a claim holds it (no attempt counted), so neither this worker's
        # next claim nor another worker's picks it again before the lease runs out.
        assert (row.status, row.lease_owner, row.attempts) == ("queued", bridge.owner, 0)
        assert dispatch_next(bridge.sending) is None
        assert dispatch_next(other.sending) is None
