"""Signing deadlines, reminders and overdue paper originals: one clock, one check.

Settings (``deadlines.*`` or ``EDI_BRIDGE_DEADLINES_*``):

- ``signing_days``: days from the send (EDI) or the dispatch (paper) to the
  signing deadline; unset means no deadline unless one is given per send;
- ``reminder_days``: days after the send, comma-separated ("3,7"), on which
  ``reminder_due`` fires while the contract is unsigned and not yet expired;
- ``paper.originals_deadline_days`` (30): days from a client's scan to
  ``originals_overdue``.

:meth:`Deadlines.check` records what has come due as events in the outbox, in
one transaction. Each event's key names the exchange and the rule, so running
the check again (the worker, ``Bridge.poll``, several workers) records nothing
twice. The clock is injectable so tests move time instead of waiting.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Protocol

from sqlalchemy.engine import Connection

from . import config
from .errors import ValidationError
from .lifecycle import (
    AWAITING_SIGNATURE,
    DEADLINE_START,
    Channel,
    EventKind,
    ExchangeStatus,
)
from .models import Exchange
from .store import Store, read_connection, utcnow
from .transitions import TransitionWriter

DEADLINES = "deadlines"
DEFAULT_ORIGINALS_DEADLINE_DAYS = 30
Clock = Callable[[], dt.datetime]
S = ExchangeStatus
ATTENTION = frozenset({EventKind.EXPIRED, EventKind.ORIGINALS_OVERDUE})
"""Kinds that set ``needs_attention`` and that ``list --overdue`` shows."""


class Notifier(Protocol):
    def dispatch_events(self) -> int: ...


def _days(name: str, value: str, minimum: int) -> int:
    if not value.strip().isdigit() or int(value) < minimum:
        raise ValidationError(name, f"must be a whole number >= {minimum}")
    return int(value)


@dataclasses.dataclass(frozen=True)
class DeadlinePolicy:
    """How long a contract may wait for a signature, and when to remind."""

    signing: dt.timedelta | None = None
    reminder_days: tuple[int, ...] = ()
    originals: dt.timedelta = dt.timedelta(days=DEFAULT_ORIGINALS_DEADLINE_DAYS)

    @classmethod
    def from_settings(cls, settings: Mapping[str, str] | None = None) -> DeadlinePolicy:
        values = config.DEADLINES.read(settings)
        signing = values.get("signing_days") or ""
        reminders = [d for d in (values.get("reminder_days") or "").split(",") if d.strip()]
        paper = config.PAPER.read(settings)
        originals = paper.get("originals_deadline_days") or str(DEFAULT_ORIGINALS_DEADLINE_DAYS)
        return cls(
            signing=dt.timedelta(days=_days("deadlines.signing_days", signing, 1))
            if signing
            else None,
            reminder_days=tuple(
                sorted({_days("deadlines.reminder_days", d, 1) for d in reminders})
            ),
            originals=dt.timedelta(days=_days("paper.originals_deadline_days", originals, 1)),
        )


@dataclasses.dataclass(frozen=True)
class Due:
    """One rule that has come due for one exchange."""

    exchange_id: str
    kind: EventKind
    due: dt.datetime
    key: str
    status: str
    reason: str
    data: dict[str, str]


class Deadlines:
    """Signing deadlines per exchange and the events they raise."""

    def __init__(
        self,
        store: Store,
        writer: TransitionWriter,
        outbox: Notifier,
        *,
        settings: Mapping[str, str] | None = None,
        policy: DeadlinePolicy | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.store = store
        self.writer = writer
        self.outbox = outbox
        self.policy = policy or DeadlinePolicy.from_settings(settings)
        self.clock = clock

    # -- one exchange --------------------------------------------------------

    def set(self, exchange_id: str, sign_by: dt.datetime) -> None:
        """Give ``exchange_id`` its own signing deadline (overrides the setting)."""
        if sign_by.tzinfo is None:
            raise ValidationError("deadline", "must carry a time zone")
        with self.store.transaction() as conn:
            self.store.exchange_row(conn, exchange_id)  # NotFound for an unknown id
            self.store.set_deadline(conn, exchange_id, sign_by=sign_by)

    def deadline(self, exchange_id: str) -> dt.datetime | None:
        """The signing deadline of ``exchange_id`` (None: no deadline applies yet)."""
        with self.store.transaction() as conn:
            exchange = self.store.load_exchange(conn, exchange_id)
            row = self.store.deadline_rows(conn, [exchange_id]).get(exchange_id)
        return self._deadline(exchange, row[0] if row else None)

    def is_expired(self, exchange_id: str, now: dt.datetime | None = None) -> bool:
        """Unsigned and past its signing deadline."""
        now = now or self.clock()
        with self.store.transaction() as conn:
            exchange = self.store.load_exchange(conn, exchange_id)
            row = self.store.deadline_rows(conn, [exchange_id]).get(exchange_id)
        rules = self._rules(exchange, row[0] if row else None, now)
        return any(d.kind == EventKind.EXPIRED for d in rules)

    def cancel(self, exchange_id: str, now: dt.datetime | None = None) -> Exchange:
        """Close an expired EDI exchange in the record (``revoked``).

        The operator's copy is not withdrawn: a counterparty that signs it later
        is kept as late news in the history.
        """
        if not self.is_expired(exchange_id, now):
            raise ValidationError("exchange", f"{exchange_id} has not expired; nothing to cancel")
        with self.store.transaction() as conn:
            row = self.store.exchange_row(conn, exchange_id, for_update=True)
            if row.channel != Channel.EDI:
                raise ValidationError(
                    "exchange", f"{exchange_id} is on paper; record it returned or lost instead"
                )
            self.writer.write(
                conn,
                exchange_id,
                S.REVOKED,
                "cancelled after the signing deadline",
                event_key=f"{exchange_id}:revoked:expired",
                reason="signing deadline expired",
                row=row,
                needs_attention=False,
            )
            exchange = self.store.load_exchange(conn, exchange_id)
        self.outbox.dispatch_events()
        return exchange

    # -- every exchange ------------------------------------------------------

    def due(self, now: dt.datetime | None = None) -> list[Due]:
        """Every rule due at ``now`` for exchanges still waiting (raised or not)."""
        now = now or self.clock()
        with self.store.transaction() as conn:
            return list(self._due(conn, now))

    def overdue(self, now: dt.datetime | None = None) -> list[Due]:
        """Exchanges past a deadline and still waiting: expired or originals overdue."""
        return [d for d in self.due(now) if d.kind in ATTENTION]

    def check(self, now: dt.datetime | None = None, *, kinds: Collection[str] | None = None) -> int:
        """Record each due event once (optionally only ``kinds``); returns how many."""
        now = now or self.clock()
        # Read first: most polls find nothing due and need no write transaction.
        with read_connection(self.store.engine) as conn:
            due = [d for d in self._due(conn, now) if kinds is None or d.kind in kinds]
        if not due:
            return 0
        raised = 0
        with self.store.transaction() as conn:
            for item in due:
                if self.store.exchange_row(conn, item.exchange_id).status != item.status:
                    continue  # changed since the read (signed, say): nothing is due
                fresh = self.store.add_event(
                    conn,
                    key=item.key,
                    kind=item.kind,
                    exchange_id=item.exchange_id,
                    status=item.status,
                    reason=item.reason,
                    data=item.data,
                )
                if not fresh:
                    continue
                raised += 1
                if item.kind in ATTENTION:
                    self.store.update_exchange(conn, item.exchange_id, needs_attention=True)
                    self.store.add_history(conn, item.exchange_id, item.status, item.reason)
                if item.kind == EventKind.EXPIRED:
                    self.store.set_deadline(conn, item.exchange_id, expired_at=now)
        if raised:
            self.outbox.dispatch_events()
        return raised

    # -- the rules -------------------------------------------------------------

    def _due(self, conn: Connection, now: dt.datetime) -> Iterator[Due]:
        waiting = sorted(set().union(*AWAITING_SIGNATURE.values()))
        # Without a signing or reminder setting only deadlines given per send apply.
        untimed = self.policy.signing is None and not self.policy.reminder_days
        ids = self.store.deadline_candidates(conn, waiting, S.SCAN_RECEIVED, only_given=untimed)
        if not ids:
            return
        rows = self.store.deadline_rows(conn, ids)
        for exchange_id in ids:
            exchange = self.store.load_exchange(conn, exchange_id)
            row = rows.get(exchange_id)
            yield from self._rules(exchange, row[0] if row else None, now)

    def _deadline(self, exchange: Exchange, sign_by: dt.datetime | None) -> dt.datetime | None:
        if sign_by is not None:
            return sign_by
        if self.policy.signing is None:
            return None
        return self._start(exchange) + self.policy.signing

    @staticmethod
    def _start(exchange: Exchange) -> dt.datetime:
        start = DEADLINE_START.get(exchange.channel)
        sent = [h.at for h in exchange.history if h.status == start]
        return sent[0] if sent else exchange.created_at

    def _rules(
        self, exchange: Exchange, sign_by: dt.datetime | None, now: dt.datetime
    ) -> Iterator[Due]:
        eid, status = exchange.id, exchange.status
        if exchange.channel == Channel.PAPER and status == S.SCAN_RECEIVED:
            yield from self._originals(exchange, now)
            return
        if status not in AWAITING_SIGNATURE.get(exchange.channel, frozenset()):
            return
        deadline = self._deadline(exchange, sign_by)
        if deadline is not None and now >= deadline:
            reason = f"not signed by the deadline {deadline.isoformat()}"
            data = {"deadline": deadline.isoformat()}
            yield Due(eid, EventKind.EXPIRED, deadline, f"{eid}:expired", status, reason, data)
            return  # no reminders once expired
        start = self._start(exchange)
        for days in self.policy.reminder_days:
            at = start + dt.timedelta(days=days)
            if now < at or (deadline is not None and at >= deadline):
                continue
            data = {"day": str(days), **({"deadline": deadline.isoformat()} if deadline else {})}
            reason = f"unsigned {days} days after sending"
            key = f"{eid}:{EventKind.REMINDER_DUE}:{days}d"
            yield Due(eid, EventKind.REMINDER_DUE, at, key, status, reason, data)

    def _originals(self, exchange: Exchange, now: dt.datetime) -> Iterator[Due]:
        # The transition's entry (it carries the scan), not later notes.
        scans = [
            h for h in exchange.history if h.status == S.SCAN_RECEIVED and "scan_sha256" in h.detail
        ]
        if not scans:
            return
        scanned = scans[-1].at
        due = scanned + self.policy.originals
        if now < due:
            return
        reason = f"originals not received within {self.policy.originals.days} days of the scan"
        # The key is the one the paper desk used before this module, so nothing repeats.
        key = f"{exchange.id}:{EventKind.ORIGINALS_OVERDUE}:{scanned.isoformat()}"
        data = {"scan_at": scanned.isoformat(), "due": due.isoformat()}
        kind = EventKind.ORIGINALS_OVERDUE
        yield Due(exchange.id, kind, due, key, exchange.status, reason, data)


__all__ = [
    "DEADLINES",
    "DEFAULT_ORIGINALS_DEADLINE_DAYS",
    "DeadlinePolicy",
    "Deadlines",
    "Due",
]
