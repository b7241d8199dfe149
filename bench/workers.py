"""Throughput of N worker processes against a provider with fixed latency.

    python -m bench.workers --dsn postgresql://postgres@127.0.0.1:5432/test \
        [--exchanges 200] [--latency 0.05] [--workers 1 2 4] [--concurrency 1]

Each run gets a fresh schema; prints one JSON line per worker count with the
wall time from the first worker's start to the last exchange sent.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time

import sqlalchemy as sa

from edi_bridge import Bridge
from edi_bridge.store import database_url, schema
from edi_bridge.testing import sample_contract, sample_counterparty


def run(
    dsn: str, exchanges: int, latency: float, workers: int, concurrency: int
) -> dict[str, object]:
    engine = sa.create_engine(database_url(dsn))
    name = "bench_" + secrets.token_hex(4)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {name}")
    url = f"{dsn}{'&' if '?' in dsn else '?'}options=-csearch_path%3D{name}"
    try:
        cp = sample_counterparty("bench")
        with Bridge.open(url) as bridge:
            bridge.provider("mock")
            for i in range(exchanges):
                bridge.enqueue(cp, sample_contract(f"B-{i}"), idempotency_key=f"b-{i}")
        env = {**os.environ, "EDI_BRIDGE_MOCK_LATENCY": str(latency)}
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
        start = time.perf_counter()
        procs = [
            subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(workers)
        ]
        for p in procs:
            p.wait()
        wall = time.perf_counter() - start
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SET search_path TO {name}")
            queued = conn.execute(
                sa.select(sa.func.count()).where(schema.exchanges.c.status == "queued")
            ).scalar_one()
        ideal = exchanges * latency / (workers * concurrency)
        return {
            "name": "workers",
            "workers": workers,
            "concurrency": concurrency,
            "exchanges": exchanges,
            "latency_s": latency,
            "wall_s": round(wall, 2),
            "per_s": round(exchanges / wall, 1),
            "ideal_s": round(ideal, 2),
            "left_queued": queued,
        }
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--dsn",
        default=os.environ.get(
            "EDI_BRIDGE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    ap.add_argument("--exchanges", type=int, default=200)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--concurrency", type=int, default=1)
    args = ap.parse_args()
    for n in args.workers:
        print(
            json.dumps(run(args.dsn, args.exchanges, args.latency, n, args.concurrency)), flush=True
        )


if __name__ == "__main__":
    main()
