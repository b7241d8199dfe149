"""Keeping a send's lease while its provider call runs.

A provider call may outlast the lease (an SBIS send is up to three calls, each
retried up to four times with 30 s timeouts). While it runs, a small heartbeat
thread renews the lease every third of its length, so no other worker takes
the exchange over from a live sender. If a renewal finds the lease gone
(another worker took it after a pause, or the exchange was settled), every
further HTTP request of this send raises :class:`~edi_bridge.retry.LeaseLost`
before it is made: a worker that lost its lease makes no more calls.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

import sqlalchemy as sa

from ..retry import LeaseLost, checked_before_requests
from ..store import Store, leases, schema

log = logging.getLogger("edi_bridge")

# Renewals per lease length: three leave two chances if one renewal is slow.
RENEWALS_PER_LEASE = 3


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


class LeaseKeeper:
    """Renews one exchange's lease in the background; knows when it was lost."""

    def __init__(self, store: Store, exchange_id: str, owner: str, seconds: float) -> None:
        self.store, self.exchange_id, self.owner = store, exchange_id, owner
        self.seconds = seconds
        self.renewals = 0
        self._stop = threading.Event()
        self._lost = threading.Event()

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def check(self) -> None:
        if self._lost.is_set():
            raise LeaseLost(f"exchange {self.exchange_id}: another worker took over the send")

    def _run(self) -> None:
        while not self._stop.wait(self.seconds / RENEWALS_PER_LEASE):
            try:
                kept = renew(self.store, self.exchange_id, self.owner, self.seconds)
            except (sa.exc.SQLAlchemyError, OSError) as exc:
                # The database hiccupped: the lease may still run; try again next beat.
                log.warning("exchange %s: lease renewal failed: %s", self.exchange_id, exc)
                continue
            if not kept:
                log.warning("exchange %s: lease lost during the call", self.exchange_id)
                self._lost.set()
                return
            self.renewals += 1

    @contextlib.contextmanager
    def running(self) -> Iterator[LeaseKeeper]:
        beat = threading.Thread(target=self._run, name=f"lease-{self.exchange_id}", daemon=True)
        beat.start()
        try:
            with checked_before_requests(self.check):
                yield self
        finally:
            self._stop.set()
            beat.join()


__all__ = ["RENEWALS_PER_LEASE", "LeaseKeeper", "renew"]
