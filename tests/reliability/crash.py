"""Crash points: kill this process with SIGKILL at a named step boundary.

Run as a script, this module is the child process of the crash tests: it
installs the hooks named by ``EDI_BRIDGE_CRASH_AT=<point>[:<n>]`` (die at the
n-th time the point is reached, default 1), then drives a whole round of work
(send every intent, dispatch what is queued, poll until every exchange is
settled) and prints a JSON summary. Nothing in the library is changed: the
hooks wrap the adapter and a few Bridge/Store methods inside this process only.

Points, in the order a send and a poll reach them:

``send.before_call``   our signature and ``attempts`` are committed; the provider is not called
``send.after_call``    the provider holds the document; we have not recorded it
``send.after_record``  ``sent`` is committed; the callbacks have not run
``reconcile.after_find`` after a crash, the provider was asked (find_sent) and answered
``poll.after_fetch``   a page of events is read; nothing applied
``poll.mid_page``      part of a page is written, inside the page's transaction: event
                       claims and signatures, not yet statuses, history, outbox
``poll.before_cursor`` every event of the page is applied; the cursor is not yet moved
``poll.after_commit``  the page and its cursor are committed; the feed lease is still held
``callback.before_mark`` a callback ran; its event is not yet marked as handed over
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

POINTS = (
    "send.before_call",
    "send.after_call",
    "send.after_record",
    "reconcile.after_find",
    "poll.after_fetch",
    "poll.mid_page",
    "poll.before_cursor",
    "poll.after_commit",
    "callback.before_mark",
)
ENV = "EDI_BRIDGE_CRASH_AT"
LEASE_SECONDS = 0.2  # a dead child's leases run out quickly; the next child takes over


class CrashHooks:
    """Counts how often each point is reached; dies at the armed one."""

    def __init__(self, spec: str | None) -> None:
        self.hits: Counter[str] = Counter()
        self.point: str | None = None
        self.nth = 1
        if spec:
            point, _, nth = spec.partition(":")
            if point not in POINTS:
                raise SystemExit(f"unknown crash point {point!r}; known: {', '.join(POINTS)}")
            self.point, self.nth = point, int(nth or 1)

    def reached(self, point: str) -> None:
        self.hits[point] += 1
        if point == self.point and self.hits[point] == self.nth:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    def install(self) -> None:
        """Wrap the methods at whose edges the points lie."""
        from edi_bridge.store import Store, leases
        from edi_bridge.workflow import Bridge
        from edi_bridge.workflow.outbox import Outbox
        from edi_bridge.workflow.sending import Sending

        reached = self.reached
        provider = Bridge.provider

        @functools.wraps(provider)
        def hooked_provider(bridge: Any, name: str) -> Any:
            adapter = provider(bridge, name)
            if not getattr(adapter, "_crash_hooked", False):
                _wrap(adapter, "send", before="send.before_call", after="send.after_call")
                _wrap(adapter, "find_sent", after="reconcile.after_find")
                _wrap(adapter, "poll", after="poll.after_fetch")
                adapter._crash_hooked = True
            return adapter

        def _wrap(obj: Any, name: str, *, before: str = "", after: str = "") -> None:
            real: Callable[..., Any] = getattr(obj, name)

            def hooked(*args: Any, **kw: Any) -> Any:
                if before:
                    reached(before)
                result = real(*args, **kw)
                if after:
                    reached(after)
                return result

            setattr(obj, name, hooked)

        Bridge.provider = hooked_provider  # type: ignore[method-assign]

        deliver = Sending.deliver
        delivering = [False]

        def hooked_deliver(sending: Any, attempt: Any) -> Any:
            # Every send (fresh or resumed) ends in deliver, whose last step is
            # dispatch_events: entering it after 'sent' is recorded is the boundary.
            delivering[0] = True
            try:
                return deliver(sending, attempt)
            finally:
                delivering[0] = False

        Sending.deliver = hooked_deliver  # type: ignore[method-assign]

        dispatch_events = Outbox.dispatch_events

        def hooked_dispatch_events(outbox: Any) -> int:
            if delivering[0]:
                reached("send.after_record")
            return dispatch_events(outbox)

        Outbox.dispatch_events = hooked_dispatch_events  # type: ignore[method-assign]

        update_exchanges = Store.update_exchanges

        def hooked_update_exchanges(store: Any, *args: Any, **kw: Any) -> Any:
            # A page applied in bulk: its event claims and signatures are written,
            # the statuses, history and outbox are not (one transaction).
            reached("poll.mid_page")
            return update_exchanges(store, *args, **kw)

        Store.update_exchanges = hooked_update_exchanges  # type: ignore[method-assign]

        set_cursor = Store.set_cursor

        def hooked_set_cursor(store: Any, *args: Any, **kw: Any) -> Any:
            reached("poll.before_cursor")
            return set_cursor(store, *args, **kw)

        Store.set_cursor = hooked_set_cursor  # type: ignore[method-assign]

        release_feed = leases.release_feed

        def hooked_release_feed(*args: Any, **kw: Any) -> Any:
            reached("poll.after_commit")
            return release_feed(*args, **kw)

        leases.release_feed = hooked_release_feed

        mark = Store.mark_dispatched

        def hooked_mark(store: Any, seq: int) -> None:
            reached("callback.before_mark")
            mark(store, seq)

        Store.mark_dispatched = hooked_mark  # type: ignore[method-assign]


def run_round(args: argparse.Namespace, hooks: CrashHooks) -> dict[str, Any]:
    from edi_bridge import Bridge
    from edi_bridge.models import Event, ExchangeStatus
    from edi_bridge.testing import sample_contract, sample_counterparty

    settings = json.loads(args.settings) if args.settings else {}
    bridge = Bridge.open(
        args.db,
        settings=settings,
        lease_seconds=LEASE_SECONDS,
    )
    log_fd = os.open(args.callbacks, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def record(event: Event) -> None:
        # One write per delivery, O_APPEND: survives SIGKILL whole or not at all.
        os.write(log_fd, f"{event.key}\t{event.exchange_id}\t{event.kind}\n".encode())

    bridge.on("*", record)
    ids = []
    bridge.dispatch_events()  # changes recorded before an earlier crash
    for i in range(args.count):
        counterparty = sample_counterparty(f"crash-{i % 3}")
        exchange = bridge.send(
            counterparty,
            sample_contract(f"CR-{i}"),
            idempotency_key=f"crash-{i}",
            provider=args.provider,
        )
        ids.append(exchange.id)
    settled = False
    for _ in range(80):
        bridge.dispatch_queued()
        bridge.poll([args.provider])
        statuses = {bridge.status(i).status for i in ids}
        if statuses == {ExchangeStatus.SIGNED}:
            settled = True
            break
        time.sleep(LEASE_SECONDS / 4)  # leases of a killed predecessor run out
    bridge.close()
    os.close(log_fd)
    return {"settled": settled, "ids": ids, "hits": dict(hooks.hits)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--provider", default="mock")
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--settings", default="")
    parser.add_argument("--callbacks", required=True, type=Path)
    args = parser.parse_args(argv)
    hooks = CrashHooks(os.environ.get(ENV))
    hooks.install()
    print(json.dumps(run_round(args, hooks)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
