"""Leases from the database's clock, naming their holder: a worker whose clock
runs ahead takes over nothing live, and a send killed mid-call is finished at
once by the next run on the same host instead of waiting out the dead lease."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa
from edi_bridge_providers.mock import MockProvider

import edi_bridge
from edi_bridge import Bridge, Registry, SendRequest, SendResult
from edi_bridge.store import Store, clock, leases, schema
from edi_bridge.testing import sample_contract, sample_counterparty
from edi_bridge.workflow import keeper
from edi_bridge.workflow.sending import Attempt, Intent


class CountingMock(MockProvider):
    name = "mock"
    sends: ClassVar[int] = 0

    def send(self, request: SendRequest) -> SendResult:
        type(self).sends += 1
        return super().send(request)


def _registry() -> Registry:
    registry = Registry()
    registry.register("mock", CountingMock)
    return registry


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "edi.db")
    return str(request.getfixturevalue("postgres_url"))


def _intent() -> Intent:
    return Intent(sample_counterparty("a"), sample_contract("A-1"), "key-1", None, None)


def test_a_worker_whose_clock_runs_ahead_takes_over_no_live_lease(database: str) -> None:
    CountingMock.sends = 0
    with Bridge.open(database, registry=_registry()) as first:
        # The first worker has recorded the send and holds its 120 s lease.
        attempt = first.sending.record(_intent(), conn=None, lease=True)
        assert isinstance(attempt, Attempt)
        with (
            pytest.MonkeyPatch.context() as mp,
            Bridge.open(database, registry=_registry()) as fast,
        ):
            real = clock.utcnow
            for name, module in list(sys.modules.items()):
                if name.startswith("edi_bridge") and getattr(module, "utcnow", None) is real:
                    mp.setattr(module, "utcnow", lambda: real() + dt.timedelta(minutes=5))
            assert edi_bridge.store.utcnow() - real() > dt.timedelta(minutes=4)
            mp.setattr(keeper, "HOLDER_WAIT", 0.3)  # the first sends only after this
            again = fast.sending.send(_intent())  # the same key: finish it if nobody holds it
            assert again.status == "queued"
            assert fast.sending.claim_queued() == []
        done = first.sending.deliver(attempt)
    assert done.status == "sent"
    assert CountingMock.sends == 1


def test_lease_times_are_the_databases_clock(database: str) -> None:
    from edi_bridge.store import holder

    store = Store.open(database)
    try:
        with store.transaction() as conn:
            assert abs(leases.db_now(conn) - clock.utcnow()) < dt.timedelta(seconds=5)
            assert leases.take_feed(conn, "f", "w", 60)
            t = schema.cursors
            row = conn.execute(sa.select(t).where(t.c.scope == "f")).one()
        me = holder.this_process()
        assert (row.lease_host, row.lease_pid, row.lease_started) == (me.host, me.pid, me.started)
    finally:
        store.close()


def test_a_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(tmp_path: Path) -> None:
    from edi_bridge.store import holder

    store = Store.open(tmp_path / "edi.db")
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(gone.stdout)
    me = holder.this_process()
    try:
        with store.transaction() as conn:
            assert leases.take_feed(conn, "f", "dead", 600)
            assert leases.take_feed(conn, "g", "reused", 600)
            assert leases.take_feed(conn, "h", "alive", 600)
            t = schema.cursors
            conn.execute(t.update().where(t.c.scope == "f").values(lease_pid=dead_pid))
            # Our own pid, started at another time: a dead process whose pid we got.
            conn.execute(t.update().where(t.c.scope == "g").values(lease_started="t1"))
            conn.execute(
                t.update().where(t.c.scope == "h").values(lease_pid=os.getppid(), lease_started="")
            )
        with store.transaction() as conn:
            assert leases.take_feed(conn, "f", "next", 60)
            assert leases.take_feed(conn, "g", "next", 60)
            assert not leases.take_feed(conn, "h", "next", 60)  # its holder lives
    finally:
        store.close()
    assert me.started  # Linux tells the start; elsewhere only expiry frees a lease


def test_a_lease_held_on_another_host_waits_for_expiry(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "edi.db")
    try:
        with store.transaction() as conn:
            assert leases.take_feed(conn, "f", "there", 600)
            t = schema.cursors
            conn.execute(t.update().values(lease_host="elsewhere", lease_pid=999_999_999))
        with store.transaction() as conn:
            assert not leases.take_feed(conn, "f", "here", 60)
    finally:
        store.close()


_CHILD = """
import sys, time
from edi_bridge import Bridge
from edi_bridge.testing import sample_contract, sample_counterparty
with Bridge.open(sys.argv[1]) as bridge:
    bridge.send(sample_counterparty("k"), sample_contract("K-1"), idempotency_key="kill-1")
    print("sent", flush=True)
    time.sleep(60)
"""


def _exchange(db: Path) -> sa.Row[tuple[object, ...]] | None:
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            t = schema.exchanges
            return conn.execute(sa.select(t.c.status, t.c.attempts, t.c.lease_owner)).first()
    except sa.exc.OperationalError:
        return None  # the child has not created its tables yet
    finally:
        engine.dispose()


@pytest.mark.parametrize("round_", range(8))
def test_a_send_killed_mid_call_is_finished_at_once_by_the_next_run(
    tmp_path: Path, round_: int
) -> None:
    db = tmp_path / "edi.db"
    env = {**os.environ, "EDI_BRIDGE_MOCK_LATENCY": "30"}  # the call outlives the kill
    env.pop("EDI_BRIDGE_DB", None)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(db)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row = _exchange(db)
            if row is not None and row.attempts == 1:
                break  # recorded, signed, leased: the call is on its way
            time.sleep(0.02)
        else:
            pytest.fail("the child never started its send")
        time.sleep(random.Random(round_).uniform(0, 0.3))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    started = time.monotonic()
    with Bridge.open(db) as bridge:  # the default 120 s lease: only the holder check frees it
        again = bridge.send(
            sample_counterparty("k"), sample_contract("K-1"), idempotency_key="kill-1"
        )
        assert again.status == "sent"
    assert time.monotonic() - started < 15
    row = _exchange(db)
    assert row is not None
    assert row.lease_owner is None
