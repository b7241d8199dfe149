"""Round trips per send on PostgreSQL: a claim is one statement, and dispatch takes
the lease, counts the attempt and reads the row in one, with the database's clock
read inside the statements rather than by a SELECT of its own."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from edi_bridge import Bridge
from edi_bridge.lifecycle import ExchangeStatus
from edi_bridge.testing import sample_contract, sample_counterparty
from edi_bridge.worker import Worker

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


class _CountedWorker(Worker):
    """Counts the statements and transactions of its sends (claims included), not
    of its polls nor the mock's own."""

    def __init__(self, bridge: Bridge) -> None:
        super().__init__(bridge, concurrency=1, poll_interval=3600)
        self.statements: list[str] = []
        self.transactions = 0
        self._polling = threading.local()
        self._open: set[int] = set()
        engine = bridge.store.engine
        sa.event.listen(engine, "before_cursor_execute", self._executed)
        sa.event.listen(engine, "commit", self._ended)
        sa.event.listen(engine, "rollback", self._ended)

    def _poll(self) -> None:
        self._polling.on = True
        try:
            super()._poll()
        finally:
            self._polling.on = False

    def _executed(self, conn: Any, _cur: Any, sql: str, *_: Any) -> None:
        polling = getattr(self._polling, "on", False)
        feed = threading.current_thread().name == "edi-bridge-feed"
        if "mock_" not in sql and not polling and not feed:
            self.statements.append(" ".join(sql.split()))
            self._open.add(id(conn))

    def _ended(self, conn: Any) -> None:
        if id(conn) in self._open:
            self._open.discard(id(conn))
            self.transactions += 1


def test_a_worker_send_is_two_transactions_with_its_claim_inside_the_first(
    postgres_url: str,
) -> None:
    with Bridge.open(postgres_url) as bridge:
        _enqueue(bridge, 5)
        bridge.provider("mock")  # the mock's tables, before counting
        worker = _CountedWorker(bridge)
        assert worker.run(until_idle=True).sent == 5
        # Was 3 per send: the claim had a transaction of its own. One more for the
        # last, empty claim and one for giving leases back at the end.
        assert worker.transactions <= 2 * 5 + 2
        claims = [s for s in worker.statements if s.startswith("WITH picked AS")]
        assert len(claims) == 6
        assert all("attempts" in s for s in claims)  # claim, lease and attempt at once
        # Was 12 per send (the claim, then 11 for the dispatch); the last empty claim
        # looks for dead holders, and the leases go back at the end.
        assert len(worker.statements) <= 11 * 5 + 3, worker.statements


def test_a_pooled_connection_is_pinged_only_after_sitting_idle(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Bridge.open(postgres_url) as bridge:
        engine = bridge.store.engine
        pings: list[object] = []
        real = engine.dialect.do_ping

        def ping(dbapi_conn: Any) -> bool:
            pings.append(dbapi_conn)
            return real(dbapi_conn)

        monkeypatch.setattr(engine.dialect, "do_ping", ping)
        for _ in range(5):
            bridge.store.last_event_seq()
        # Was one ping (a round trip) before every transaction.
        assert pings == []
        # Idle past the threshold, and dropped by the server meanwhile: pinged, replaced.
        with engine.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with sa.create_engine(engine.url).connect() as killer:
            killer.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            killer.commit()
        monkeypatch.setattr("edi_bridge.store.engine.PING_AFTER_IDLE_SECONDS", 0.0)
        assert bridge.store.last_event_seq() == 0
        assert len(pings) == 1
