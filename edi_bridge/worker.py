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

from .errors import EdiBridgeError
from .models import ExchangeStatus
from .workflow import Bridge
from .workflow.claiming import dispatch_next

log = logging.getLogger("edi_bridge.worker")

MAX_POLLS_PER_SECOND = 20


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
        # Set when a slot found work: idle slots try again at once instead of sleeping.
        self._work = threading.Event()
        self._slots_done = threading.Event()
        self._slots_left = 0
        self._watching = False  # an idle slot is claiming again every idle_sleep

    def stop(self) -> None:
        """Ask the loop to end: no new work, in-flight sends finish, leases go back."""
        self._stop.set()
        self._work.set()  # idle slots see it at once

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _send_next(self) -> bool:
        """Claim and send one exchange; False when none was free (or the claim failed)."""
        try:
            # Once claimed, idle slots are woken: more may be queued. The outcome only:
            # the exchange is not read back after the call.
            exchange = dispatch_next(self.bridge.sending, claimed=self._work.set)
        except Exception as exc:
            # Whatever broke (database, bug), the worker goes on; the exchange stays
            # leased to us until its lease expires, then it is tried again.
            self._count("errors")
            log.error("send failed", extra={"error": f"{type(exc).__name__}: {exc}"})
            return False
        if exchange is None:
            return False
        if exchange.status == ExchangeStatus.FAILED:
            self._count("failed")
        elif exchange.status == ExchangeStatus.QUEUED:
            self._count("still_queued")
        else:
            # Sent; possibly already delivered or signed by news that came early.
            self._count("sent")
        log.info(
            "dispatched",
            extra={
                "exchange": exchange.exchange_id,
                "status": exchange.status,
                "owner": self.bridge.owner,
            },
        )
        return True

    def _slot(self, until_idle: bool, halt: threading.Event) -> None:
        """One send slot: claims and sends one exchange after another.

        Under load it goes straight from one send to the next (the claim is part of
        the send's first transaction). When it finds nothing it waits (:meth:`_idle`);
        a slot that finds work wakes the idle ones, since more may be queued. With
        ``until_idle`` the slot ends at its first empty claim.
        """
        try:
            while not (self._stop.is_set() or halt.is_set()):
                if self._send_next():
                    continue
                if until_idle:
                    return
                self._idle(halt)
        finally:
            with self._stats_lock:
                self._slots_left -= 1
                if not self._slots_left:
                    self._slots_done.set()

    def _idle(self, halt: threading.Event) -> None:
        """Wait for work: one idle slot (the watcher) claims again every ``idle_sleep``;
        the others wait until a slot finds work, so idle slots cost the database one
        claim per ``idle_sleep`` together, not one each."""
        with self._stats_lock:
            watcher = not self._watching
            self._watching = True
        self._work.clear()
        try:
            # Checked after the clear: stop() and the run's end set the flag after theirs.
            if not (self._stop.is_set() or halt.is_set()):
                # Set by a slot that found work, by stop(), or at the run's end.
                self._work.wait(self.idle_sleep if watcher else None)
        finally:
            if watcher:
                with self._stats_lock:
                    self._watching = False

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

    def _handled(self) -> int:
        with self._stats_lock:
            return self.stats.sent + self.stats.still_queued + self.stats.failed

    def run(self, *, until_idle: bool = False) -> WorkerStats:
        log.info(
            "worker started", extra={"owner": self.bridge.owner, "concurrency": self.concurrency}
        )
        self._slots_left = self.concurrency
        self._slots_done.clear()
        halt = threading.Event()  # this run's end; stop() ends every run, this one only
        slots = [
            threading.Thread(target=self._slot, args=(until_idle, halt), name=f"edi-send-{n}")
            for n in range(self.concurrency)
        ]
        try:
            for slot in slots:
                slot.start()
            while True:
                # Polls run here, beside the sends: a slow feed never holds a send slot.
                polled_at = self._handled()
                self._poll()
                # At most MAX_POLLS_PER_SECOND, whatever the interval asked.
                if self._slots_done.wait(max(self.poll_interval, 1 / MAX_POLLS_PER_SECOND)):
                    break
            if until_idle and self._handled() != polled_at:
                self._poll()  # apply what the sends caused before leaving
        finally:
            # Graceful stop: slots finish their in-flight send before leases go back.
            halt.set()
            self._work.set()
            for slot in slots:
                if slot.is_alive():
                    slot.join()
            released = self.bridge.release()
            log.info(
                "worker stopped",
                extra={"owner": self.bridge.owner, "released": released, **vars(self.stats)},
            )
        return self.stats


__all__ = ["Worker", "WorkerStats"]
