"""Leases: which worker holds an exchange's send or a provider feed, until when.

A lease is two columns (owner, until) changed by a conditional UPDATE, so it
works the same on SQLite and PostgreSQL; on PostgreSQL the candidates are
picked with ``FOR UPDATE SKIP LOCKED`` so workers do not queue behind each
other's rows. A crashed worker's lease simply expires and another takes over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from . import schema
from .clock import utcnow

QUEUED = "queued"


def _free(table: sa.Table, now: dt.datetime, owner: str | None = None) -> sa.ColumnElement[bool]:
    """Nobody holds it, the lease ran out, or (when given) ``owner`` holds it."""
    free = sa.or_(table.c.lease_until.is_(None), table.c.lease_until < now)
    return free if owner is None else sa.or_(free, table.c.lease_owner == owner)


def claim_queued(conn: Connection, owner: str, seconds: float, limit: int) -> list[str]:
    """Lease up to ``limit`` queued exchanges nobody holds; oldest first.

    Our own live leases are excluded too: those exchanges are being sent.
    """
    now = utcnow()
    t = schema.exchanges
    query = (
        sa.select(t.c.id)
        .where(t.c.status == QUEUED, _free(t, now))
        .order_by(t.c.created_at, t.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(conn.execute(query).scalars())
    if not ids:
        return []
    claimed = conn.execute(
        t.update()
        .where(t.c.id.in_(ids), t.c.status == QUEUED, _free(t, now))
        .values(lease_owner=owner, lease_until=now + dt.timedelta(seconds=seconds))
        .returning(t.c.id)
    )
    return sorted(claimed.scalars(), key=ids.index)


def take_exchange(conn: Connection, exchange_id: str, owner: str, seconds: float) -> bool:
    """Lease one exchange unless another live owner holds it."""
    now = utcnow()
    t = schema.exchanges
    updated = conn.execute(
        t.update()
        .where(t.c.id == exchange_id, _free(t, now, owner))
        .values(lease_owner=owner, lease_until=now + dt.timedelta(seconds=seconds))
    ).rowcount
    return bool(updated)


def release_exchanges(conn: Connection, owner: str, ids: Sequence[str] | None = None) -> int:
    t = schema.exchanges
    query = t.update().where(t.c.lease_owner == owner)
    if ids is not None:
        query = query.where(t.c.id.in_(list(ids)))
    return int(conn.execute(query.values(lease_owner=None, lease_until=None)).rowcount)


def take_feed(conn: Connection, scope: str, owner: str, seconds: float) -> bool:
    """Lease a provider feed (its cursor) so one worker at a time reads it."""
    now = utcnow()
    t = schema.cursors
    until = now + dt.timedelta(seconds=seconds)
    # A new feed: whichever worker inserts first holds it; the others' inserts do
    # nothing (no IntegrityError on a fresh database) and fall to the UPDATE below.
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    inserted = conn.execute(
        dialect.insert(t)
        .values(scope=scope, value=None, updated_at=now, lease_owner=owner, lease_until=until)
        .on_conflict_do_nothing(index_elements=[t.c.scope])
        .returning(t.c.scope)
    ).first()
    if inserted is not None:
        return True
    updated = conn.execute(
        t.update()
        .where(t.c.scope == scope, _free(t, now, owner))
        .values(lease_owner=owner, lease_until=until)
    ).rowcount
    return bool(updated)


def release_feed(conn: Connection, scope: str, owner: str) -> None:
    t = schema.cursors
    conn.execute(
        t.update()
        .where(t.c.scope == scope, t.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


__all__ = [
    "claim_queued",
    "release_exchanges",
    "release_feed",
    "take_exchange",
    "take_feed",
]
