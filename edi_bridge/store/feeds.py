"""Operators' feeds: cursors (with their leases), the ids of events already
applied per feed (the at-most-once guard), and events parked until the record
of their send commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import schema
from .bulk import execute_many, rows_in
from .clock import utcnow
from .engine import StoreBase, read_connection
from .limits import clean_text, fit_id, loaded_cursor, stored_cursor
from .rows import AppliedEvent, EarlyEventRow, ParkedEvent, poa_files, poa_json

_INSERT_APPLIED = schema.applied_events.insert()
# The IN list as one expanding parameter: compiled once, not per call.
_APPLIED = sa.select(schema.applied_events.c.event_id).where(
    schema.applied_events.c.scope == sa.bindparam("scope"),
    schema.applied_events.c.event_id.in_(sa.bindparam("ids", expanding=True)),
)
# Asked on every send (news that came before it): built once.
_E = schema.early_events
_EARLY_MATCH = sa.and_(
    _E.c.provider == sa.bindparam("provider"), _E.c.document_id == sa.bindparam("document_id")
)
_EARLY = sa.select(_E).where(_EARLY_MATCH).order_by(_E.c.id)
_EARLY_DELETE = _E.delete().where(_EARLY_MATCH)


class FeedStore(StoreBase):
    """The ``edi_cursors``, ``edi_applied_events`` and ``edi_early_events`` tables."""

    def claim_provider_event(
        self, conn: Connection, scope: str, event_id: str, exchange_id: str | None
    ) -> bool:
        """True the first time an event id is seen in a feed, False after."""
        if self.applied_event_ids(conn, scope, [event_id]):
            return False
        claim = AppliedEvent(scope=scope, event_id=event_id, exchange_id=exchange_id, at=utcnow())
        self.add_applied_events(conn, [claim])
        return True

    def applied_event_ids(self, conn: Connection, scope: str, event_ids: Iterable[str]) -> set[str]:
        """Which of ``event_ids`` were already applied in feed ``scope``."""
        # Stored ids are fitted (see limits.fit_id): look them up fitted, answer as asked.
        wanted: dict[str, set[str]] = {}
        for e in event_ids:
            wanted.setdefault(fit_id(e), set()).add(e)
        if not wanted:
            return set()
        found = rows_in(conn, _APPLIED, "ids", list(wanted), {"scope": scope})
        return {asked for (e,) in found for asked in wanted.get(str(e), ())}

    def add_applied_events(self, conn: Connection, rows: Sequence[AppliedEvent]) -> None:
        """Record event ids as applied (``scope``, ``event_id``, ``exchange_id``, ``at``)."""
        execute_many(
            conn, _INSERT_APPLIED, [{**r, "event_id": fit_id(r["event_id"])} for r in rows]
        )

    def park_early_events(
        self, conn: Connection, provider: str, events: Iterable[ParkedEvent]
    ) -> None:
        """Keep events about documents not recorded yet (see schema.early_events)."""
        now = utcnow()
        rows = [
            {
                "provider": provider,
                "document_id": fit_id(e.document_id),
                "event_id": fit_id(e.event_id),
                "kind": str(e.kind),
                "at": e.at,
                "reason": clean_text(e.reason),
                "signature": e.signature,
                "created_at": now,
                "powers_of_attorney": poa_json(e.powers_of_attorney),
                "operator_status": None
                if e.operator_status is None
                else e.operator_status.to_dict(),
            }
            for e in events
        ]
        if rows:
            conn.execute(schema.early_events.insert(), rows)

    def take_early_events(
        self, conn: Connection, provider: str, document_id: str
    ) -> list[EarlyEventRow]:
        params = {"provider": provider, "document_id": fit_id(document_id)}
        rows = [
            EarlyEventRow(
                event_id=r.event_id,
                kind=r.kind,
                document_id=r.document_id,
                at=r.at,
                reason=r.reason,
                signature=None if r.signature is None else bytes(r.signature),
                powers_of_attorney=poa_files(r.powers_of_attorney),
                operator_status=r.operator_status,
            )
            for r in conn.execute(_EARLY, params).all()
        ]
        if rows:
            conn.execute(_EARLY_DELETE, params)
        return rows

    def prune_early_events(self, conn: Connection, before: dt.datetime) -> int:
        """Events about documents that never became ours (inbound mail) go eventually."""
        t = schema.early_events
        return int(conn.execute(t.delete().where(t.c.created_at < before)).rowcount)

    def cursor_scopes(self) -> list[str]:
        with read_connection(self.engine) as conn:
            return list(conn.execute(sa.select(schema.cursors.c.scope)).scalars())

    def get_cursor(self, scope: str) -> str | None:
        with read_connection(self.engine) as conn:
            stored = conn.execute(
                sa.select(schema.cursors.c.value).where(schema.cursors.c.scope == scope)
            ).scalar_one_or_none()
        return loaded_cursor(stored)

    def set_cursor(self, conn: Connection, scope: str, value: str | None) -> None:
        # Kept exactly, encoded when a backend could not store it as is (limits.py).
        value = stored_cursor(value)
        updated = conn.execute(
            schema.cursors.update()
            .where(schema.cursors.c.scope == scope)
            .values(value=value, updated_at=utcnow())
        ).rowcount
        if not updated:
            conn.execute(
                schema.cursors.insert().values(scope=scope, value=value, updated_at=utcnow())
            )


__all__ = ["FeedStore"]
