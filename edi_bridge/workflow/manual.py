"""Decisions a person makes about one exchange: cancel what has not gone out yet.

Kept apart from the facade so :class:`~edi_bridge.workflow.bridge.Bridge` stays a
list of one-line delegations; every change goes through the one transition writer.
"""

from __future__ import annotations

from ..deadlines import Deadlines
from ..errors import ValidationError
from ..lifecycle import IN_FLIGHT_STATUSES, ExchangeStatus
from ..models import Exchange
from ..store import Store, utcnow
from ..transitions import TransitionWriter
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
            if row.status == S.QUEUED and row.lease_until is not None and row.lease_until >= now:
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


__all__ = ["NOT_SENT", "cancel"]
