"""The durable record: exchanges, history, events for the backend, provider
cursors, applied provider event ids, signatures and document content.

:class:`Store` wraps a SQLAlchemy engine. SQLite (the default) runs in WAL mode
with ``BEGIN IMMEDIATE`` transactions, so several CLI processes can share one
file; every method that writes takes the caller's open connection, so one
transaction can cover a state change, its history, its events and the cursor
that produced it. The methods come from one module per table family:
:mod:`.engine` (opening, migrating, transactions), :mod:`.blobs` (content),
:mod:`.exchanges` (exchanges, history, signatures), :mod:`.matching` (our
exchanges by the operator's document ids), :mod:`.outbox` (events for
the backend), :mod:`.changes` (a batch's history and outbox rows together),
:mod:`.feeds` (cursors, applied and early events), :mod:`.leases` (who works on
what), :mod:`.deadlines` (signing deadlines) and :mod:`.quarantine` (operator
events put aside).
Rows come out typed (:mod:`.rows`).
"""

from __future__ import annotations

from .changes import ChangeStore
from .clock import utcnow
from .deadlines import DeadlineStore
from .engine import DEFAULT_DB, database_url, read_connection
from .exchanges import ExchangeStore
from .feeds import FeedStore
from .matching import MatchStore
from .outbox import OutboxStore
from .quarantine import QuarantineStore
from .rows import EarlyEventRow, ExchangeChanges, ExchangeRow, NewExchange


class Store(
    ExchangeStore,
    MatchStore,
    OutboxStore,
    ChangeStore,
    FeedStore,
    DeadlineStore,
    QuarantineStore,
):
    """Durable state behind a :class:`~edi_bridge.workflow.Bridge`."""


__all__ = [
    "DEFAULT_DB",
    "EarlyEventRow",
    "ExchangeChanges",
    "ExchangeRow",
    "NewExchange",
    "Store",
    "database_url",
    "read_connection",
    "utcnow",
]
