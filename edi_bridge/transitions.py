"""The one writer of status changes, for every channel.

:meth:`TransitionWriter.write` moves one exchange (EDI, paper) to a status its
channel's table allows, with its history row and its backend event, in the
caller's transaction. :meth:`TransitionWriter.apply_events` applies provider
events: each is decided by :func:`event_step` (pure: the event and the status
the batch has reached so far in, the exchange's changes, a history row and an
outbox row out, by :func:`edi_bridge.lifecycle.decide`), and everything the
batch changes is written with a few statements at the end. A signature check,
when configured, is a step of that same path that can veto a transition
(:func:`veto_step`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import inspect
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Unpack, cast

from sqlalchemy.engine import Connection

from .errors import IllegalTransition
from .lifecycle import EventKind, ExchangeStatus, ProviderEventKind, allowed_transitions, decide
from .models import Exchange
from .provider import BUYER_TITLE, ProviderEvent
from .store import Store, read_connection, utcnow
from .store.rows import (
    EventInsert,
    ExchangeChanges,
    ExchangeRow,
    ExchangeState,
    HistoryInsert,
    SignatureInsert,
    TransitionChanges,
)

if TYPE_CHECKING:
    from .signing.authority import OperatorPoaStatus

log = logging.getLogger("edi_bridge")

SignatureCheck = Callable[[Exchange, bytes], Mapping[str, Any]]
"""Verifies a counterparty signature; returns a verdict with ``"ok": bool``."""


@dataclasses.dataclass(frozen=True)
class Step:
    """What one provider event writes: the exchange's new columns, a history row and
    an outbox row."""

    changes: ExchangeChanges
    history: HistoryInsert
    outbox: EventInsert


def event_step(
    provider: str,
    exchange_id: str,
    channel: str,
    status: str,
    event: ProviderEvent,
    detail: dict[str, Any],
    at: dt.datetime,
) -> Step | None:
    """The pure decision for one event and the exchange's current status (None: late news)."""
    decision = decide(provider, event.kind, channel, status, event.reason)
    if decision.target is None:
        return None
    target = str(decision.target)  # plain str: sqlite3 binds an enum via its adapter look-up
    if target == ExchangeStatus.REVOCATION_REQUESTED:
        # Who asked, and why, stay in the history when the answer replaces the reason.
        detail = {**detail, "requested_by": "counterparty", "reason": decision.reason}
    changes = ExchangeChanges(status=target, updated_at=at)
    if decision.reason:
        changes["reason"] = decision.reason
    return Step(
        changes,
        HistoryInsert(
            exchange_id=exchange_id, status=target, at=at, cause=decision.cause, detail=detail
        ),
        EventInsert(
            key=f"{exchange_id}:{target}:{event.event_id}",
            kind=target,
            exchange_id=exchange_id,
            status=target,
            at=at,
            reason=decision.reason,
            data=detail,
        ),
    )


def veto_step(
    exchange_id: str,
    status: str,
    event: ProviderEvent,
    verdict: Mapping[str, Any],
    detail: dict[str, Any],
    at: dt.datetime,
) -> Step:
    """A signature the check did not accept: the status stays, the exchange needs attention."""
    return Step(
        ExchangeChanges(needs_attention=True, updated_at=at),
        HistoryInsert(
            exchange_id=exchange_id,
            status=status,
            at=at,
            cause="counterparty signature not accepted",
            detail=detail,
        ),
        EventInsert(
            key=f"{exchange_id}:{EventKind.SIGNATURE_INVALID}:{event.event_id}",
            kind=EventKind.SIGNATURE_INVALID,
            exchange_id=exchange_id,
            status=status,
            at=at,
            reason=str(verdict.get("reason") or verdict.get("status")),
            data=detail,
        ),
    )


@dataclasses.dataclass
class _Batch:
    """What a batch of provider events writes, gathered before one write each."""

    signatures: list[SignatureInsert] = dataclasses.field(default_factory=list)
    changes: dict[str, ExchangeChanges] = dataclasses.field(default_factory=dict)
    history: list[HistoryInsert] = dataclasses.field(default_factory=list)
    outbox: list[EventInsert] = dataclasses.field(default_factory=list)

    def add(self, exchange_id: str, step: Step) -> None:
        self.changes.setdefault(exchange_id, {}).update(step.changes)
        self.history.append(step.history)
        self.outbox.append(step.outbox)

    def write(self, conn: Connection, store: Store) -> None:
        store.add_signatures(conn, self.signatures)
        store.update_exchanges(conn, self.changes)
        store.add_changes(conn, self.history, self.outbox)


class TransitionWriter:
    """Writes status changes of exchanges into the store."""

    def __init__(
        self,
        store: Store,
        signature_check: SignatureCheck | None = None,
        *,
        unchecked_reason: str | None = None,
    ) -> None:
        self.store = store
        self.signature_check = signature_check
        # Why no check runs (kept with each signature, so ``status`` can say so).
        self.unchecked_reason = unchecked_reason

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

    def judge_signatures(
        self, matched: Sequence[tuple[str, ProviderEvent]]
    ) -> dict[str, dict[str, Any]]:
        """The configured check's verdicts on the counterparty signatures in ``matched``,
        by event id. Called outside any write transaction (a GOST-512 check takes about
        0.3 s): the verdicts then go to :meth:`apply_events`, whose transaction is short."""
        check = self.signature_check
        wanted = [(i, e) for i, e in matched if e.kind is ProviderEventKind.SIGNED and e.signature]
        if check is None or not wanted:
            return {}
        with read_connection(self.store.engine) as conn:
            # The page's exchanges in three statements, and (for the default check) their
            # documents in one, instead of a handful of statements per signature.
            exchanges = self.store.load_exchanges(conn, (i for i, _ in wanted))
            from .signing.checker import SignatureChecker  # loaded only when checking

            # Only our own checker reads ahead: a caller's check is called as documented.
            if isinstance(check, SignatureChecker):
                check.preload(conn, exchanges.values())
        verdicts: dict[str, dict[str, Any]] = {}
        for i, e in wanted:
            try:
                verdicts[e.event_id] = dict(_check(check, exchanges[i], e))
            except Exception:
                log.warning("signature check of event %s failed; retried when applied", e.event_id)
        return verdicts

    def apply_events(
        self,
        conn: Connection,
        provider: str,
        matched: Sequence[tuple[str, ProviderEvent]],
        verdicts: Mapping[str, Mapping[str, Any]] | None = None,
        states: Mapping[str, ExchangeState] | None = None,
    ) -> None:
        """Apply events already matched to exchanges (and claimed), in order, with the check's
        ``verdicts`` (:meth:`judge_signatures`) and ``states`` read (locked) just before, if any."""
        if not matched:
            return
        store = self.store
        rows = states or store.exchange_states(conn, (i for i, _ in matched), for_update=True)
        status = {i: r.status for i, r in rows.items()}
        now = utcnow()
        batch = _Batch()
        for exchange_id, event in matched:
            row = rows[exchange_id]
            detail: dict[str, Any] = {"provider_event_id": event.event_id}
            # Signed files the event carries (a rejection's XML) are kept, news or not; the
            # file a counterparty's signature covers is kept with that signature, below.
            batch.signatures += [
                SignatureInsert(
                    exchange_id=exchange_id,
                    role=f.role,
                    file_name=f.stored_name(row.file_name),
                    content=f.content,
                    verdict=None,
                )
                for f in event.files
                if f.role != BUYER_TITLE
            ]
            if event.kind is ProviderEventKind.SIGNED:
                given = (verdicts or {}).get(event.event_id)
                verdict = self._keep_signature(conn, provider, row, event, detail, batch, given)
                if verdict is not None and not verdict.get("ok", False):
                    # The check vetoes the transition.
                    batch.add(
                        exchange_id,
                        veto_step(exchange_id, status[exchange_id], event, verdict, detail, now),
                    )
                    continue
            step = event_step(
                provider, exchange_id, row.channel, status[exchange_id], event, detail, now
            )
            if step is None:
                # Late or reordered news (delivered after signed): kept, changes nothing.
                log.debug(
                    "exchange %s: %s ignored in status %s",
                    exchange_id,
                    event.kind,
                    status[exchange_id],
                )
                continue
            status[exchange_id] = step.history["status"]
            batch.add(exchange_id, step)
        batch.write(conn, store)

    def apply_early_events(
        self, conn: Connection, provider: str, exchange_id: str, document_id: str
    ) -> bool:
        """Apply, in order, what the operator reported before the send was recorded;
        whether there was any (the exchange's status may have moved on)."""
        parked = self.store.take_early_events(conn, provider, document_id)
        events = [
            ProviderEvent(
                event_id=row.event_id,
                kind=ProviderEventKind(row.kind),
                document_id=row.document_id,
                at=row.at,
                reason=row.reason,
                signature=row.signature,
                powers_of_attorney=row.powers_of_attorney,
                operator_status=operator_status_of(row.operator_status),
            )
            for row in parked
        ]
        self.apply_events(conn, provider, [(exchange_id, e) for e in events])
        return bool(events)

    def _keep_signature(
        self,
        conn: Connection,
        provider: str,
        row: ExchangeState,
        event: ProviderEvent,
        detail: dict[str, Any],
        batch: _Batch,
        given: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Keep the counterparty's signature (before any check); the check's verdict, if any."""
        if event.signature is None:
            log.warning("%s reported a signature without its content", provider)
            return None
        verdict = None if given is None else dict(given)
        kept: dict[str, Any] | None = verdict
        if verdict is None and self.signature_check is not None:
            # Not judged beforehand (parked until their send was recorded, or the check
            # failed there: it runs again here, where a failure puts the event aside).
            exchange = self.store.load_exchange(conn, row.id)
            verdict = kept = dict(_check(self.signature_check, exchange, event))
        elif verdict is None and self.unchecked_reason:
            kept = _not_checked(self.unchecked_reason)
        sha = hashlib.sha256(event.signature).hexdigest()
        batch.signatures.append(
            SignatureInsert(
                exchange_id=row.id,
                role="counterparty",
                file_name=f"{row.file_name}.counterparty.sig",
                content=event.signature,
                verdict=kept,
                powers_of_attorney=_poa_texts(event),
                operator_status=_operator_status(event),
                sha256=sha,
            )
        )
        title = event.signed_file
        if title is not None:
            # The buyer's title the signature covers, kept beside it (role buyer_title).
            name = title.stored_name(row.file_name)
            batch.signatures.append(
                SignatureInsert(
                    exchange_id=row.id,
                    role=BUYER_TITLE,
                    file_name=name,
                    content=title.content,
                    verdict=None,
                )
            )
            detail["buyer_title"] = dict(title.summary or {"file_name": name})
        detail["signature_sha256"] = sha
        if verdict is not None:
            detail["verdict"] = verdict
        return verdict


NOT_CHECKED = "not_checked"


def not_checked(reason: str) -> dict[str, Any]:
    """The note kept with a signature no check looked at (it holds nothing back)."""
    return {"status": NOT_CHECKED, "ok": True, "reason": reason}


_not_checked = functools.lru_cache(maxsize=8)(not_checked)  # a shared note: JSON once per run


def operator_status_of(data: Mapping[str, Any] | None) -> OperatorPoaStatus | None:
    """An operator's МЧД status kept as JSON, read back."""
    if not data or not data.get("status"):
        return None
    from .signing.authority import OperatorPoaStatus  # only when a status was kept

    ok = data.get("ok")
    return OperatorPoaStatus(
        ok=ok if isinstance(ok, bool) else None,
        status=str(data["status"]),
        text=data.get("text"),
        operator=data.get("operator"),
    )


def _poa_texts(event: ProviderEvent) -> tuple[bytes, ...]:
    return tuple(event.powers_of_attorney)


def _operator_status(event: ProviderEvent) -> dict[str, Any] | None:
    return None if event.operator_status is None else event.operator_status.to_dict()


def run_check(
    check: SignatureCheck,
    exchange: Exchange,
    signature: bytes,
    powers_of_attorney: Sequence[bytes] = (),
    operator_status: OperatorPoaStatus | None = None,
    content: bytes | None = None,
) -> Mapping[str, Any]:
    """Run the check; the МЧД, the operator's status and the file the signature covers
    (a buyer's title, when not our document) go to a check that takes them."""
    if not (content is not None or powers_of_attorney or operator_status):
        return check(exchange, signature)
    takes = inspect.signature(check).parameters
    if "powers_of_attorney" not in takes:
        # A plain (exchange, signature) check sees the signature on its own (over our file).
        return check(exchange, signature)
    extra: dict[str, Any] = (
        {"content": content} if content is not None and "content" in takes else {}
    )
    extended: Any = check
    return dict(
        extended(
            exchange,
            signature,
            powers_of_attorney=list(powers_of_attorney),
            operator_status=operator_status,
            **extra,
        )
    )


def _check(check: SignatureCheck, exchange: Exchange, event: ProviderEvent) -> Mapping[str, Any]:
    assert event.signature is not None
    return run_check(
        check,
        exchange,
        event.signature,
        event.powers_of_attorney,
        event.operator_status,
        None if event.signed_file is None else event.signed_file.content,
    )


__all__ = [
    "NOT_CHECKED",
    "SignatureCheck",
    "Step",
    "TransitionWriter",
    "event_step",
    "not_checked",
    "operator_status_of",
    "run_check",
    "veto_step",
]
