"""Round trips per send on PostgreSQL: a claim is one statement, and dispatch takes
the lease, counts the attempt and reads the row in one, with the database's clock
read inside the statements rather than by a SELECT of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from edi_bridge import Bridge
from edi_bridge.lifecycle import ExchangeStatus
from edi_bridge.testing import sample_contract, sample_counterparty

pytestmark = pytest.mark.postgres


@contextmanager
def _statements(bridge: Bridge) -> Iterator[list[str]]:
    seen: list[str] = []

    def on_execute(_c: Any, _cur: Any, sql: str, *_: Any) -> None:
        if "mock_" not in sql:  # the mock provider's own bookkeeping is not ours
            seen.append(" ".join(sql.split()))

    sa.event.listen(bridge.store.engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        sa.event.remove(bridge.store.engine, "before_cursor_execute", on_execute)


def _enqueue(bridge: Bridge, n: int) -> list[str]:
    return [
        bridge.enqueue(sample_counterparty(f"r{i}"), sample_contract(f"R-{i}")).id for i in range(n)
    ]


def test_a_claim_is_one_statement_and_takes_the_oldest_first(postgres_url: str) -> None:
    with Bridge.open(postgres_url) as first, Bridge.open(postgres_url) as second:
        ids = _enqueue(first, 5)
        with _statements(first) as seen:
            claimed = first.claim_queued(2)
        assert claimed == ids[:2]
        assert len(seen) == 1
        assert seen[0].startswith("WITH picked AS")
        # Another owner sees only what nobody holds.
        assert second.claim_queued(10) == ids[2:]
        assert first.claim_queued(10) == []


def test_dispatch_after_a_claim_reads_no_clock_and_takes_the_lease_once(
    postgres_url: str,
) -> None:
    with Bridge.open(postgres_url) as bridge:
        bridge.send(sample_counterparty("warm"), sample_contract("W-0"))  # statements built
        (exchange_id,) = _enqueue(bridge, 1)
        assert bridge.claim_queued(1) == [exchange_id]
        with _statements(bridge) as seen:
            sent = bridge.dispatch(exchange_id)
        assert sent.status == ExchangeStatus.SENT
        assert sent.attempts == 1
        assert not [s for s in seen if "clock_timestamp" in s and s.startswith("SELECT")]
        takes = [s for s in seen if s.startswith("UPDATE edi_exchanges") and "clock_timestamp" in s]
        assert len(takes) == 1  # the claim's lease renewed with the attempt, not taken again
        # Was 17 (a locked SELECT, a clock read, the lease's and the attempt's UPDATEs).
        assert len(seen) <= 14, seen


def test_dispatch_leaves_an_exchange_another_live_worker_holds(postgres_url: str) -> None:
    with Bridge.open(postgres_url) as holder, Bridge.open(postgres_url) as other:
        (exchange_id,) = _enqueue(holder, 1)
        assert holder.claim_queued(1) == [exchange_id]
        untouched = other.dispatch(exchange_id)
        assert untouched.status == ExchangeStatus.QUEUED
        assert untouched.attempts == 0
        assert holder.dispatch(exchange_id).status == ExchangeStatus.SENT
