"""The event log for the backend and the callbacks that read it.

Changes are recorded in the same transaction as the state they describe
(:mod:`edi_bridge.transitions`); callbacks run after commit from that record,
so they are at-least-once: each event carries a ``key`` unique to the change.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

from ..errors import ValidationError
from ..lifecycle import EventKind, EventKindName, event_kind
from ..models import Event
from ..store import Store

log = logging.getLogger("edi_bridge")
Callback = Callable[[Event], None]


class Outbox:
    """Callbacks by event kind, and the dispatch of recorded changes to them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._callbacks: dict[str, list[Callback]] = defaultdict(list)

    def on(self, kind: EventKindName | EventKind, callback: Callback) -> None:
        """Call ``callback(event)`` for each change of ``kind`` ("*" for all)."""
        try:
            name = event_kind(str(kind))
        except ValueError as exc:
            raise ValidationError("kind", str(exc)) from None
        self._callbacks[name].append(callback)

    def events(self, after: int = 0, limit: int = 1000) -> list[Event]:
        """Changes recorded after sequence number ``after`` (for a backend catching up)."""
        return self.store.events_after(after, limit=limit)

    def dispatch_events(self) -> int:
        """Run callbacks for recorded changes not yet handed over; returns how many.

        Without any callback registered nothing is marked, so a backend process
        that registers callbacks later still receives every change.
        """
        if not self._callbacks:
            return 0
        done = 0
        while True:
            pending = self.store.events_after(0, limit=500, undispatched=True)
            if not pending:
                return done
            for event in pending:
                for cb in self._callbacks.get(event.kind, []) + self._callbacks.get("*", []):
                    try:
                        cb(event)
                    except Exception:
                        # Keep it pending: the next dispatch delivers it again.
                        log.exception("callback failed for event %s", event.key)
                        return done
                self.store.mark_dispatched(event.seq)
                done += 1


__all__ = ["Callback", "Outbox"]
