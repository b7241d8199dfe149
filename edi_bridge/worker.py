"""A long-running worker: sends queued exchanges and polls providers.

Several workers (processes, machines) can share one PostgreSQL database:
each exchange is leased by one worker while it is sent, and each provider
feed by one worker while it is read (see :mod:`edi_bridge.store.leases`). A
worker that dies keeps nothing: its leases expire and others take over,
reconciling an interrupted send with the provider instead of sending twice.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from .errors import EdiBridgeError
from .models import ExchangeStatus
from .workflow import Bridge

log = logging.getLogger("edi_bridge.worker")


@dataclasses.dataclass
class WorkerStats:
    sent: int = 0
    still_queued: int = 0
    failed: int = 0
    errors: int = 0
    polls: int = 0
    changes: int = 0


class Worker:
    """Runs until :meth:`stop` (or, with ``until_idle``, until nothing is left)."""

    def __init__(
        self,
        bridge: Bridge,
        *,
        concurrency: int = 4,
        poll_interval: float = 30.0,
        idle_sleep: float = 0.5,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.bridge = bridge
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.idle_sleep = idle_sleep
        self.stats = WorkerStats()
        self._stop = threading.Event()
        self._stats_lock = threading.Lock()

    def stop(self) -> None:
        """Ask the loop to end: no new work, in-flight sends finish, leases go back."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _send(self, exchange_id: str) -> None:
        try:
            # The outcome only: the exchange is not read back after the call.
            exchange = self.bridge.sending.dispatch_outcome(exchange_id)
        except Exception as exc:
            # Whatever broke (database, bug), the worker goes on; the lease
            # expires and the exchange is tried again.
            self._count("errors")
            log.error(
                "send failed",
                extra={"exchange": exchange_id, "error": f"{type(exc).__name__}: {exc}"},
            )
            return
        if exchange.status == ExchangeStatus.FAILED:
            self._count("failed")
        elif exchange.status == ExchangeStatus.QUEUED:
            self._count("still_queued")
        else:
            # Sent; possibly already delivered or signed by news that came early.
            self._count("sent")
        log.info(
            "dispatched",
            extra={"exchange": exchange_id, "status": exchange.status, "owner": self.bridge.owner},
        )

    def _count(self, field: str) -> None:
        with self._stats_lock:
            setattr(self.stats, field, getattr(self.stats, field) + 1)

    def _poll(self) -> None:
        try:
            before = self.bridge.store.last_event_seq()
            try:
                changes = self.bridge.poll_count()
            except Exception as exc:
                # One feed, a carrier, a bug or an odd answer: the other feeds were
                # polled (the failed one is backed off by the bridge); the worker goes on.
                self._count("errors")
                log.error(
                    "poll failed",
                    exc_info=not isinstance(exc, EdiBridgeError),
                    extra={"error": f"{type(exc).__name__}: {exc}"},
                )
                changes = self.bridge.store.count_events_after(before)
        except Exception as exc:  # the database itself: try again next round
            self._count("errors")
            log.error("poll failed", extra={"error": f"{type(exc).__name__}: {exc}"})
            return
        self.stats.polls += 1
        self.stats.changes += changes
        if changes:
            log.info("polled", extra={"changes": changes})

    def run(self, *, until_idle: bool = False) -> WorkerStats:
        log.info(
            "worker started", extra={"owner": self.bridge.owner, "concurrency": self.concurrency}
        )
        in_flight: set[Future[None]] = set()
        next_poll = 0.0
        try:
            with ThreadPoolExecutor(self.concurrency, thread_name_prefix="edi-send") as pool:
                while not self._stop.is_set():
                    claimed: list[str] = []
                    free = self.concurrency - len(in_flight)
                    if free > 0:
                        claimed = self.bridge.claim_queued(free)
                        in_flight |= {pool.submit(self._send, i) for i in claimed}
                    polled = False
                    if time.monotonic() >= next_poll:
                        self._poll()
                        polled = True
                        next_poll = time.monotonic() + self.poll_interval
                    if until_idle and not in_flight and not claimed:
                        if not polled:
                            self._poll()  # apply what the sends caused before leaving
                        break
                    if in_flight:
                        done, _ = wait(
                            in_flight, timeout=self.idle_sleep, return_when=FIRST_COMPLETED
                        )
                        in_flight -= done
                    elif not claimed:
                        self._stop.wait(self.idle_sleep)
                # Graceful stop: let in-flight calls finish before leases go back.
                wait(in_flight)
        finally:
            released = self.bridge.release()
            log.info(
                "worker stopped",
                extra={"owner": self.bridge.owner, "released": released, **vars(self.stats)},
            )
        return self.stats


__all__ = ["Worker", "WorkerStats"]
