"""Throughput of N worker processes against a provider with fixed latency.

    python -m bench.workers [--dsn postgresql://postgres@127.0.0.1:5432/test] \
        [--exchanges 400] [--latency 0.05] [--workers 1 2 4 8] [--concurrency 1 4] \
        [--rate-limit 100]

The DSN defaults to ``EDI_BRIDGE_TEST_POSTGRES``. Each run gets a fresh schema;
prints one JSON line per (workers, concurrency). Ratios are to ideal: ideal sends/s =
workers x concurrency / latency, capped by the operator's rate limit (Diadoc's is
about 100 requests/s), since no number of workers may send faster than that.

The wall time (first process started to last process exited) is split in three:

- ``startup_s``: from starting the processes to the first send recorded (the
  interpreter, imports, opening the database; ``idle_worker_s`` is one worker's
  start and exit on an empty queue, for comparison);
- the steady part, first to last send recorded: ``steady_per_s`` and
  ``steady_ratio`` (``ratio`` and ``per_s`` count the whole wall time);
- ``exit_s``: from the last send to the last process gone (a last empty claim,
  a poll, releasing leases).

CPU, less disturbed by the shared machine than the wall time: ``idle_worker_cpu_s``
(one worker started and stopped on an empty queue, user + system) and
``cpu_ms_per_send`` (all workers' CPU in the run, less that start-up CPU per
process, per exchange; PostgreSQL's own CPU is not in it). The mock provider keeps
its own records in the same database (a few statements per send), so that work is
counted here as well as ours. Its counterparty stays silent (scenario ``silent``), so
the workers' polls apply no signatures: the run measures sending.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import resource
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator

import sqlalchemy as sa

from edi_bridge import Bridge
from edi_bridge.store import database_url, schema
from edi_bridge.testing import sample_contract, sample_counterparty


def ideal_rate(workers: int, concurrency: int, latency: float, rate_limit: float) -> float:
    """Sends per second with no time of our own: every slot waiting on the operator."""
    return min(workers * concurrency / latency, rate_limit)


@contextlib.contextmanager
def fresh_schema(dsn: str) -> Iterator[tuple[str, sa.Engine, str]]:
    """(URL whose search_path is a new schema, an engine on the base DSN, the schema);
    the schema is dropped on exit."""
    engine = sa.create_engine(database_url(dsn))
    name = "bench_" + secrets.token_hex(4)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {name}")
    try:
        yield f"{dsn}{'&' if '?' in dsn else '?'}options=-csearch_path%3D{name}", engine, name
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
        engine.dispose()


def _children_cpu() -> float:
    """User + system CPU of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def enqueue(url: str, exchanges: int) -> None:
    """``exchanges`` contracts queued for the mock (not timed)."""
    cp = sample_counterparty("bench")
    with Bridge.open(url) as bridge:
        bridge.provider("mock")
        for i in range(exchanges):
            bridge.enqueue(cp, sample_contract(f"B-{i}"), idempotency_key=f"b-{i}")


def run(
    dsn: str,
    exchanges: int,
    latency: float,
    workers: int,
    concurrency: int,
    rate_limit: float = 100.0,
) -> dict[str, object]:
    with fresh_schema(dsn) as (url, engine, name):
        # The counterparty stays silent: the workers' last poll (``--until-idle``) then
        # has no signatures to check, and the run measures sending.
        env = {
            **os.environ,
            "EDI_BRIDGE_MOCK_LATENCY": str(latency),
            "EDI_BRIDGE_MOCK_SCENARIO": "silent",
        }
        cmd = [
            sys.executable,
            "-m",
            "edi_bridge.cli",
            "--db",
            url,
            "worker",
            "--until-idle",
            "--poll-interval",
            "3600",
            "--concurrency",
            str(concurrency),
            "--log-format",
            "text",
        ]
        # One worker on an empty queue: its start and exit, part of every run's wall time.
        cpu = _children_cpu()
        start = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        startup = time.perf_counter() - start
        idle_cpu = _children_cpu() - cpu
        enqueue(url, exchanges)
        cpu = _children_cpu()
        launched = dt.datetime.now(dt.UTC)  # the clock the workers record sends with
        start = time.perf_counter()
        procs = [
            subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(workers)
        ]
        for p in procs:
            p.wait()
        wall = time.perf_counter() - start
        run_cpu = _children_cpu() - cpu
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SET search_path TO {name}")
            queued = conn.execute(
                sa.select(sa.func.count()).where(schema.exchanges.c.status == "queued")
            ).scalar_one()
            first, last = conn.execute(
                sa.select(sa.func.min(schema.history.c.at), sa.func.max(schema.history.c.at)).where(
                    schema.history.c.status == "sent"
                )
            ).one()
        ideal_per_s = ideal_rate(workers, concurrency, latency, rate_limit)
        per_s = exchanges / wall
        # Between the first and the last send recorded: the workers' start-up left out.
        span = (last - first).total_seconds() if first and last else 0.0
        steady = (exchanges - 1) / span if span > 0 else per_s
        to_first = (first - launched).total_seconds() if first else wall
        return {
            "name": "workers",
            "workers": workers,
            "concurrency": concurrency,
            "exchanges": exchanges,
            "latency_s": latency,
            "wall_s": round(wall, 2),
            "startup_s": round(to_first, 2),
            "exit_s": round(max(wall - to_first - span, 0.0), 2),
            "idle_worker_s": round(startup, 2),
            "idle_worker_cpu_s": round(idle_cpu, 3),
            "cpu_ms_per_send": round(max(run_cpu - workers * idle_cpu, 0.0) / exchanges * 1000, 2),
            "per_s": round(per_s, 1),
            "ideal_per_s": round(ideal_per_s, 1),
            "rate_limit": rate_limit,
            "ratio": round(per_s / ideal_per_s, 3),
            "steady_per_s": round(steady, 1),
            "steady_ratio": round(steady / ideal_per_s, 3),
            "ideal_s": round(exchanges / ideal_per_s, 2),
            "left_queued": queued,
        }


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__)
    ap.add_argument(
        "--dsn",
        default=os.environ.get(
            "EDI_BRIDGE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    ap.add_argument("--exchanges", type=int, default=400)
    ap.add_argument("--latency", type=float, default=0.05, help="operator latency, seconds")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4], help="per worker")
    ap.add_argument("--rate-limit", type=float, default=100.0, help="operator's requests/s")
    args = ap.parse_args()
    for concurrency in args.concurrency:
        for n in args.workers:
            result = run(args.dsn, args.exchanges, args.latency, n, concurrency, args.rate_limit)
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
