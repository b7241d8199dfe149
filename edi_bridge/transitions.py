"""The one writer of status changes, for every channel.

:meth:`TransitionWriter.write` moves one exchange (EDI, paper) to a status its
channel's table allows, with its history row and its backend event, in the
caller's transaction. :meth:`TransitionWriter.apply_events` applies provider
events: each is decided by :func:`edi_bridge.lifecycle.decide` against the
status the batch has reached so far, and everything the batch changes is
written with a few statements at the end. A signature check, when configured,
is a step of that same path that can veto a transition.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Unpack, cast

from sqlalchemy.engine import Connection

from .errors import IllegalTransition
from .lifecycle import EventKind, ProviderEventKind, allowed_transitions, decide
from .models import Exchange
from .provider import ProviderEvent
from .store import Store, utcnow
from .store.rows import (
    EventInsert,
    ExchangeChanges,
    ExchangeRow,
    HistoryInsert,
    SignatureInsert,
    TransitionChanges,
)

log = logging.getLogger("edi_bridge")

SignatureCheck = Callable[[Exchange, bytes], Mapping[str, Any]]
"""Verifies a counterparty signature; returns a verdict with ``"ok": bool``."""


@dataclasses.dataclass
class _Batch:
    """What a batch of provider events writes, gathered before one write each."""

    signatures: list[SignatureInsert] = dataclasses.field(default_factory=list)
    changes: dict[str, ExchangeChanges] = dataclasses.field(default_factory=dict)
    history: list[HistoryInsert] = dataclasses.field(default_factory=list)
    outbox: list[EventInsert] = dataclasses.field(default_factory=list)


class TransitionWriter:
    """Writes status changes of exchanges into the store."""

    def __init__(self, store: Store, signature_check: SignatureCheck | None = None) -> None:
        self.store = store
        self.signature_check = signature_check

    def write(
        self,
        conn: Connection,
        exchange_id: str,
        target: str,
        cause: str,
        *,
        event_key: str | None = None,
        reason: str | None = None,
        detail: dict[str, Any] | None = None,
        row: ExchangeRow | None = None,
        **changes: Unpack[TransitionChanges],
    ) -> None:
        """Move one exchange to ``target`` (raises IllegalTransition if its table says no)."""
        if row is None:  # the caller may pass the row it just locked
            row = self.store.exchange_row(conn, exchange_id, for_update=True)
        if target not in allowed_transitions(row.channel, row.status):
            raise IllegalTransition(exchange_id, row.status, target)
        # TransitionChanges is ExchangeChanges without status and reason.
        values = cast(ExchangeChanges, {**changes, "status": target})
        if reason is not None:
            values["reason"] = reason
        self.store.update_exchange(conn, exchange_id, **values)
        self.store.add_history(conn, exchange_id, target, cause, detail)
        self.store.add_event(
            conn,
            key=event_key or f"{exchange_id}:{target}:{secrets.token_hex(6)}",
            kind=target,
            exchange_id=exchange_id,
            status=target,
            reason=reason,
            data=detail,
        )

    def apply_events(
        self, conn: Connection, provider: str, matched: Sequence[tuple[str, ProviderEvent]]
    ) -> None:
        """Apply events already matched to exchanges (and claimed), in order."""
        if not matched:
            return
        store = self.store
        rows = store.exchange_rows(conn, (i for i, _ in matched), for_update=True)
        status = {i: r.status for i, r in rows.items()}
        now = utcnow()
        batch = _Batch()
        for exchange_id, event in matched:
            row = rows[exchange_id]
            detail: dict[str, Any] = {"provider_event_id": event.event_id}
            if event.kind is ProviderEventKind.SIGNED and not self._keep_signature(
                conn, provider, row, event, detail, batch, status[exchange_id], now
            ):
                continue  # vetoed: the signature was not accepted
            decision = decide(provider, event.kind, row.channel, status[exchange_id], event.reason)
            if decision.target is None:
                # Late or reordered news (delivered after signed): kept, changes nothing.
                log.debug(
                    "exchange %s: %s ignored in status %s",
                    exchange_id,
                    event.kind,
                    status[exchange_id],
                )
                continue
            target = decision.target
            status[exchange_id] = target
            values = batch.changes.setdefault(exchange_id, {})
            values["status"], values["updated_at"] = target, now
            if decision.reason:
                values["reason"] = decision.reason
            batch.history.append(
                HistoryInsert(
                    exchange_id=exchange_id,
                    status=target,
                    at=now,
                    cause=decision.cause,
                    detail=detail,
                )
            )
            batch.outbox.append(
                EventInsert(
                    key=f"{exchange_id}:{target}:{event.event_id}",
                    kind=target,
                    exchange_id=exchange_id,
                    status=target,
                    at=now,
                    reason=event.reason if decision.reason is not None else None,
                    data=detail,
                )
            )
        store.add_signatures(conn, batch.signatures)
        store.update_exchanges(conn, batch.changes)
        store.add_history_rows(conn, batch.history)
        store.add_events(conn, batch.outbox)

    def apply_early_events(
        self, conn: Connection, provider: str, exchange_id: str, document_id: str
    ) -> None:
        """Apply, in order, what the operator reported before the send was recorded."""
        parked = self.store.take_early_events(conn, provider, document_id)
        events = [
            ProviderEvent(
                event_id=row.event_id,
                kind=ProviderEventKind(row.kind),
                document_id=row.document_id,
                at=row.at,
                reason=row.reason,
                signature=row.signature,
            )
            for row in parked
        ]
        self.apply_events(conn, provider, [(exchange_id, e) for e in events])

    def _keep_signature(
        self,
        conn: Connection,
        provider: str,
        row: ExchangeRow,
        event: ProviderEvent,
        detail: dict[str, Any],
        batch: _Batch,
        status: str,
        now: dt.datetime,
    ) -> bool:
        """Keep the counterparty's signature; False when the check vetoes the transition."""
        if event.signature is None:
            log.warning("%s reported a signature without its content", provider)
            return True
        verdict = None
        if self.signature_check is not None:
            exchange = self.store.load_exchange(conn, row.id)
            verdict = dict(self.signature_check(exchange, event.signature))
        batch.signatures.append(
            SignatureInsert(
                exchange_id=row.id,
                role="counterparty",
                file_name=f"{row.document['file_name']}.counterparty.sig",
                content=event.signature,
                verdict=verdict,
            )
        )
        detail["signature_sha256"] = hashlib.sha256(event.signature).hexdigest()
        if verdict is None:
            return True
        detail["verdict"] = verdict
        if verdict.get("ok", False):
            return True
        flagged = batch.changes.setdefault(row.id, {})
        flagged["needs_attention"], flagged["updated_at"] = True, now
        batch.history.append(
            HistoryInsert(
                exchange_id=row.id,
                status=status,
                at=now,
                cause="counterparty signature not accepted",
                detail=detail,
            )
        )
        batch.outbox.append(
            EventInsert(
                key=f"{row.id}:{EventKind.SIGNATURE_INVALID}:{event.event_id}",
                kind=EventKind.SIGNATURE_INVALID,
                exchange_id=row.id,
                status=status,
                at=now,
                reason=str(verdict.get("reason") or verdict.get("status")),
                data=detail,
            )
        )
        return False


__all__ = ["SignatureCheck", "TransitionWriter"]
