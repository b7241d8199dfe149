"""Decisions a person makes about one exchange: cancel what has not gone out yet,
accept a counterparty signature the check held, or check a held one again.

Kept apart from the facade so :class:`~edi_bridge.workflow.bridge.Bridge` stays a
list of one-line delegations; every change goes through the one transition writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..deadlines import Deadlines
from ..errors import ValidationError
from ..lifecycle import IN_FLIGHT_STATUSES, Channel, ExchangeStatus
from ..models import Exchange
from ..store import Store, leases, utcnow
from ..transitions import SignatureCheck, TransitionWriter, operator_status_of, run_check
from .outbox import Outbox

S = ExchangeStatus
NOT_SENT = frozenset({S.QUEUED, S.PREPARED})
"""Statuses a cancel closes as ``cancelled``: nothing has reached a counterparty."""


def cancel(
    store: Store, writer: TransitionWriter, outbox: Outbox, deadlines: Deadlines, exchange_id: str
) -> Exchange:
    """Cancel an exchange by hand.

    ``queued`` (EDI) and ``prepared`` (paper) ones become ``cancelled`` and lose
    any lease, so no worker sends them; an expired in-flight EDI exchange is
    closed as ``revoked`` (:meth:`Deadlines.cancel`); anything else is refused.
    """
    with store.transaction() as conn:
        row = store.exchange_row(conn, exchange_id, for_update=True)
        if row.status in NOT_SENT:
            now = utcnow()
            # A live lease means a worker is sending it right now: the send may
            # already be at the operator, so cancelling would be a lie.
            held = row.lease_until is not None and row.lease_until >= leases.db_now(conn)
            if row.status == S.QUEUED and held:
                raise ValidationError(
                    "exchange",
                    f"{exchange_id} is being sent right now; check its status and "
                    "cancel again if it is still queued",
                )
            writer.write(
                conn,
                exchange_id,
                S.CANCELLED,
                f"cancelled by hand while {row.status}",
                event_key=f"{exchange_id}:cancelled",
                reason="cancelled before sending",
                row=row,
                needs_attention=False,
                lease_owner=None,
                lease_until=None,
                updated_at=now,
            )
            exchange = store.load_exchange(conn, exchange_id)
        else:
            exchange = None
    if exchange is not None:
        outbox.dispatch_events()
        return exchange
    if row.status in IN_FLIGHT_STATUSES and not deadlines.is_expired(exchange_id):
        raise ValidationError(
            "exchange",
            f"{exchange_id} is {row.status} and has not expired; only a queued "
            "or prepared exchange, or one past its signing deadline, can be cancelled",
        )
    if row.status not in IN_FLIGHT_STATUSES:
        raise ValidationError(
            "exchange",
            f"{exchange_id} is {row.status}; only a queued or prepared exchange, "
            "or one past its signing deadline, can be cancelled",
        )
    return deadlines.cancel(exchange_id)


HELD_CAUSE = "counterparty signature not accepted"
"""The history cause the transition writer records when the signature check vetoes."""


def _held(store: Store, exchange_id: str) -> tuple[Exchange, bytes]:
    """The exchange and the counterparty signature the check held, or a ValidationError."""
    with store.transaction() as conn:
        exchange = store.load_exchange(conn, exchange_id)
        signature = store.first_signature(conn, exchange_id, "counterparty")
    held = (
        exchange.channel == Channel.EDI
        and exchange.needs_attention
        and exchange.status in IN_FLIGHT_STATUSES
        and signature is not None
        and any(h.cause == HELD_CAUSE for h in exchange.history)
    )
    if not held or signature is None:
        raise ValidationError(
            "exchange",
            f"{exchange_id} is {exchange.status} and not held by a signature check; "
            "only a held counterparty signature can be accepted or checked again",
        )
    return exchange, signature


def _sign(
    store: Store, writer: TransitionWriter, outbox: Outbox, exchange_id: str, cause: str, **kw: Any
) -> Exchange:
    with store.transaction() as conn:
        writer.write(
            conn,
            exchange_id,
            S.SIGNED,
            cause,
            event_key=f"{exchange_id}:signed:manual",
            needs_attention=False,
            updated_at=utcnow(),
            **kw,
        )
        exchange = store.load_exchange(conn, exchange_id)
    outbox.dispatch_events()
    return exchange


def accept(
    store: Store, writer: TransitionWriter, outbox: Outbox, exchange_id: str, who: str, why: str
) -> Exchange:
    """A person accepts a held counterparty signature: ``signed``, with who and why."""
    if not who.strip() or not why.strip():
        raise ValidationError("reason", "accepting a held signature needs who and why")
    _held(store, exchange_id)
    cause = f"held signature accepted by {who.strip()}: {why.strip()}"
    return _sign(store, writer, outbox, exchange_id, cause, detail={"accepted_by": who.strip()})


def reverify(
    store: Store,
    writer: TransitionWriter,
    outbox: Outbox,
    exchange_id: str,
    check: SignatureCheck,
) -> tuple[Exchange, Mapping[str, Any]]:
    """Check a held signature again; ``signed`` when it now passes, else unchanged.

    The МЧД and the operator's status kept with the signature are passed again, so
    an employee's signature is judged on the same power of attorney.
    """
    exchange, signature = _held(store, exchange_id)
    with store.transaction() as conn:
        # The МЧД and the operator's status that came with the signature go through again.
        kept = store.signature_authority(conn, exchange_id, "counterparty")
    verdict = dict(
        run_check(
            check,
            exchange,
            signature,
            kept.powers_of_attorney,
            operator_status_of(kept.operator_status),
        )
    )
    if not verdict.get("ok", False):
        return exchange, verdict
    cause = "held signature passed the check again"
    return _sign(store, writer, outbox, exchange_id, cause, detail={"verdict": verdict}), verdict


__all__ = ["HELD_CAUSE", "NOT_SENT", "accept", "cancel", "reverify"]
