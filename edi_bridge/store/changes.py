"""A batch of status changes written together: history rows and their outbox rows.

A provider event writes one history row and one outbox row carrying the same
detail; written apart, that detail was encoded to JSON twice. Here each detail
is encoded once (by the column type's own bind processor, so the stored text is
what SQLAlchemy would have written) and both rows take the encoded value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from . import schema
from .bulk import bind_processor, execute_many, insert_ignoring
from .engine import StoreBase
from .limits import clean_text
from .outbox import fresh_events
from .rows import EventInsert, HistoryInsert

_INSERT_HISTORY = schema.history.insert()
_INSERT_EVENT = schema.events.insert()


class ChangeStore(StoreBase):
    """History and outbox rows of one batch, in two statements."""

    def add_changes(
        self, conn: Connection, history: Sequence[HistoryInsert], outbox: Sequence[EventInsert]
    ) -> int:
        """Write ``history`` and ``outbox`` (repeated outbox keys record nothing);
        returns the outbox rows written."""
        encode = bind_processor(conn, schema.history.c.detail)
        # id() is stable here: the rows hold every detail until the statements ran.
        encoded: dict[int, Any] = {}

        def once(detail: Any) -> Any:
            key = id(detail)
            if key not in encoded:
                encoded[key] = encode(detail)
            return encoded[key]

        execute_many(
            conn,
            _INSERT_HISTORY,
            [{**r, "cause": clean_text(r["cause"]), "detail": once(r["detail"])} for r in history],
            bound=("detail",),
        )
        fresh = fresh_events(conn, outbox)
        for row in fresh:
            row["data"] = once(row["data"])
        stmt = insert_ignoring(conn, schema.events)
        stmt = _INSERT_EVENT if stmt is None else stmt
        return execute_many(conn, stmt, fresh, bound=("data",))


__all__ = ["ChangeStore"]
