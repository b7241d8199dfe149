"""A closing document whose EDI exchange was cancelled by hand stays cancelled.

``edi-bridge cancel ID`` on an exchange a closing run made marks its ledger row
``cancelled`` (:func:`reflect_cancel`); a row whose exchange was cancelled some other
way (``Bridge.cancel`` from a backend) is found so by the next ``closing status`` or
``closing send`` (:func:`reconcile`). A later run reports such a row as cancelled and
sends nothing; ``closing send --retry-cancelled`` (``ClosingRun(retry_cancelled=True)``)
sends it again under fresh idempotency keys (``…#retry-N``), the cancelled exchanges
staying as they are.
"""

from __future__ import annotations

import contextlib
import re

from ..errors import IllegalTransition
from ..lifecycle import ExchangeStatus
from ..models import Exchange
from .ledger import CANCELLED, FAILED, PENDING, Delivery, Ledger
from .port import Workflow

PREFIX = "closing:"
_RETRY = re.compile(r"#retry-\d+$")


def retry_suffix(attempt: int) -> str:
    """The idempotency-key suffix of a retry after a cancel (none for the first send)."""
    return f"#retry-{attempt}" if attempt else ""


def _ledger_keys(idempotency_key: str) -> list[str]:
    """The ledger keys an exchange's key may belong to: ``<key>`` or ``<key>:<file index>``."""
    base = _RETRY.sub("", idempotency_key)
    return [base, base.rsplit(":", 1)[0]]


def _cancel_row(ledger: Ledger, row: Delivery, exchange_id: str) -> Delivery:
    if row.status in (PENDING, FAILED):
        ids = list(dict.fromkeys([*row.exchange_ids, exchange_id]))
        why = f"cancelled by hand ({exchange_id})"
        # Another run may have moved it meanwhile: then its state stands.
        with contextlib.suppress(IllegalTransition):
            ledger.move(row.key, CANCELLED, reason=why, exchange_ids=ids)
    return ledger.get(row.key) or row


def reflect_cancel(workflow: Workflow, exchange: Exchange) -> str | None:
    """Mark the ledger row of a cancelled closing exchange cancelled; returns its key."""
    if exchange.status != ExchangeStatus.CANCELLED:
        return None
    if not exchange.idempotency_key.startswith(PREFIX):
        return None
    ledger = Ledger(workflow.store.engine)
    for key in _ledger_keys(exchange.idempotency_key):
        row = ledger.get(key)
        if row is not None and row.channel == "edi":
            return key if _cancel_row(ledger, row, exchange.id).status == CANCELLED else None
    return None


def reconcile(workflow: Workflow, ledger: Ledger, row: Delivery) -> Delivery:
    """The row, marked cancelled first when one of its exchanges was cancelled."""
    if row.channel != "edi" or row.status not in (PENDING, FAILED):
        return row
    for exchange_id in row.exchange_ids:
        if workflow.status(exchange_id).status == ExchangeStatus.CANCELLED:
            return _cancel_row(ledger, row, exchange_id)
    return row


__all__ = ["reconcile", "reflect_cancel", "retry_suffix"]
