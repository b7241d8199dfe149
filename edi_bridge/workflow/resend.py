"""Sending an exchange again by hand (:meth:`Bridge.resend <edi_bridge.workflow.Bridge.resend>`).

Kept apart from the facade so it stays a list of short delegations.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ResendRefused
from ..lifecycle import IN_FLIGHT_STATUSES, SIGNED_STATUSES, ExchangeStatus
from ..models import Exchange

if TYPE_CHECKING:
    from ..deadlines import Deadlines
    from ..store import Store
    from ..transitions import TransitionWriter


class Host(Protocol):
    """What resending needs of the Bridge."""

    store: Store
    writer: TransitionWriter

    @property
    def deadlines(self) -> Deadlines: ...

    def status(self, exchange_id: str) -> Exchange: ...

    def cancel(self, exchange_id: str) -> Exchange: ...

    def dispatch(self, exchange_id: str) -> Exchange: ...

    def send(self, *args: Any, **kwargs: Any) -> Exchange: ...

    def stored_document(self, exchange: Exchange) -> Any: ...


def resend(bridge: Host, exchange_id: str, *, force: bool = False) -> Exchange:
    """See :meth:`Bridge.resend <edi_bridge.workflow.Bridge.resend>`."""
    exchange = bridge.status(exchange_id)
    status = exchange.status
    if status in SIGNED_STATUSES:
        raise ResendRefused(f"exchange {exchange_id} is {status}; nothing to resend")
    if status in IN_FLIGHT_STATUSES and force and bridge.deadlines.is_expired(exchange_id):
        exchange = bridge.cancel(exchange_id)  # expired: closed, then sent anew below
        status = exchange.status
    elif status in IN_FLIGHT_STATUSES:
        raise ResendRefused(
            f"exchange {exchange_id} is {status} and waits for the counterparty; "
            "resend would make a second document"
        )
    if status == ExchangeStatus.QUEUED:
        return bridge.dispatch(exchange_id)
    if status == ExchangeStatus.FAILED and not force:
        with bridge.store.transaction() as conn:
            bridge.writer.write(
                conn,
                exchange_id,
                ExchangeStatus.QUEUED,
                "resend requested",
                event_key=f"{exchange_id}:queued:{secrets.token_hex(4)}",
                reason=None,
                needs_attention=False,
            )
        return bridge.dispatch(exchange_id)
    if not force:
        raise ResendRefused(f"exchange {exchange_id} is {status}; use force to send a new document")
    with bridge.store.transaction() as conn:
        row = bridge.store.exchange_row(conn, exchange_id)
    new = bridge.send(
        exchange.counterparty,
        bridge.stored_document(exchange),
        idempotency_key=f"{exchange.idempotency_key}#resend-{exchange_id}",
        provider=exchange.provider,
        scenario=row.scenario,
        previous_id=exchange_id,
    )
    with bridge.store.transaction() as conn:
        if not any(h.cause == f"resent as {new.id}" for h in exchange.history):
            bridge.store.add_history(conn, exchange_id, exchange.status, f"resent as {new.id}")
    return new


__all__ = ["Host", "resend"]
