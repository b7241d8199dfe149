"""Leases that neither race nor linger: a new feed taken by two workers at once,
a send that fails before any operator call."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa
from edi_bridge_providers.mock import MockProvider

from edi_bridge import Bridge, ConfigurationError, Registry, SendRequest, SendResult
from edi_bridge.provider import ProviderContext
from edi_bridge.store import Store, leases, schema
from edi_bridge.testing import sample_contract, sample_counterparty


def _race_for_a_new_feed(store: Store) -> list[object]:
    """Worker A inserts the feed's row and holds its transaction open while worker
    B tries to take the same feed; then A commits. B must lose quietly."""
    results: list[object] = []
    with store.engine.connect() as first:
        with first.begin():
            assert leases.take_feed(first, "race:feed", "worker-a", 60)

            def other() -> None:
                try:
                    with store.engine.begin() as second:
                        results.append(leases.take_feed(second, "race:feed", "worker-b", 60))
                except Exception as exc:  # what the loser died of on a fresh database
                    results.append(exc)

            thread = threading.Thread(target=other)
            thread.start()
            thread.join(0.5)  # B now waits on A's uncommitted row (PostgreSQL)
        thread.join(10)
    return results


def test_two_pollers_on_a_fresh_postgresql_database_do_not_race(postgres_url: str) -> None:
    store = Store.open(postgres_url)
    try:
        assert _race_for_a_new_feed(store) == [False]
    finally:
        store.close()


def test_a_new_feed_is_taken_once_on_sqlite(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "edi.db")
    try:
        with store.engine.begin() as conn:
            assert leases.take_feed(conn, "new:feed", "worker-a", 60)
            assert not leases.take_feed(conn, "new:feed", "worker-b", 60)
            assert leases.take_feed(conn, "new:feed", "worker-a", 60)  # its own: renewed
    finally:
        store.close()


@pytest.mark.parametrize("holder", ["worker-a", "worker-b"])
def test_a_released_feed_is_free_for_anyone(tmp_path: Path, holder: str) -> None:
    store = Store.open(tmp_path / "edi.db")
    try:
        with store.engine.begin() as conn:
            assert leases.take_feed(conn, "new:feed", "worker-a", 60)
            leases.release_feed(conn, "new:feed", "worker-a")
            assert leases.take_feed(conn, "new:feed", holder, 60)
    finally:
        store.close()


class Unconfigured(MockProvider):
    """A provider whose settings are missing in this process."""

    name = "mock"

    def __init__(self, context: ProviderContext) -> None:
        raise ConfigurationError("mock.api_key is not set")


class PausedPastTheLease(MockProvider):
    """Built just before the call; meanwhile another worker took the exchange over."""

    name = "mock"
    thief: ClassVar[Bridge | None] = None
    exchange_id: ClassVar[str] = ""
    sends: ClassVar[int] = 0

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        time.sleep(0.3)  # paused past a quarter of the 1 s lease: checked again
        thief = self.thief
        assert thief is not None
        with thief.store.transaction() as conn:
            t = schema.exchanges
            past = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
            conn.execute(t.update().where(t.c.id == self.exchange_id).values(lease_until=past))
            assert leases.take_exchange(conn, self.exchange_id, thief.owner, 120)

    def send(self, request: SendRequest) -> SendResult:
        type(self).sends += 1
        return super().send(request)


def _only(cls: type[MockProvider]) -> Registry:
    registry = Registry()
    registry.register("mock", cls)
    return registry


def test_a_send_failing_before_any_call_releases_the_lease_and_counts_no_attempt(
    tmp_path: Path,
) -> None:
    db = tmp_path / "edi.db"
    with Bridge.open(db) as first:
        queued = first.enqueue(sample_counterparty("a"), sample_contract("A-1"))
    with Bridge.open(db, registry=_only(Unconfigured)) as worker:
        with pytest.raises(ConfigurationError):
            worker.dispatch(queued.id)
        with worker.store.engine.connect() as conn:
            t = schema.exchanges
            row = conn.execute(sa.select(t).where(t.c.id == queued.id)).one()
        assert row.status == "queued"
        assert (row.lease_owner, row.lease_until, row.attempts) == (None, None, 0)


def test_a_worker_that_lost_its_lease_does_not_call_the_operator(tmp_path: Path) -> None:
    db = tmp_path / "edi.db"
    with Bridge.open(db) as first:
        queued = first.enqueue(sample_counterparty("a"), sample_contract("A-1"))
    with (
        Bridge.open(db, registry=_only(PausedPastTheLease), lease_seconds=1) as slow,
        Bridge.open(db) as thief,
    ):
        PausedPastTheLease.thief, PausedPastTheLease.exchange_id = thief, queued.id
        PausedPastTheLease.sends = 0
        after = slow.dispatch(queued.id)
        assert PausedPastTheLease.sends == 0
        assert after.status == "queued"
        with slow.store.engine.connect() as conn:
            t = schema.exchanges
            owner = conn.execute(sa.select(t.c.lease_owner).where(t.c.id == queued.id)).one()
        assert owner[0] == thief.owner
