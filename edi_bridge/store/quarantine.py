"""Quarantined operator events (``edi_quarantine``): put aside, then settled by a person."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import NotFound
from ..models import QuarantinedEvent
from . import schema
from .clock import utcnow
from .engine import StoreBase, read_connection
from .limits import PROVIDER_LIMIT, clean_text, fit_id


class QuarantineInsert(TypedDict):
    """One event to put aside (``body`` already masked)."""

    scope: str
    provider: str
    event_id: str
    document_id: str | None
    exchange_id: str | None
    body: dict[str, Any]
    reason: str


def _model(row: Any) -> QuarantinedEvent:
    return QuarantinedEvent(
        id=row.id,
        provider=row.provider,
        scope=row.scope,
        event_id=row.event_id,
        document_id=row.document_id,
        exchange_id=row.exchange_id,
        reason=row.reason,
        first_seen=row.first_seen,
        status=row.status,
        body=row.body or {},
        settled_by=row.settled_by,
        settled_why=row.settled_why,
        settled_at=row.settled_at,
    )


class QuarantineStore(StoreBase):
    """The ``edi_quarantine`` table."""

    def add_quarantined(
        self, conn: Connection, rows: Sequence[QuarantineInsert]
    ) -> list[QuarantinedEvent]:
        """Put events aside; one already held in its feed keeps its first row. Returns the new."""
        t = schema.quarantine
        added: list[QuarantinedEvent] = []
        for item in rows:
            # Operators' ids and text, fitted like everywhere else (see store.limits).
            event_id = fit_id(item["event_id"])
            document_id = fit_id(item["document_id"]) if item["document_id"] else None
            found = conn.execute(
                sa.select(t.c.id).where(
                    t.c.scope == fit_id(item["scope"]), t.c.event_id == event_id
                )
            ).first()
            if found is not None:
                continue
            values: dict[str, Any] = {
                **item,
                "scope": fit_id(item["scope"]),
                "provider": fit_id(item["provider"], PROVIDER_LIMIT),
                "event_id": event_id,
                "document_id": document_id,
                "reason": clean_text(item["reason"]) or "unknown",
                "first_seen": utcnow(),
                "status": "held",
            }
            qid = conn.execute(t.insert().values(**values)).inserted_primary_key
            assert qid is not None
            added.append(self.quarantined_event(conn, int(qid[0])))
        return added

    def quarantined_event(
        self, conn: Connection, qid: int, *, for_update: bool = False
    ) -> QuarantinedEvent:
        query = sa.select(schema.quarantine).where(schema.quarantine.c.id == qid)
        if for_update and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise NotFound(f"no quarantined event {qid}")
        return _model(row)

    def quarantined_events(self, status: str | None = None) -> list[QuarantinedEvent]:
        query = sa.select(schema.quarantine).order_by(schema.quarantine.c.id)
        if status is not None:
            query = query.where(schema.quarantine.c.status == status)
        with read_connection(self.engine) as conn:
            return [_model(r) for r in conn.execute(query)]

    def settle_quarantined(
        self, conn: Connection, qid: int, status: str, by: str, why: str | None
    ) -> None:
        conn.execute(
            schema.quarantine.update()
            .where(schema.quarantine.c.id == qid)
            .values(
                status=status,
                settled_by=clean_text(by, 128),
                settled_why=clean_text(why),
                settled_at=utcnow(),
            )
        )


__all__ = ["QuarantineInsert", "QuarantineStore"]
