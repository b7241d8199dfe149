"""Falling back from EDI to paper after the fact, as the routing policy says:
when the EDI send failed, or when the counterparty has not answered for N days.

The paper exchange is linked to the EDI one (``previous_id``) and keyed
``<EDI key>#paper``, so a fallback happens once however often it is asked for.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from ..lifecycle import Channel, ExchangeStatus
from ..models import Counterparty, Document, Exchange
from ..routing import RoutingPolicy
from ..store import Store

S = ExchangeStatus


class Prepare(Protocol):
    """Records a paper exchange (:meth:`PaperDesk.prepare`)."""

    def __call__(
        self,
        counterparty: Counterparty,
        document: Document,
        *,
        idempotency_key: str,
        reason: str,
        previous_id: str | None = None,
        check_content: bool = True,
    ) -> Exchange: ...


def apply_fallbacks(
    store: Store, policy: RoutingPolicy, prepare: Prepare, now: dt.datetime
) -> list[Exchange]:
    """The paper exchanges made now for EDI exchanges the policy sends on paper."""
    if not policy.fallback_on_failure and policy.fallback_after_days is None:
        return []
    candidates: list[tuple[str, str]] = []
    with store.transaction() as conn:
        if policy.fallback_on_failure:
            for exchange_id in store.exchange_ids(conn, status=S.FAILED):
                candidates.append((exchange_id, "the EDI send failed"))
        if policy.fallback_after_days is not None:
            days = policy.fallback_after_days
            for exchange_id in store.exchange_ids(conn, status=[S.SENT, S.DELIVERED]):
                row = store.exchange_row(conn, exchange_id)
                if now - row.updated_at >= dt.timedelta(days=days):
                    candidates.append((exchange_id, f"no answer by EDI for {days} days"))
    made = []
    for exchange_id, why in candidates:
        new = _fall_back(store, prepare, exchange_id, why)
        if new is not None:
            made.append(new)
    return made


def _fall_back(store: Store, prepare: Prepare, exchange_id: str, why: str) -> Exchange | None:
    with store.transaction() as conn:
        row = store.exchange_row(conn, exchange_id)
        if row.channel != Channel.EDI:
            return None
        key = f"{row.idempotency_key}#paper"
        if store.exchange_id_for_key(conn, key) is not None:
            return None  # fell back already
        old = store.load_exchange(conn, exchange_id)
    new = prepare(
        old.counterparty,
        store.stored_document(old),
        idempotency_key=key,
        reason=f"{why} ({exchange_id}); falling back to paper",
        previous_id=exchange_id,
        # Accepted already for EDI: on paper it goes as it is (the pack says when to
        # print it separately), rather than failing every poll.
        check_content=False,
    )
    with store.transaction() as conn:
        store.add_history(conn, exchange_id, old.status, f"{why}; sent on paper as {new.id}")
    return new


__all__ = ["apply_fallbacks"]
