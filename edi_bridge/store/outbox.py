"""The outbox: changes recorded for the backend (``edi_events``), written in the
transaction of the change and handed to callbacks after commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..models import Event
from . import schema
from .bulk import execute_many, insert_ignoring
from .clock import utcnow
from .engine import StoreBase, read_connection
from .limits import EVENT_KEY_LIMIT, clean_text, fit_id
from .rows import EventInsert

_INSERT = schema.events.insert()
# The IN list as one expanding parameter: compiled once, not per call.
_KEYS_RECORDED = sa.select(schema.events.c.key).where(
    schema.events.c.key.in_(sa.bindparam("keys", expanding=True))
)


def fresh_events(conn: Connection, rows: Sequence[EventInsert]) -> list[dict[str, Any]]:
    """The rows to insert: keys fitted, reasons cleaned, keys already recorded (or
    repeated) left out."""
    # Keys carry operators' event ids and reasons operators' text (see store.limits).
    # dispatched_at is left to its default (NULL): not bound per row.
    fitted: list[dict[str, Any]] = [
        {**r, "key": fit_id(r["key"], EVENT_KEY_LIMIT), "reason": clean_text(r["reason"])}
        for r in rows
    ]
    if not fitted:
        return []
    if insert_ignoring(conn, schema.events) is not None:
        # The insert skips recorded keys itself (see insert_ignoring); only repeats
        # within the batch are left out here.
        unique: dict[str, dict[str, Any]] = {}
        for row in fitted:
            unique.setdefault(str(row["key"]), row)
        return list(unique.values())
    keys = [r["key"] for r in fitted]
    seen = {str(k) for k in conn.execute(_KEYS_RECORDED, {"keys": keys}).scalars()}
    fresh: list[dict[str, Any]] = []
    for row in fitted:
        if row["key"] not in seen:
            seen.add(str(row["key"]))
            fresh.append(row)
    return fresh


class OutboxStore(StoreBase):
    """The ``edi_events`` table."""

    def add_event(
        self,
        conn: Connection,
        *,
        key: str,
        kind: str,
        exchange_id: str | None,
        status: str,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> bool:
        """Record a change for the backend; a repeated key records nothing."""
        row = EventInsert(
            key=key,
            kind=kind,
            exchange_id=exchange_id,
            status=status,
            at=utcnow(),
            reason=reason,
            data=data or {},
        )
        return self.add_events(conn, [row]) == 1

    def add_events(self, conn: Connection, rows: Sequence[EventInsert]) -> int:
        """Record changes; keys already recorded (or repeated) record nothing."""
        stmt = insert_ignoring(conn, schema.events)
        stmt = _INSERT if stmt is None else stmt
        return execute_many(conn, stmt, fresh_events(conn, rows))

    def events_after(
        self, seq: int = 0, *, limit: int = 1000, undispatched: bool = False
    ) -> list[Event]:
        query = (
            sa.select(schema.events)
            .where(schema.events.c.seq > seq)
            .order_by(schema.events.c.seq)
            .limit(limit)
        )
        if undispatched:
            query = query.where(schema.events.c.dispatched_at.is_(None))
        with read_connection(self.engine) as conn:
            rows = conn.execute(query).all()
        return [
            Event(
                seq=r.seq,
                key=r.key,
                kind=r.kind,
                exchange_id=r.exchange_id,
                status=r.status,
                at=r.at,
                reason=r.reason,
                data=r.data or {},
            )
            for r in rows
        ]

    def last_event_seq(self) -> int:
        with read_connection(self.engine) as conn:
            return int(conn.execute(sa.select(sa.func.max(schema.events.c.seq))).scalar() or 0)

    def count_events_after(self, seq: int = 0) -> int:
        with read_connection(self.engine) as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(schema.events.c.seq > seq)
                ).scalar_one()
            )

    def mark_dispatched(self, seq: int) -> None:
        with self.transaction() as conn:
            conn.execute(
                schema.events.update()
                .where(schema.events.c.seq == seq)
                .values(dispatched_at=utcnow())
            )


__all__ = ["OutboxStore"]
