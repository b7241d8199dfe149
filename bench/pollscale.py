"""poll at scale: a million box events applied to one SQLite store, in steps; memory and
cost per event along the way (a curve, not one figure).

    python -m bench.pollscale [--events 1000000] [--step 50000] [--json]

The workload of ``bench.poll`` (two box events per document we sent: a signed
delivery receipt, then the counterparty's 1.2 KB signature; no signature check,
no callbacks), repeated: before each step the Diadoc fake (own process) is told
to add the next ``step`` events to its feed and the store gets the matching
exchanges in ``sent`` (neither is timed); then ``Bridge.poll_count`` reads and
applies them, continuing from the cursor the previous step committed. After each
step: the step's events/s and µs per event (wall clock, and CPU time of this process,
which a shared machine disturbs less), this process's RSS and peak RSS, and the size
of the database. Between steps the fake forgets the events already
served (it keeps their IndexKeys), so its memory stays bounded.

Flat RSS and a flat cost per event as the store grows to a million events (and
its history, signatures and backend events with it) is what the benchmark shows or
refutes. It takes minutes; it is not part of ``python -m bench``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from edi_bridge import Bridge
from edi_bridge.store import schema

from .common import FakeProcess, fake_process
from .poll import seed_store

SEED = "bench-pollscale"
# The seeded exchanges' documents are not the ones the fake's counterparties signed, so
# the counterparty signature check (on by default) is off here: this measures the feed
# and the writer; tests/test_statements.py bounds the check's own statements.
UNCHECKED = {"signing.check_counterparty": "false"}


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _command(fake: FakeProcess, line: str) -> None:
    """Send one command to the fake and wait for its answer."""
    assert fake.proc.stdin is not None
    assert fake.proc.stdout is not None
    fake.proc.stdin.write(line + "\n")
    fake.proc.stdin.flush()
    if not fake.proc.stdout.readline():
        raise RuntimeError(f"the fake stopped on {line!r}")


def _database_mb(path: Path) -> float:
    files = [path, path.with_name(path.name + "-wal")]
    return sum(f.stat().st_size for f in files if f.exists()) / 2**20


Row = dict[str, Any]


def run(events: int, step: int, report: Callable[[Row], None] | None = None) -> list[Row]:
    """Apply ``events`` in steps of ``step``; ``report`` sees each step as it is measured
    (a million events take minutes)."""
    if step % 2 or events % step:
        raise ValueError("step must be even and divide events")
    per_step = step // 2  # documents
    rows: list[Row] = []
    with fake_process("--counterparty", SEED) as fake, tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "pollscale.db"
        with Bridge.open(db, settings={**fake.settings(), **UNCHECKED}) as bridge:
            bridge.provider("diadoc").cursor_scope  # noqa: B018  warm: token and box
            applied = 0
            for n in range(events // step):
                _command(fake, f"extend {per_step}")
                seed_store(bridge, per_step, SEED, start=n * per_step)
                start, cpu_start = time.perf_counter(), time.process_time()
                changes = bridge.poll_count(["diadoc"])
                seconds = time.perf_counter() - start
                cpu = time.process_time() - cpu_start  # all threads; less noisy when shared
                _command(fake, "trim")
                if changes != step:
                    raise RuntimeError(f"step {n + 1} applied {changes} changes, expected {step}")
                applied += changes
                rows.append(
                    {
                        "name": "pollscale",
                        "events": applied,
                        "step_events": step,
                        "step_s": round(seconds, 2),
                        "events_per_s": round(step / seconds),
                        "us_per_event": round(seconds / step * 1e6, 1),
                        "cpu_us_per_event": round(cpu / step * 1e6, 1),
                        "rss_mb": round(_status_mb("VmRSS"), 1),
                        "peak_rss_mb": round(_status_mb("VmHWM"), 1),
                        "db_mb": round(_database_mb(db), 1),
                    }
                )
                if report is not None:
                    report(rows[-1])
            with bridge.store.transaction() as conn:
                signed = conn.execute(
                    sa.select(sa.func.count()).where(schema.exchanges.c.status == "signed")
                ).scalar_one()
    if signed != events // 2:
        raise RuntimeError(f"{signed} exchanges signed, expected {events // 2}")
    return rows


def _line(row: Row) -> str:
    return (
        f"{row['events']:>9,} events  {row['events_per_s']:>6,}/s  "
        f"{row['us_per_event']:>6} µs/event  CPU {row['cpu_us_per_event']:>6} µs/event  "
        f"RSS {row['rss_mb']:>7} MB  "
        f"peak {row['peak_rss_mb']:>7} MB  db {row['db_mb']:>8} MB"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.pollscale", description=__doc__)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--step", type=int, default=50_000)
    ap.add_argument("--json", action="store_true", help="one JSON object per step")
    args = ap.parse_args(argv)
    rows = run(
        args.events,
        args.step,
        lambda row: print(json.dumps(row) if args.json else _line(row), flush=True),
    )
    first, last = rows[0], rows[-1]
    summary = {
        "name": "pollscale-summary",
        "events": last["events"],
        "us_per_event_first": first["us_per_event"],
        "us_per_event_last": last["us_per_event"],
        "cost_growth": round(last["us_per_event"] / first["us_per_event"], 2),
        "cpu_us_per_event_first": first["cpu_us_per_event"],
        "cpu_us_per_event_last": last["cpu_us_per_event"],
        "cpu_cost_growth": round(last["cpu_us_per_event"] / first["cpu_us_per_event"], 2),
        "rss_mb_first": first["rss_mb"],
        "rss_mb_last": last["rss_mb"],
        "rss_growth_mb": round(last["rss_mb"] - first["rss_mb"], 1),
    }
    print(json.dumps(summary) if args.json else f"summary: {summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
