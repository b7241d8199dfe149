"""Sending again by hand (``Bridge.resend``), kept apart so the facade stays one-line
delegations; every status change goes through the one transition writer."""

from __future__ import annotations

import secrets
from typing import Protocol

from ..deadlines import Deadlines
from ..errors import ResendRefused
from ..lifecycle import IN_FLIGHT_STATUSES, ExchangeStatus
from ..models import Counterparty, Document, Exchange
from ..store import Store
from ..transitions import TransitionWriter


class ResendHost(Protocol):
    """What a resend needs of the facade."""

    store: Store
    writer: TransitionWriter

    @property
    def deadlines(self) -> Deadlines: ...
    def status(self, exchange_id: str) -> Exchange: ...
    def cancel(self, exchange_id: str) -> Exchange: ...
    def dispatch(self, exchange_id: str) -> Exchange: ...
    def stored_document(self, exchange: Exchange) -> Document: ...
    def send(
        self,
        counterparty: Counterparty,
        document: Document,
        *,
        idempotency_key: str | None = None,
        provider: str | None = None,
        scenario: str | None = None,
        previous_id: str | None = None,
    ) -> Exchange: ...


def resend(host: ResendHost, exchange_id: str, *, force: bool = False) -> Exchange:
    """Send again by hand (see :meth:`Bridge.resend`)."""
    exchange = host.status(exchange_id)
    status = exchange.status
    if status == ExchangeStatus.SIGNED:
        raise ResendRefused(f"exchange {exchange_id} is signed; nothing to resend")
    if status in IN_FLIGHT_STATUSES and force and host.deadlines.is_expired(exchange_id):
        exchange = host.cancel(exchange_id)  # expired: closed, then sent anew below
        status = exchange.status
    elif status in IN_FLIGHT_STATUSES:
        raise ResendRefused(
            f"exchange {exchange_id} is {status} and waits for the counterparty; "
            "resend would make a second document"
        )
    if status == ExchangeStatus.QUEUED:
        return host.dispatch(exchange_id)
    if status == ExchangeStatus.FAILED and not force:
        with host.store.transaction() as conn:
            host.writer.write(
                conn,
                exchange_id,
                ExchangeStatus.QUEUED,
                "resend requested",
                event_key=f"{exchange_id}:queued:{secrets.token_hex(4)}",
                reason=None,
                needs_attention=False,
            )
        return host.dispatch(exchange_id)
    if not force:
        raise ResendRefused(f"exchange {exchange_id} is {status}; use force to send a new document")
    with host.store.transaction() as conn:
        row = host.store.exchange_row(conn, exchange_id)
    new = host.send(
        exchange.counterparty,
        host.stored_document(exchange),
        idempotency_key=f"{exchange.idempotency_key}#resend-{exchange_id}",
        provider=exchange.provider,
        scenario=row.scenario,
        previous_id=exchange_id,
    )
    with host.store.transaction() as conn:
        if not any(h.cause == f"resent as {new.id}" for h in exchange.history):
            host.store.add_history(conn, exchange_id, exchange.status, f"resent as {new.id}")
    return new


__all__ = ["ResendHost", "resend"]
