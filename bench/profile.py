"""Where the time goes in poll and send: cProfile plus a count of SQL statements.

    python -m bench.profile poll [--events 20000] [--top 25] [--out poll.pstats]
    python -m bench.profile send [--documents 300] [--top 25] [--out send.pstats]
    python -m bench.profile worker [--dsn postgresql://…] [--exchanges 200] [--latency 0.05]
        [--concurrency 1]
    python -m bench.profile check [--documents 300] [--top 25] [--out check.pstats]
    python -m bench.profile read [--events 20000] [--top 25] [--out read.pstats]

The workloads are those of ``bench.poll`` and ``bench.send`` (the Diadoc fake in its
own process, a SQLite store). The profile covers the calling thread: for poll that is
the thread applying pages (the page reader runs in its own thread, and its HTTP and
JSON work is what the poll floor measures); for send, the whole send; for worker
(PostgreSQL, the mock answering after ``--latency``), each claim-and-send of a
``Worker(concurrency=1)`` send slot, with its statements, transactions and round trips
per exchange (the worker's polls and the mock's own statements, on its ``mock_*``
tables, left out) and the process's CPU per exchange; for check, one ``Bridge.poll`` with the
counterparty signature check on (the default), after ``--documents`` sends to the mock,
whose counterparties sign each document (a page of valid signatures, a signer each); for
read, the Diadoc page reader alone (``DiadocProvider.poll`` page after page, as the feed's
reader thread calls it, nothing applied), timed without the profiler first (process CPU
per event beside the floor's: the same pages through a bare ``requests.Session`` and
``json.loads``), then profiled. Statements are
counted at the driver (``before_cursor_execute``): one per round trip, an
``executemany`` counted once, with the rows it carried counted apart.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from edi_bridge import Bridge
from edi_bridge.signing import throwaway_signer
from edi_bridge.testing import sample_counterparty

from .common import contract, fake_process
from .poll import seed_store
from .send import RATE, SIZE


class Statements:
    """Counts statements (round trips) and rows sent by an engine while active."""

    def __init__(self) -> None:
        self.statements = 0
        self.rows = 0
        self.by_verb: dict[str, int] = {}
        self.mock = 0  # the mock provider's own statements, not counted above

    def __call__(
        self, _conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, many: bool
    ) -> None:
        if "mock_" in sql:
            self.mock += 1
            return
        self.statements += 1
        self.rows += len(params) if many else 1
        verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
        self.by_verb[verb] = self.by_verb.get(verb, 0) + 1


@contextmanager
def counting(engine: sa.Engine) -> Iterator[Statements]:
    counter = Statements()
    sa.event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)


# The seeded exchanges' documents are not the ones the fake's counterparties signed, so
# the counterparty signature check (on by default) is off here: this measures the feed
# and the writer; tests/test_statements.py bounds the check's own statements.
UNCHECKED = {"signing.check_counterparty": "false"}


def _report(
    what: str,
    units: int,
    unit: str,
    seconds: float,
    counter: Statements,
    profile: cProfile.Profile,
    top: int,
    out: Path | None,
) -> str:
    text = io.StringIO()
    text.write(
        f"{what}: {units} {unit} in {seconds:.2f} s under the profiler "
        f"({seconds / units * 1e6:.0f} µs per {unit.rstrip('s')})\n"
        f"SQL: {counter.statements} statements ({counter.statements / units:.2f} per "
        f"{unit.rstrip('s')}), {counter.rows} rows ({counter.rows / units:.2f} per "
        f"{unit.rstrip('s')}); by verb: {dict(sorted(counter.by_verb.items()))}\n\n"
    )
    for key in ("tottime", "cumulative"):
        text.write(f"-- top {top} by {key} --\n")
        pstats.Stats(profile, stream=text).strip_dirs().sort_stats(key).print_stats(top)
    if out is not None:
        profile.dump_stats(str(out))
    return text.getvalue()


def profile_poll(events: int, top: int, out: Path | None) -> str:
    documents = events // 2
    seed = "bench-profile"
    with (
        fake_process("--counterparty", seed, "--feed-documents", str(documents)) as fake,
        tempfile.TemporaryDirectory() as tmp,
        Bridge.open(Path(tmp) / "poll.db", settings={**fake.settings(), **UNCHECKED}) as bridge,
    ):
        seed_store(bridge, documents, seed)
        bridge.provider("diadoc").cursor_scope  # noqa: B018  warm: token and box
        return _profiled(
            "poll", events, "events", bridge, lambda: bridge.poll_count(["diadoc"]), top, out
        )


def profile_send(documents: int, top: int, out: Path | None) -> str:
    with fake_process("--counterparty", "bench-send") as fake, tempfile.TemporaryDirectory() as tmp:
        settings = fake.settings(rate=str(RATE))
        with Bridge.open(Path(tmp) / "send.db", settings=settings, signer=throwaway_signer()) as b:
            counterparty = sample_counterparty("bench-send")
            b.send(counterparty, contract(-1, SIZE), provider="diadoc")  # warm
            docs = [contract(i, SIZE) for i in range(documents)]

            def send_all() -> None:
                for doc in docs:
                    b.send(counterparty, doc, provider="diadoc")

            return _profiled("send", documents, "documents", b, send_all, top, out)


def profile_check(documents: int, top: int, out: Path | None) -> str:
    with tempfile.TemporaryDirectory() as tmp, Bridge.open(Path(tmp) / "check.db") as bridge:
        for i in range(documents):
            bridge.send(sample_counterparty(f"check{i}"), contract(i, SIZE))
        changes: list[Any] = []
        cpu = time.process_time()
        report = _profiled(
            "poll with the check",
            documents,
            "signatures",
            bridge,
            lambda: changes.extend(bridge.poll()),
            top,
            out,
        )
        cpu = time.process_time() - cpu
    signed = sum(1 for c in changes if c.kind == "signed")
    if signed != documents:
        raise RuntimeError(f"{signed} of {documents} exchanges signed: the check vetoed some")
    return (
        f"process CPU {cpu / documents * 1000:.1f} ms per signature (under the profiler)\n" + report
    )


def profile_read(events: int, top: int, out: Path | None) -> str:
    from edi_bridge_providers.diadoc.adapter import DiadocProvider

    from edi_bridge.provider import ProviderContext

    seed = "bench-profile"
    with fake_process("--counterparty", seed, "--feed-documents", str(events // 2)) as fake:
        adapter = DiadocProvider(ProviderContext(config=fake.adapter_config()))
        adapter.cursor_scope  # noqa: B018  warm: token and box

        def read_all() -> int:
            cursor, seen = None, 0
            while True:
                page = adapter.poll(cursor)
                seen += len(page.events) + len(page.unreadable)
                cursor = page.cursor
                if not page.has_more or not page.events:
                    return seen

        floor_cpu = _floor_cpu(fake, adapter, events)
        runs = []
        for _ in range(3):
            cpu = time.process_time()
            seen = read_all()
            runs.append(time.process_time() - cpu)
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.runcall(read_all)
        seconds = time.perf_counter() - start
        adapter.close()
    per = sorted(1e6 * r / events for r in runs)
    head = (
        f"process CPU per event, reader (3 runs, no profiler): "
        f"{' / '.join(f'{p:.1f}' for p in per)} µs; floor: {1e6 * floor_cpu / events:.1f} µs "
        f"({events} box events, {seen} normalized events)\n"
    )
    return head + _report("read", events, "events", seconds, Statements(), profile, top, out)


def _floor_cpu(fake: Any, adapter: Any, events: int) -> float:
    """Process CPU of bench.poll's floor: the same pages, requests and json.loads only."""
    import requests

    credential = adapter.client.auth
    headers = {**credential.apply(credential.current(adapter.client.http))}
    headers["Accept"] = "application/json"
    best = float("inf")
    with requests.Session() as session:
        for _ in range(3):
            cpu, after, seen = time.process_time(), None, 0
            while True:
                params: dict[str, Any] = {"boxId": fake.box_id, "limit": 100}
                if after:
                    params["afterIndexKey"] = after
                url = fake.url + "/V8/GetNewEvents"
                batch = session.get(url, params=params, headers=headers, timeout=60).json()
                batch = batch["Events"]
                seen += len(batch)
                if not batch:
                    break
                after = batch[-1]["IndexKey"]
            best = min(best, time.process_time() - cpu)
    if seen != events:
        raise RuntimeError(f"the floor read {seen} box events, expected {events}")
    return best


def _profiled(
    what: str,
    units: int,
    unit: str,
    bridge: Bridge,
    work: Callable[[], object],
    top: int,
    out: Path | None,
) -> str:
    profile = cProfile.Profile()
    with counting(bridge.store.engine) as counter:
        start = time.perf_counter()
        profile.runcall(work)
        seconds = time.perf_counter() - start
    return _report(what, units, unit, seconds, counter, profile, top, out)


def profile_worker(
    dsn: str, exchanges: int, latency: float, top: int, out: Path | None, concurrency: int = 1
) -> str:
    from edi_bridge.worker import Worker

    from .workers import enqueue, fresh_schema

    profile = cProfile.Profile()
    polling = threading.local()
    polls = Statements()
    transactions = _Transactions(polling)

    class ProfiledWorker(Worker):
        def _send_next(self) -> bool:
            # One slot (concurrency 1) is profiled: cProfile follows one thread.
            if concurrency == 1:
                profile.enable()
            try:
                return super()._send_next()
            finally:
                if concurrency == 1:
                    profile.disable()

        def _poll(self) -> None:
            polling.on = True
            try:
                super()._poll()
            finally:
                polling.on = False

    with fresh_schema(dsn) as (url, _engine, _name):
        enqueue(url, exchanges)
        settings = {"mock.latency": str(latency)}
        with Bridge.open(url, settings=settings) as bridge:
            engine = bridge.store.engine
            worker = ProfiledWorker(bridge, concurrency=concurrency, poll_interval=3600)
            with counting(engine) as counter:
                sa.event.listen(engine, "before_cursor_execute", transactions.executed)
                sa.event.listen(engine, "commit", transactions.ended)
                sa.event.listen(engine, "rollback", transactions.ended)
                cpu = time.process_time()
                start = time.perf_counter()
                stats = worker.run(until_idle=True)
                seconds = time.perf_counter() - start
                cpu = time.process_time() - cpu
                sa.event.remove(engine, "before_cursor_execute", transactions.executed)
                sa.event.remove(engine, "commit", transactions.ended)
                sa.event.remove(engine, "rollback", transactions.ended)
                polls.statements = transactions.poll_statements
    if stats.sent != exchanges:
        raise RuntimeError(f"the worker sent {stats.sent} of {exchanges}")
    counter.statements -= polls.statements
    report = _report("worker sends", exchanges, "exchanges", seconds, counter, profile, top, out)
    n = exchanges
    return (
        f"per exchange, claim included (the worker's two polls and the mock's own left out): "
        f"{counter.statements / n:.2f} statements in {transactions.count / n:.2f} "
        f"transactions = {(counter.statements + 2 * transactions.count) / n:.2f} round trips "
        f"(BEGIN and COMMIT are one each); the mock's own: {counter.mock / n:.2f} statements; "
        f"polls: {polls.statements} statements\n"
        f"process CPU {cpu / n * 1000:.2f} ms per exchange (the mock's work included); "
        f"latency {latency} s per send, {seconds / n * 1000:.1f} ms per exchange in all, "
        f"concurrency {concurrency}\n" + report
    )


class _Transactions:
    """Transactions that ran at least one statement of ours (not the mock's, not a poll's)."""

    def __init__(self, polling: threading.local) -> None:
        self.polling = polling
        self.count = 0
        self.poll_statements = 0
        self._open: set[int] = set()

    def executed(self, conn: Any, _cur: Any, sql: str, *_: Any) -> None:
        if "mock_" in sql:
            return
        thread = threading.current_thread().name
        if getattr(self.polling, "on", False) or thread == "edi-bridge-feed":
            self.poll_statements += 1
            return
        self._open.add(id(conn))

    def ended(self, conn: Any) -> None:
        if id(conn) in self._open:
            self._open.discard(id(conn))
            self.count += 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    ap.add_argument("what", choices=("poll", "send", "worker", "check", "read"))
    ap.add_argument(
        "--dsn",
        default=os.environ.get(
            "EDI_BRIDGE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        help="worker: PostgreSQL",
    )
    ap.add_argument("--exchanges", type=int, default=200, help="worker: exchanges")
    ap.add_argument("--latency", type=float, default=0.05, help="worker: mock latency, s")
    ap.add_argument(
        "--concurrency", type=int, default=1, help="worker: send slots (cProfile at 1 only)"
    )
    ap.add_argument("--events", type=int, default=20_000, help="poll, read: box events")
    ap.add_argument("--documents", type=int, default=300, help="send, check: documents")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--out", type=Path, help="also write the raw profile (pstats)")
    args = ap.parse_args(argv)
    if args.what == "poll":
        print(profile_poll(args.events, args.top, args.out))
    elif args.what == "send":
        print(profile_send(args.documents, args.top, args.out))
    elif args.what == "read":
        print(profile_read(args.events, args.top, args.out))
    elif args.what == "check":
        print(profile_check(args.documents, args.top, args.out))
    else:
        print(
            profile_worker(
                args.dsn, args.exchanges, args.latency, args.top, args.out, args.concurrency
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
