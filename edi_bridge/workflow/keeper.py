"""Keeping a send's lease while its provider call runs.

A provider call may outlast the lease (an SBIS send is up to three calls, each
retried up to four times with 30 s timeouts). While it runs, a small heartbeat
thread renews the lease every third of its length, so no other worker takes
the exchange over from a live sender (one heartbeat thread per process serves every
send in flight: a thread started and joined per call cost more than the send's
own bookkeeping). If a renewal finds the lease gone
(another worker took it after a pause, or the exchange was settled), every
further HTTP request of this send raises :class:`~edi_bridge.retry.LeaseLost`
before it is made: a worker that lost its lease makes no more calls.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import Protocol

import sqlalchemy as sa

from ..lifecycle import ExchangeStatus
from ..models import Exchange
from ..retry import LeaseLost, checked_before_requests
from ..store import Store, leases, schema

log = logging.getLogger("edi_bridge")

# Renewals per lease length: three leave two chances if one renewal is slow.
RENEWALS_PER_LEASE = 3
# An idle heartbeat thread waits this long for the next send before it ends.
IDLE_SECONDS = 30.0


def renew(store: Store, exchange_id: str, owner: str, seconds: float) -> bool:
    """Extend our lease on a queued exchange; False when it is no longer ours."""
    t = schema.exchanges
    with store.transaction() as conn:
        until = leases.until(conn, seconds)
        return bool(
            conn.execute(
                t.update()
                .where(t.c.id == exchange_id, t.c.lease_owner == owner, t.c.status == "queued")
                .values(lease_until=until)
            ).rowcount
        )


def give_back(store: Store, owner: str, exchange_id: str, attempts: int) -> None:
    """Release our lease on an exchange whose call did not happen, setting its attempts."""
    with store.transaction() as conn:
        leases.release_exchanges(conn, owner, [exchange_id])
        store.update_exchange(conn, exchange_id, attempts=max(attempts, 0))


def still_ours(store: Store, owner: str, exchange_id: str, seconds: float) -> bool:
    """Checked right before the provider call: queued, and the lease is (still) ours."""
    with store.transaction() as conn:
        row = store.exchange_row(conn, exchange_id, for_update=True)
        return row.status == "queued" and leases.take_exchange(conn, exchange_id, owner, seconds)


class LeaseKeeper:
    """Renews one exchange's lease in the background; knows when it was lost."""

    def __init__(self, store: Store, exchange_id: str, owner: str, seconds: float) -> None:
        self.store, self.exchange_id, self.owner = store, exchange_id, owner
        self.seconds = seconds
        self.renewals = 0
        self._lost = threading.Event()

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    @property
    def interval(self) -> float:
        return self.seconds / RENEWALS_PER_LEASE

    def check(self) -> None:
        if self._lost.is_set():
            raise LeaseLost(f"exchange {self.exchange_id}: another worker took over the send")

    def beat(self) -> bool:
        """Renew once; False when the lease is lost (no further beats are needed)."""
        try:
            kept = renew(self.store, self.exchange_id, self.owner, self.seconds)
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            # The database hiccupped: the lease may still run; try again next beat.
            log.warning("exchange %s: lease renewal failed: %s", self.exchange_id, exc)
            return True
        if not kept:
            log.warning("exchange %s: lease lost during the call", self.exchange_id)
            self._lost.set()
            return False
        self.renewals += 1
        return True

    @contextlib.contextmanager
    def running(self) -> Iterator[LeaseKeeper]:
        HEARTBEAT.add(self)
        try:
            with checked_before_requests(self.check):
                yield self
        finally:
            HEARTBEAT.remove(self)


class Heartbeat:
    """One thread renewing, each at its own interval, the leases of the sends in flight.

    A renewal runs outside the lock; a keeper removed meanwhile (its call ended) is not
    renewed again after :meth:`remove` returns, except for a renewal already running,
    which :meth:`remove` waits for, as the thread per call was joined.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[LeaseKeeper, float] = {}
        self._beating: LeaseKeeper | None = None
        self._thread: threading.Thread | None = None

    def add(self, keeper: LeaseKeeper) -> None:
        with self._cond:
            self._due[keeper] = time.monotonic() + keeper.interval
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lease-heartbeat")
                self._thread.daemon = True
                self._thread.start()
            self._cond.notify_all()  # the heartbeat, which may wait past this one's turn

    def remove(self, keeper: LeaseKeeper) -> None:
        with self._cond:
            self._due.pop(keeper, None)
            while self._beating is keeper:
                self._cond.wait()

    def _run(self) -> None:
        cond = self._cond
        while True:
            with cond:
                while True:
                    now = time.monotonic()
                    if not self._due:
                        if not cond.wait(IDLE_SECONDS) and not self._due:
                            self._thread = None  # idle: the next add starts another
                            return
                        continue
                    keeper, at = min(self._due.items(), key=lambda item: item[1])
                    if at <= now:
                        break
                    cond.wait(at - now)
                self._beating = keeper
                self._due[keeper] = now + keeper.interval
            alive = True
            try:
                alive = keeper.beat()
            except Exception:  # a bug must not end the renewals of every other send
                log.exception("exchange %s: lease renewal failed", keeper.exchange_id)
            finally:
                with cond:
                    self._beating = None
                    if not alive:
                        self._due.pop(keeper, None)
                    cond.notify_all()

    def _forget_thread(self) -> None:
        # A forked child has none of the parent's threads: its first send starts one.
        self._cond = threading.Condition()
        self._due.clear()
        self._beating, self._thread = None, None


HEARTBEAT = Heartbeat()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=HEARTBEAT._forget_thread)


# A send usually answers within seconds; a caller is not kept longer than this behind one
# that does not (it gets "queued", and the holder or a worker finishes the send).
HOLDER_WAIT = 30.0


class _Dispatching(Protocol):
    owner: str
    lease_seconds: float

    def dispatch(self, exchange_id: str) -> Exchange: ...


def after_holder(store: Store, exchange: Exchange, sending: _Dispatching) -> Exchange:
    """``exchange`` once another live process, which holds its lease, has finished sending
    it (the same idempotency key sent twice at one moment): its outcome, not "queued", is
    the answer. Waits at most ``HOLDER_WAIT`` seconds (or one lease, if shorter); a holder
    that dies is taken over by a dispatch."""
    deadline = time.monotonic() + min(sending.lease_seconds, HOLDER_WAIT)
    while exchange.status == ExchangeStatus.QUEUED and time.monotonic() < deadline:
        with store.transaction() as conn:
            holder = store.exchange_row(conn, exchange.id).lease_owner
        if holder == sending.owner:
            break
        if holder is not None:
            time.sleep(0.05)
        exchange = sending.dispatch(exchange.id)  # its outcome now, or ours if it gave up
        if holder is None:
            break
    return exchange


__all__ = [
    "HEARTBEAT",
    "HOLDER_WAIT",
    "RENEWALS_PER_LEASE",
    "Heartbeat",
    "LeaseKeeper",
    "after_holder",
    "give_back",
    "renew",
    "still_ours",
]
