"""Many workers on one database: leases, crash take-over, transactional enqueue."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from edi_bridge_providers.mock import calls, messages

from edi_bridge import Bridge
from edi_bridge.store import schema
from edi_bridge.testing import sample_contract, sample_counterparty
from edi_bridge.worker import Worker

EXE = [sys.executable, "-m", "edi_bridge.cli"]


def _enqueue(db: str, n: int, prefix: str = "w") -> list[str]:
    cp = sample_counterparty("workers")
    with Bridge.open(db) as bridge:
        bridge.provider("mock")  # create the mock's tables before workers race to
        return [
            bridge.enqueue(cp, sample_contract(f"{prefix}-{i}"), idempotency_key=f"{prefix}-{i}").id
            for i in range(n)
        ]


def _documents_per_key(db: str) -> dict[str, int]:
    with Bridge.open(db) as bridge, bridge.store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(messages.c.idempotency_key, sa.func.count()).group_by(
                messages.c.idempotency_key
            )
        ).all()
    return {k: int(c) for k, c in rows}


def _statuses(db: str) -> dict[str, int]:
    with Bridge.open(db) as bridge, bridge.store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(schema.exchanges.c.status, sa.func.count()).group_by(
                schema.exchanges.c.status
            )
        ).all()
    return {s: int(c) for s, c in rows}


class _Proc:
    """A worker process whose output goes to files: a full pipe nobody reads
    would block its logging, mid-transaction."""

    def __init__(self, db: str, args: tuple[str, ...], env: dict[str, str] | None) -> None:
        self._out = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in communicate
        self._err = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self.popen = subprocess.Popen(
            [*EXE, "--db", db, "worker", "--poll-interval", "0.5", *args],
            stdout=self._out,
            stderr=self._err,
            text=True,
            env={**os.environ, **(env or {})},
        )

    def poll(self) -> int | None:
        return self.popen.poll()

    def send_signal(self, sig: int) -> None:
        self.popen.send_signal(sig)

    def kill(self) -> None:
        self.popen.kill()

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout=timeout)

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode

    def communicate(self, timeout: float) -> tuple[str, str]:
        self.popen.wait(timeout=timeout)
        texts = []
        for fh in (self._out, self._err):
            fh.seek(0)
            texts.append(fh.read())
            fh.close()
        return texts[0], texts[1]


def _worker(db: str, *args: str, env: dict[str, str] | None = None) -> _Proc:
    return _Proc(db, args, env)


def test_enqueued_exchanges_wait_for_a_worker(tmp_path: Path) -> None:
    db = str(tmp_path / "e.db")
    ids = _enqueue(db, 5)
    assert _statuses(db) == {"queued": 5}
    with Bridge.open(db) as bridge:
        stats = Worker(bridge, concurrency=2, poll_interval=0.0, idle_sleep=0.01).run(
            until_idle=True
        )
        assert stats.sent == 5
        # The worker polled while sending, so the mock's clients may be one step
        # behind for some documents: a few more rounds settle them all.
        for _ in range(4):
            bridge.poll()
        assert {bridge.status(i).status for i in ids} == {"signed"}
        assert bridge.release() == 0  # nothing left held
    assert set(_documents_per_key(db).values()) == {1}


def test_a_held_exchange_is_not_sent_by_another_bridge(tmp_path: Path) -> None:
    db = str(tmp_path / "e.db")
    [ex_id] = _enqueue(db, 1)
    with Bridge.open(db) as first, Bridge.open(db) as second:
        assert first.claim_queued(10) == [ex_id]
        assert second.claim_queued(10) == []
        assert second.dispatch(ex_id).status == "queued"  # held by the first
        assert first.dispatch(ex_id).status == "sent"


def test_an_expired_lease_is_taken_over(tmp_path: Path) -> None:
    db = str(tmp_path / "e.db")
    [ex_id] = _enqueue(db, 1)
    with Bridge.open(db, lease_seconds=0.2) as crashed, Bridge.open(db) as survivor:
        assert crashed.claim_queued(1) == [ex_id]
        assert survivor.claim_queued(1) == []
        time.sleep(0.3)
        assert survivor.claim_queued(1) == [ex_id]


def test_sigterm_finishes_in_flight_sends_and_releases_leases(tmp_path: Path) -> None:
    db = str(tmp_path / "e.db")
    _enqueue(db, 40)
    proc = _worker(db, "--concurrency", "2", env={"EDI_BRIDGE_MOCK_LATENCY": "0.1"})
    deadline = time.monotonic() + 30
    while _statuses(db).get("sent", 0) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    stats = json.loads(out.strip().splitlines()[-1])
    assert 0 < stats["sent"] < 40
    assert any(json.loads(line).get("signal") == "SIGTERM" for line in err.splitlines())
    with Bridge.open(db) as bridge, bridge.store.engine.connect() as conn:
        held = conn.execute(
            sa.select(sa.func.count()).where(schema.exchanges.c.lease_owner.is_not(None))
        ).scalar_one()
    assert held == 0
    counts = _statuses(db)
    assert (
        counts.get("sent", 0) + counts.get("delivered", 0) + counts.get("signed", 0)
        == stats["sent"]
    )
    assert set(_documents_per_key(db).values()) == {1}


def _run_workers(db: str, n_exchanges: int, n_workers: int, kill_one: bool) -> None:
    _enqueue(db, n_exchanges)
    env = {"EDI_BRIDGE_MOCK_LATENCY": "0.005"}
    procs = [
        _worker(db, "--concurrency", "2", "--lease-seconds", "3", "--until-idle", env=env)
        for _ in range(n_workers)
    ]
    try:
        _supervise(db, procs, n_exchanges, kill_one, env)
    finally:
        for proc in procs:  # a failed assertion must not leave workers holding the schema
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


def _supervise(
    db: str,
    procs: list[_Proc],
    n_exchanges: int,
    kill_one: bool,
    env: dict[str, str],
) -> None:
    if kill_one:
        deadline = time.monotonic() + 60
        while _statuses(db).get("queued", 0) > n_exchanges * 0.7 and time.monotonic() < deadline:
            time.sleep(0.05)
        procs[0].send_signal(signal.SIGKILL)
    for proc in procs[1 if kill_one else 0 :]:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
    if kill_one:
        procs[0].wait(timeout=10)
        # Survivors may have gone idle while the victim's leases were still live.
        time.sleep(3.2)
        last = _worker(db, "--until-idle", env=env)
        _out, err = last.communicate(timeout=120)
        assert last.returncode == 0, err[-2000:]
    per_key = _documents_per_key(db)
    assert len(per_key) == n_exchanges
    assert set(per_key.values()) == {1}, "some exchange became two documents"
    assert "queued" not in _statuses(db)
    with Bridge.open(db) as bridge, bridge.store.engine.connect() as conn:
        calls_total = conn.execute(sa.select(sa.func.sum(calls.c.count))).scalar_one()
    # Each send reached the provider once, except a call the killed worker had in
    # flight, which the take-over reconciles by key instead of repeating.
    assert n_exchanges <= calls_total <= n_exchanges + (2 if kill_one else 0)


@pytest.mark.postgres
def test_four_workers_send_each_exchange_once(postgres_url: str) -> None:
    _run_workers(postgres_url, 200, 4, kill_one=False)


@pytest.mark.postgres
def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(postgres_url: str) -> None:
    _run_workers(postgres_url, 200, 4, kill_one=True)


@pytest.mark.postgres
@pytest.mark.slow
def test_two_thousand_exchanges_four_workers_one_killed(postgres_url: str) -> None:
    _run_workers(postgres_url, 2000, 4, kill_one=True)


def test_enqueue_in_a_rolled_back_backend_transaction_leaves_nothing(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    with Bridge.open(db) as bridge:
        backend = sa.create_engine(f"sqlite:///{db}")

        def approve_client() -> None:
            with backend.begin() as conn:
                bridge.enqueue(sample_counterparty("tx"), sample_contract(), connection=conn)
                raise RuntimeError("client approval failed later in the request")

        with pytest.raises(RuntimeError):
            approve_client()
        assert bridge.list() == []
        with backend.begin() as conn:
            ex = bridge.enqueue(sample_counterparty("tx"), sample_contract(), connection=conn)
        assert [e.id for e in bridge.list()] == [ex.id]
        backend.dispose()


@pytest.mark.postgres
def test_enqueue_commits_and_rolls_back_with_a_psycopg_transaction(postgres_url: str) -> None:
    import psycopg

    from edi_bridge.store import database_url

    with Bridge.open(postgres_url) as bridge:
        dsn = sa.engine.make_url(database_url(postgres_url)).set(drivername="postgresql")
        raw = psycopg.connect(
            dsn.render_as_string(hide_password=False).split("?")[0],
            options=dsn.query["options"],
        )
        with raw.cursor() as cur:
            cur.execute("CREATE TABLE clients (id text)")
        raw.commit()
        with raw.cursor() as cur:
            cur.execute("INSERT INTO clients VALUES ('approved')")
        bridge.enqueue(sample_counterparty("pg-tx"), sample_contract("A"), connection=raw)
        raw.rollback()
        assert bridge.list() == []
        with raw.cursor() as cur:
            cur.execute("INSERT INTO clients VALUES ('approved')")
        ex = bridge.enqueue(sample_counterparty("pg-tx"), sample_contract("B"), connection=raw)
        raw.commit()
        with raw.cursor() as cur:
            cur.execute("SELECT count(*) FROM clients")
            assert cur.fetchone() == (1,)
        assert [e.id for e in bridge.list()] == [ex.id]
        raw.close()
