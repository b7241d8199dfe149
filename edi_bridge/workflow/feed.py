"""Reading an operator's change feed and applying it.

Polling reads the feed a page at a time; each page's events, the exchanges they
change, the backend events they cause and the cursor after the page commit in
one transaction. An event id already applied in that feed changes nothing; an
event about a document whose send has not been recorded yet is parked and
applied when the record commits (:meth:`TransitionWriter.apply_early_events`).
An event that cannot be applied is put aside in the same transaction
(:mod:`.quarantine`), so one poison event never stops its page or its feed.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy.engine import Connection

from ..provider import EventPage, Provider, ProviderEvent, UnreadableEvent
from ..store import Store, leases, read_connection, utcnow
from ..store.rows import AppliedEvent
from ..transitions import TransitionWriter
from .quarantine import Poison, apply_isolated, hold, malformed

log = logging.getLogger("edi_bridge")

MAX_PAGES_PER_POLL = 1000
# Pages read ahead while earlier ones are applied, and the events one transaction may
# apply when several pages are waiting (fewer commits when the feed has a backlog).
PAGES_AHEAD = 4
EVENTS_PER_TRANSACTION = 1000
EARLY_EVENTS_KEPT = dt.timedelta(days=7)  # far longer than any send takes to be recorded


class Feeds:
    """Reads and applies the feeds of EDI adapters, one lease per feed."""

    def __init__(
        self, store: Store, writer: TransitionWriter, owner: str, lease_seconds: float
    ) -> None:
        self.store = store
        self.writer = writer
        self.owner = owner
        self.lease_seconds = lease_seconds

    def poll(self, name: str, adapter: Provider) -> None:
        """Apply what ``adapter``'s feed has for us, unless another worker reads it."""
        scope = adapter.cursor_scope
        with self.store.transaction() as conn:
            if not leases.take_feed(conn, scope, self.owner, self.lease_seconds):
                log.debug("%s: feed %s is being read by another worker", name, scope)
                return
            # Early events about documents that never became ours are dropped in time.
            self.store.prune_early_events(conn, utcnow() - EARLY_EVENTS_KEPT)
        try:
            self._read(name, adapter, scope)
        finally:
            with self.store.transaction() as conn:
                leases.release_feed(conn, scope, self.owner)

    def _read(self, name: str, adapter: Provider, scope: str) -> None:
        """Apply the feed's pages in order, reading the next pages while applying.

        A reader thread follows the cursor page by page (it needs nothing from
        the store) and hands pages over a short queue; pages that are waiting
        are applied together, with the cursor after the last of them, in one
        transaction. A read that fails stops the poll; the next poll resumes
        from the cursor.
        """
        cursor = self.store.get_cursor(scope)
        reader = _PageReader(adapter.poll, cursor, MAX_PAGES_PER_POLL)
        try:
            while True:
                pages = reader.take(EVENTS_PER_TRANSACTION)
                if not pages:
                    break
                # Signature checks run before the write transaction, never inside it.
                verdicts = self.judge(name, [e for p in pages for e in p.events])
                with self.store.transaction(batch=True) as conn:
                    if not leases.take_feed(conn, scope, self.owner, self.lease_seconds):
                        log.warning("%s: lost the lease on feed %s; stopping", name, scope)
                        return
                    for page in pages:
                        self.apply_page(conn, name, scope, page.events, page.unreadable, verdicts)
                    # Same transaction: the cursor never moves past unapplied events.
                    if pages[-1].cursor != cursor:
                        self.store.set_cursor(conn, scope, pages[-1].cursor)
                cursor = pages[-1].cursor
        finally:
            reader.stop()
        if reader.truncated:
            log.warning(
                "%s: stopped after %d pages; the rest on the next poll", name, MAX_PAGES_PER_POLL
            )

    def judge(self, name: str, events: list[ProviderEvent]) -> dict[str, dict[str, Any]]:
        """The signature check's verdicts for the signatures among ``events`` (read only)."""
        signed = [e for e in events if e.signature and self.writer.signature_check]
        if not signed:
            return {}
        with read_connection(self.store.engine) as conn:
            ids = self.store.exchange_ids_for_documents(conn, name, (e.document_id for e in signed))
        return self.writer.judge_signatures(
            [(ids[e.document_id], e) for e in signed if e.document_id in ids]
        )

    def apply_page(
        self,
        conn: Connection,
        name: str,
        scope: str,
        events: Iterable[ProviderEvent],
        unreadable: Iterable[UnreadableEvent] = (),
        verdicts: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Claim a page's new event ids, park the early ones, apply the rest in one batch;
        put aside (quarantine) the ones that cannot be applied."""
        events, unreadable = list(events), list(unreadable)
        store = self.store
        # The exchanges' states (locked) come with their ids: one query for both.
        found = store.exchange_states_for_documents(
            conn, name, (e.document_id for e in events), for_update=True
        )
        ids = {d: s.id for d, s in found.items()}
        every_id = [*(e.event_id for e in events), *(u.event_id for u in unreadable)]
        applied = store.applied_event_ids(conn, scope, every_id)
        now = utcnow()
        claimed: list[AppliedEvent] = []
        early: list[ProviderEvent] = []
        matched: list[tuple[str, ProviderEvent]] = []
        poison: list[Poison] = []
        for item in unreadable:
            if item.event_id not in applied:
                applied.add(item.event_id)
                claimed.append(
                    AppliedEvent(scope=scope, event_id=item.event_id, exchange_id=None, at=now)
                )
                poison.append(Poison.unreadable(item))
        for event in events:
            if event.event_id in applied:
                continue  # already applied (or repeated within this page)
            applied.add(event.event_id)
            exchange_id = ids.get(event.document_id)
            claimed.append(
                AppliedEvent(scope=scope, event_id=event.event_id, exchange_id=exchange_id, at=now)
            )
            if why := malformed(event):
                poison.append(Poison.of(event, exchange_id, why))
            elif exchange_id is None:
                # Not ours, or ours but the record of its send has not committed yet.
                early.append(event)
            else:
                matched.append((exchange_id, event))
        store.add_applied_events(conn, claimed)
        store.park_early_events(conn, name, early)
        states = {s.id: s for s in found.values()}
        poison += apply_isolated(conn, self.writer, name, matched, verdicts, states)
        hold(conn, store, name, scope, poison)


BACKOFF_FIRST = 5.0  # seconds before a unit that failed is polled again
BACKOFF_MAX = 300.0


class Backoff:
    """When each unit of a poll (a feed, the paper desk) that failed may be tried again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._units: dict[str, tuple[float, float]] = {}  # unit -> (not before, last delay)

    def waiting(self, unit: str) -> bool:
        with self._lock:
            entry = self._units.get(unit)
        return entry is not None and time.monotonic() < entry[0]

    def failed(self, unit: str) -> float:
        """Record a failure; returns the seconds until the next try."""
        with self._lock:
            last = self._units.get(unit, (0.0, 0.0))[1]
            delay = min(BACKOFF_MAX, last * 2 if last else BACKOFF_FIRST)
            self._units[unit] = (time.monotonic() + delay, delay)
        return delay

    def succeeded(self, unit: str) -> None:
        with self._lock:
            self._units.pop(unit, None)


class _PageReader:
    """Reads a feed's pages ahead in a thread, following the cursor; bounded queue."""

    _END = object()

    def __init__(
        self, read: Callable[[str | None], EventPage], cursor: str | None, max_pages: int
    ) -> None:
        self._read = read
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=PAGES_AHEAD)
        self._stopped = threading.Event()
        self._done = False
        self._error: BaseException | None = None
        self.truncated = False
        self._thread = threading.Thread(
            target=self._run, args=(cursor, max_pages), name="edi-bridge-feed", daemon=True
        )
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, cursor: str | None, max_pages: int) -> None:
        try:
            for _ in range(max_pages):
                page = self._read(cursor)
                if not self._put(page):
                    return
                if not page.has_more or not page.events:
                    self._put(self._END)
                    return
                cursor = page.cursor
            self.truncated = True
            self._put(self._END)
        except BaseException as exc:  # handed to the applying thread, raised there
            self._put(exc)

    def _get(self, block: bool) -> EventPage | None:
        item = self._queue.get(block=block)
        if item is self._END or isinstance(item, BaseException):
            self._done = True
            # A read that failed is raised after the pages read before it are applied.
            self._error = item if isinstance(item, BaseException) else None
            return None
        page: EventPage = item
        return page

    def take(self, max_events: int) -> list[EventPage]:
        """The next page (waiting for it), plus pages already read, up to ``max_events``.

        Empty at the end of the feed; raises what the reader raised once the
        pages before it were taken.
        """
        first = None if self._done else self._get(block=True)
        if first is None:
            if self._error is not None:
                raise self._error
            return []
        pages: list[EventPage] = [first]
        count = len(first.events)
        while count < max_events and not self._done:
            try:
                page = self._get(block=False)
            except queue.Empty:
                break
            if page is None:
                break
            pages.append(page)
            count += len(page.events)
        return pages

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()


__all__ = [
    "BACKOFF_FIRST",
    "BACKOFF_MAX",
    "EVENTS_PER_TRANSACTION",
    "MAX_PAGES_PER_POLL",
    "Backoff",
    "Feeds",
]
