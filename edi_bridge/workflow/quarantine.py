"""Poison operator events: put aside so the feed moves on, then settled by a person.

An event that cannot be applied (the adapter could not read it, it is malformed,
the signature check or the store raised while turning it into a change) is held
in ``edi_quarantine`` with its body (secrets masked) and the reason, in the
transaction of its page: the page's other events are applied and the cursor
moves past it. An ``event_quarantined`` outbox event tells the backend.

A person lists them (``Bridge.quarantined``), re-applies one after fixing the
cause (``Bridge.reapply``: through the one transition writer; a second re-apply
changes nothing) or dismisses it with a reason (``Bridge.dismiss``).
"""

from __future__ import annotations

import base64
import builtins
import dataclasses
import datetime as dt
import getpass
import logging
import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy.exc
from sqlalchemy.engine import Connection

from ..errors import TransientError, ValidationError
from ..lifecycle import EventKind, ProviderEventKind, QuarantineStatus
from ..masking import mask_secrets
from ..models import QuarantinedEvent
from ..provider import Provider, ProviderEvent, UnreadableEvent
from ..store import Store, utcnow
from ..store.limits import fit_id
from ..store.quarantine import QuarantineInsert
from ..store.rows import EventInsert, ExchangeState
from ..transitions import TransitionWriter

log = logging.getLogger("edi_bridge")

# Errors about the moment, not the event: the page is retried instead.
NOT_POISON: tuple[type[BaseException], ...] = (
    TransientError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
)


_KINDS = frozenset(ProviderEventKind)


@dataclasses.dataclass(frozen=True)
class Poison:
    """One event of a page to put aside, and why."""

    event_id: str
    document_id: str | None
    exchange_id: str | None
    body: dict[str, Any]
    reason: str

    @classmethod
    def of(cls, event: ProviderEvent, exchange_id: str | None, reason: str) -> Poison:
        return cls(event.event_id, event.document_id, exchange_id, event_body(event), reason)

    @classmethod
    def unreadable(cls, event: UnreadableEvent) -> Poison:
        body = {"raw": mask_secrets(dict(event.raw))}
        return cls(event.event_id, event.document_id, None, body, event.reason)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def malformed(event: ProviderEvent) -> str | None:
    """Why an adapter's event cannot be applied as it stands (None: it can)."""
    if event.kind not in _KINDS:
        return f"kind: {str(event.kind)[:40]!r} is not an operator event kind"
    if not event.event_id or not event.document_id:
        return "event_id and document_id: must not be empty"
    if not isinstance(event.at, dt.datetime) or event.at.tzinfo is None:
        return "at: must be a datetime with a time zone"
    return None


def event_body(event: ProviderEvent) -> dict[str, Any]:
    """What is kept of an event to apply it again (JSON; binary parts in base64)."""

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    status = event.operator_status
    return {
        "event": {
            "event_id": event.event_id,
            "kind": str(event.kind),
            "document_id": event.document_id,
            "at": event.at.isoformat() if isinstance(event.at, dt.datetime) else str(event.at),
            "reason": event.reason,
            "signature": b64(event.signature) if event.signature is not None else None,
            "powers_of_attorney": [b64(p) for p in event.powers_of_attorney],
            "operator_status": status.to_dict() if status is not None else None,
            "raw": mask_secrets(dict(event.raw)),
        }
    }


def event_from_body(body: dict[str, Any]) -> ProviderEvent:
    """The event kept by :func:`event_body` (raises ValidationError if it is malformed)."""
    from ..signing.authority import OperatorPoaStatus

    data = body["event"]
    try:
        status = data.get("operator_status")
        return ProviderEvent(
            event_id=str(data["event_id"]),
            kind=ProviderEventKind(data["kind"]),
            document_id=str(data["document_id"]),
            at=dt.datetime.fromisoformat(data["at"]),
            reason=data.get("reason"),
            signature=base64.b64decode(data["signature"]) if data.get("signature") else None,
            raw=data.get("raw") or {},
            powers_of_attorney=tuple(base64.b64decode(p) for p in data["powers_of_attorney"]),
            operator_status=OperatorPoaStatus(**status) if status else None,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise ValidationError("event", f"cannot be applied as it stands: {describe(exc)}") from exc


def apply_isolated(
    conn: Connection,
    writer: TransitionWriter,
    provider: str,
    matched: Sequence[tuple[str, ProviderEvent]],
    verdicts: Mapping[str, Mapping[str, Any]] | None = None,
    states: Mapping[str, ExchangeState] | None = None,
) -> list[Poison]:
    """Apply matched events; those that raise are returned to be put aside.

    The batch is applied in one savepoint; when it fails, each event is applied
    in its own savepoint, in order, so one poison event leaves the others applied
    (``states``, read before the batch, serve the batch only: one by one, each event
    reads the state the one before it left).
    """
    if not matched:
        return []
    try:
        with conn.begin_nested():
            writer.apply_events(conn, provider, matched, verdicts, states)
        return []
    except NOT_POISON:
        raise
    except Exception as exc:
        if len(matched) == 1:
            exchange_id, event = matched[0]
            return [Poison.of(event, exchange_id, describe(exc))]
    poison: list[Poison] = []
    for exchange_id, event in matched:
        try:
            with conn.begin_nested():
                writer.apply_events(conn, provider, [(exchange_id, event)], verdicts)
        except NOT_POISON:
            raise
        except Exception as exc:
            poison.append(Poison.of(event, exchange_id, describe(exc)))
    return poison


def hold(
    conn: Connection, store: Store, provider: str, scope: str, poison: Sequence[Poison]
) -> None:
    """Put events aside in the page's transaction and tell the backend (once each)."""
    if not poison:
        return
    rows = [
        QuarantineInsert(
            scope=scope,
            provider=provider,
            event_id=p.event_id,
            document_id=p.document_id,
            exchange_id=p.exchange_id,
            body=p.body,
            reason=p.reason,
        )
        for p in poison
    ]
    added = store.add_quarantined(conn, rows)
    now = utcnow()
    for q in added:
        log.warning(
            "%s: event %s quarantined (#%d): %s",
            provider,
            q.event_id,
            q.id,
            q.reason,
            extra={"quarantine_id": q.id, "provider": provider},
        )
    store.add_events(
        conn,
        [
            EventInsert(
                key=f"quarantine:{q.id}",
                kind=EventKind.EVENT_QUARANTINED,
                exchange_id=q.exchange_id,
                status=QuarantineStatus.HELD,
                at=now,
                reason=q.reason,
                data={
                    "quarantine_id": q.id,
                    "provider": provider,
                    "provider_event_id": q.event_id,
                    "document_id": q.document_id,
                },
            )
            for q in added
        ],
    )


def who() -> str:
    """Who settles a quarantined event when the caller does not say: the OS user and host."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


class Quarantine:
    """Re-applies or dismisses quarantined events, as a person decides."""

    def __init__(
        self, store: Store, writer: TransitionWriter, adapter: Callable[[str], Provider]
    ) -> None:
        self.store = store
        self.writer = writer
        self.adapter = adapter

    def list(self, status: str | None = None) -> builtins.list[QuarantinedEvent]:
        if status is not None and status not in set(QuarantineStatus):
            known = ", ".join(QuarantineStatus)
            raise ValidationError("status", f"must be one of {known}")
        return self.store.quarantined_events(status)

    def reapply(self, qid: int, by: str | None = None) -> QuarantinedEvent:
        """Apply a held event again through the transition writer; settled ones change nothing."""
        with self.store.transaction() as conn:
            held = self.store.quarantined_event(conn, qid)
        if held.status == QuarantineStatus.DISMISSED:
            raise ValidationError("id", f"quarantined event {qid} was dismissed; nothing applied")
        if held.status != QuarantineStatus.HELD:
            return held  # re-applied already: a second time changes nothing
        # Reading a raw body again may ask the operator: outside the transaction.
        if "event" in held.body:
            events, fresh = [event_from_body(held.body)], False
        else:
            events, fresh = list(self.adapter(held.provider).read_event(held.body["raw"])), True
        with self.store.transaction() as conn:
            row = self.store.quarantined_event(conn, qid, for_update=True)
            if row.status != QuarantineStatus.HELD:
                return row  # another person settled it meanwhile
            self._apply(conn, row, events, fresh)
            self.store.settle_quarantined(conn, qid, QuarantineStatus.REAPPLIED, by or who(), None)
            return self.store.quarantined_event(conn, qid)

    def _apply(
        self,
        conn: Connection,
        row: QuarantinedEvent,
        events: builtins.list[ProviderEvent],
        fresh: bool,
    ) -> None:
        for event in events:
            if why := malformed(event):
                raise ValidationError("event", why)
        claim: builtins.list[ProviderEvent] = []
        if fresh:
            # Events read again from a raw body were never claimed in the feed: claim them,
            # skipping any the feed has applied since. The held event's own id was claimed
            # by the feed for this row (SBIS reads an entry back under it): apply, not skip.
            seen = self.store.applied_event_ids(conn, row.scope, (e.event_id for e in events))
            claim = [e for e in events if e.event_id not in seen]
            events = [
                e for e in events if e.event_id not in seen or fit_id(e.event_id) == row.event_id
            ]
        store = self.store
        ids = store.exchange_ids_for_documents(conn, row.provider, (e.document_id for e in events))
        if fresh:
            store.add_applied_events(
                conn,
                [
                    {
                        "scope": row.scope,
                        "event_id": e.event_id,
                        "exchange_id": ids.get(e.document_id),
                        "at": utcnow(),
                    }
                    for e in claim
                ],
            )
        store.park_early_events(conn, row.provider, [e for e in events if e.document_id not in ids])
        matched = [(ids[e.document_id], e) for e in events if e.document_id in ids]
        self.writer.apply_events(conn, row.provider, matched)

    def dismiss(self, qid: int, reason: str, by: str | None = None) -> QuarantinedEvent:
        """Close a held event without applying it, saying who and why."""
        if not reason or not reason.strip():
            raise ValidationError("reason", "must say why the event is dismissed")
        with self.store.transaction() as conn:
            row = self.store.quarantined_event(conn, qid, for_update=True)
            if row.status == QuarantineStatus.REAPPLIED:
                raise ValidationError("id", f"quarantined event {qid} was re-applied already")
            if row.status == QuarantineStatus.HELD:
                self.store.settle_quarantined(
                    conn, qid, QuarantineStatus.DISMISSED, by or who(), reason.strip()
                )
            return self.store.quarantined_event(conn, qid)


__all__ = [
    "NOT_POISON",
    "Poison",
    "Quarantine",
    "apply_isolated",
    "event_body",
    "event_from_body",
    "hold",
    "malformed",
]
