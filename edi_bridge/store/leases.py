"""Leases: which worker holds an exchange's send or a provider feed, until when.

A lease is a few columns (owner, until, and the holder's host, pid and process
start) changed by a conditional UPDATE, so it works the same on SQLite and
PostgreSQL; on PostgreSQL the candidates are picked with ``FOR UPDATE SKIP
LOCKED`` so workers do not queue behind each other's rows.

Times come from the database's clock (:func:`db_now`), never the worker's: a
worker whose clock runs ahead cannot see a live lease as expired. A crashed
worker's lease expires; on the same host it is taken over at once, because the
lease names its holder process and a dead holder is recognised
(:mod:`.holder`).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import schema
from .clock import utcnow
from .holder import is_dead, this_process

QUEUED = "queued"
_HOLDER_COLUMNS = ("lease_host", "lease_pid", "lease_started")


def db_now(conn: Connection) -> dt.datetime:
    """The database's current time (UTC), read inside the caller's transaction."""
    if conn.dialect.name == "postgresql":
        # clock_timestamp, not now(): the time of this statement, not of BEGIN.
        value = conn.execute(sa.text("SELECT clock_timestamp()")).scalar_one()
        assert isinstance(value, dt.datetime)
        return value.astimezone(dt.UTC)
    # SQLite's own clock (the library's, through SQL), to the millisecond.
    text = conn.execute(sa.text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
    return dt.datetime.fromisoformat(str(text)).replace(tzinfo=dt.UTC)


def lease_values(owner: str | None, until: dt.datetime | None) -> dict[str, Any]:
    """The lease columns for ``owner`` held until ``until`` by this process (None: free)."""
    if owner is None:
        return {"lease_owner": None, "lease_until": None, **dict.fromkeys(_HOLDER_COLUMNS)}
    me = this_process()
    return {
        "lease_owner": owner,
        "lease_until": until,
        "lease_host": me.host,
        "lease_pid": me.pid,
        "lease_started": me.started,
    }


def until(conn: Connection, seconds: float) -> dt.datetime:
    return db_now(conn) + dt.timedelta(seconds=seconds)


def _now_and_until(conn: Connection, seconds: float) -> tuple[Any, Any]:
    """The database's time and ``seconds`` after it, for a lease statement.

    On PostgreSQL both are SQL expressions evaluated inside the statement itself
    (no round trip of its own to read the clock); elsewhere the clock is read once.
    """
    now: Any
    if conn.dialect.name == "postgresql":
        now = sa.type_coerce(
            sa.func.timezone("UTC", sa.func.clock_timestamp()), sa.DateTime()
        )  # naive UTC, as the columns store it
        return now, now + sa.bindparam(None, dt.timedelta(seconds=seconds), sa.Interval())
    now = db_now(conn)
    return now, now + dt.timedelta(seconds=seconds)


def _free(table: sa.Table, now: dt.datetime, owner: str | None = None) -> sa.ColumnElement[bool]:
    """Nobody holds it, the lease ran out, or (when given) ``owner`` holds it."""
    free = sa.or_(table.c.lease_until.is_(None), table.c.lease_until < now)
    return free if owner is None else sa.or_(free, table.c.lease_owner == owner)


def _same_lease(table: sa.Table, row: Any) -> sa.ColumnElement[bool]:
    """The lease is still the one we judged (compare-and-swap on owner and until)."""
    return sa.and_(table.c.lease_owner == row.lease_owner, table.c.lease_until == row.lease_until)


def _dead_held(conn: Connection, table: sa.Table, key: sa.Column[Any], *where: Any) -> list[Any]:
    """Live-by-time leases held by a dead process on this host."""
    me = this_process()
    query = sa.select(key, table.c.lease_owner, table.c.lease_until, *table.c[_HOLDER_COLUMNS])
    query = query.where(table.c.lease_host == me.host, table.c.lease_until.is_not(None), *where)
    # No row locks: live siblings' rows stay untouched, and the takeover is a
    # compare-and-swap on owner and until (see _same_lease), safe without them.
    return [
        r for r in conn.execute(query).all() if is_dead(r.lease_host, r.lease_pid, r.lease_started)
    ]


def claim_queued(conn: Connection, owner: str, seconds: float, limit: int) -> list[str]:
    """Lease up to ``limit`` queued exchanges nobody (alive) holds; oldest first.

    Our own live leases are excluded too: those exchanges are being sent. On
    PostgreSQL the pick and the lease are one ``WITH picked AS (SELECT …
    FOR UPDATE SKIP LOCKED) UPDATE … RETURNING`` with the clock read inside it:
    one round trip per claim.
    """
    now, held_until = _now_and_until(conn, seconds)
    t = schema.exchanges
    pick = (
        sa.select(t.c.id)
        .where(t.c.status == QUEUED, _free(t, now))
        .order_by(t.c.created_at, t.c.id)
        .limit(limit)
    )
    values = lease_values(owner, held_until)
    if conn.dialect.name == "postgresql":
        # A CTE, not ``id IN (subquery)``: the planner may run such a subquery more
        # than once and so lease more than ``limit``; a CTE with a volatile function
        # (the clock) is evaluated once.
        picked = pick.with_for_update(skip_locked=True).cte("picked")
        rows = list(
            conn.execute(
                t.update()
                .where(t.c.id == picked.c.id, t.c.status == QUEUED)
                .values(**values)
                .returning(t.c.id, t.c.created_at)
            )
        )
        rows.sort(key=lambda r: (r.created_at, r.id))
        ids = [str(r.id) for r in rows]
        claimed = list(ids)
    else:
        ids = list(conn.execute(pick).scalars())
        claimed = []
        if ids:
            claimed = list(
                conn.execute(
                    t.update()
                    .where(t.c.id.in_(ids), t.c.status == QUEUED, _free(t, now))
                    .values(**values)
                    .returning(t.c.id)
                ).scalars()
            )
    if len(claimed) < limit:
        alive = sa.and_(t.c.status == QUEUED, t.c.lease_until >= now)
        for row in _dead_held(conn, t, t.c.id, alive)[: limit - len(claimed)]:
            if conn.execute(
                t.update().where(t.c.id == row.id, alive, _same_lease(t, row)).values(**values)
            ).rowcount:
                claimed.append(row.id)
    order = {i: n for n, i in enumerate(ids)}
    return sorted(claimed, key=lambda i: order.get(i, len(order)))


def take_queued(conn: Connection, exchange_id: str, owner: str, seconds: float) -> Any | None:
    """Lease a queued exchange (or renew our own) and count the attempt, in one
    statement; the exchange's row as it now stands, or None when it is not queued
    or another live holder has it (then nothing changed).

    Dispatch after a claim needs the row, the lease and the attempt: one
    ``UPDATE … RETURNING`` instead of a locked SELECT, a clock read, the lease's
    UPDATE and the attempt's UPDATE.
    """
    now, held_until = _now_and_until(conn, seconds)
    t = schema.exchanges
    values = _attempt_values(owner, held_until)
    queued = sa.and_(t.c.id == exchange_id, t.c.status == QUEUED)
    row = conn.execute(
        t.update().where(queued, _free(t, now, owner)).values(**values).returning(*t.c)
    ).first()
    if row is not None:
        return row
    for held in _dead_held(conn, t, t.c.id, queued):
        return conn.execute(
            t.update().where(queued, _same_lease(t, held)).values(**values).returning(*t.c)
        ).first()
    return None


def take_next_queued(conn: Connection, owner: str, seconds: float) -> Any | None:
    """Claim the oldest queued exchange nobody (alive) holds, lease it, count the
    attempt and read its row, in one statement on PostgreSQL; None when there is none.

    A worker's send slot starts its send with this, inside the transaction that
    prepares the send: the claim costs no transaction (and no round trips) of its
    own, and the lease, the attempt and the row come back as :func:`take_queued`
    gives them. If that transaction rolls back, the claim goes with it.
    """
    now, held_until = _now_and_until(conn, seconds)
    t = schema.exchanges
    values = _attempt_values(owner, held_until)
    pick = (
        sa.select(t.c.id)
        .where(t.c.status == QUEUED, _free(t, now))
        .order_by(t.c.created_at, t.c.id)
        .limit(1)
    )
    if conn.dialect.name == "postgresql":
        picked = pick.with_for_update(skip_locked=True).cte("picked")
        row = conn.execute(
            t.update()
            .where(t.c.id == picked.c.id, t.c.status == QUEUED)
            .values(**values)
            .returning(*t.c)
        ).first()
    else:
        # SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so the
        # pick cannot be taken by another process before the UPDATE.
        picked_id = conn.execute(pick).scalar()
        row = None
        if picked_id is not None:
            row = conn.execute(
                t.update()
                .where(t.c.id == picked_id, t.c.status == QUEUED, _free(t, now))
                .values(**values)
                .returning(*t.c)
            ).first()
    if row is not None:
        return row
    alive = sa.and_(t.c.status == QUEUED, t.c.lease_until >= now)
    for held in _dead_held(conn, t, t.c.id, alive):
        row = conn.execute(
            t.update()
            .where(t.c.id == held.id, alive, _same_lease(t, held))
            .values(**values)
            .returning(*t.c)
        ).first()
        if row is not None:
            return row
    return None


def _attempt_values(owner: str, held_until: Any) -> dict[str, Any]:
    """The lease for ``owner`` until ``held_until``, with one more attempt counted."""
    t = schema.exchanges
    return {
        **lease_values(owner, held_until),
        "attempts": sa.func.coalesce(t.c.attempts, 0) + 1,
        "updated_at": utcnow(),
    }


def take_exchange(conn: Connection, exchange_id: str, owner: str, seconds: float) -> bool:
    """Lease one exchange (or renew our own) unless another live holder has it."""
    now, held_until = _now_and_until(conn, seconds)
    t = schema.exchanges
    values = lease_values(owner, held_until)
    if conn.execute(
        t.update().where(t.c.id == exchange_id, _free(t, now, owner)).values(**values)
    ).rowcount:
        return True
    for row in _dead_held(conn, t, t.c.id, t.c.id == exchange_id):
        return bool(
            conn.execute(
                t.update().where(t.c.id == exchange_id, _same_lease(t, row)).values(**values)
            ).rowcount
        )
    return False


def release_exchanges(conn: Connection, owner: str, ids: Sequence[str] | None = None) -> int:
    t = schema.exchanges
    query = t.update().where(t.c.lease_owner == owner)
    if ids is not None:
        query = query.where(t.c.id.in_(list(ids)))
    return int(conn.execute(query.values(**lease_values(None, None))).rowcount)


def take_feed(conn: Connection, scope: str, owner: str, seconds: float) -> bool:
    """Lease a provider feed (its cursor) so one worker at a time reads it."""
    now = db_now(conn)
    t = schema.cursors
    values = lease_values(owner, now + dt.timedelta(seconds=seconds))
    # A new feed: whichever worker inserts first holds it; the others' inserts do
    # nothing (no IntegrityError on a fresh database) and fall to the UPDATE below.
    # Loaded here, by name: a SQLite worker never loads PostgreSQL's dialect modules.
    dialect: Any = importlib.import_module(f"sqlalchemy.dialects.{conn.dialect.name}")
    inserted = conn.execute(
        dialect.insert(t)
        .values(scope=scope, value=None, updated_at=now, **values)
        .on_conflict_do_nothing(index_elements=[t.c.scope])
        .returning(t.c.scope)
    ).first()
    if inserted is not None:
        return True
    if conn.execute(
        t.update().where(t.c.scope == scope, _free(t, now, owner)).values(**values)
    ).rowcount:
        return True
    for row in _dead_held(conn, t, t.c.scope, t.c.scope == scope):
        return bool(
            conn.execute(
                t.update().where(t.c.scope == scope, _same_lease(t, row)).values(**values)
            ).rowcount
        )
    return False


def release_feed(conn: Connection, scope: str, owner: str) -> None:
    t = schema.cursors
    conn.execute(
        t.update()
        .where(t.c.scope == scope, t.c.lease_owner == owner)
        .values(**lease_values(None, None))
    )


__all__ = [
    "claim_queued",
    "db_now",
    "lease_values",
    "release_exchanges",
    "release_feed",
    "take_exchange",
    "take_feed",
    "take_next_queued",
    "take_queued",
    "until",
]
