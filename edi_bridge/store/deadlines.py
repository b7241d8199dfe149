"""Signing deadlines per exchange (``edi_deadlines``): the one given at send
time and the moment the exchange expired."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import schema
from .engine import StoreBase


class DeadlineStore(StoreBase):
    """The ``edi_deadlines`` table."""

    def deadline_rows(
        self, conn: Connection, exchange_ids: Sequence[str]
    ) -> dict[str, tuple[dt.datetime | None, dt.datetime | None]]:
        """``{exchange_id: (sign_by, expired_at)}`` for the exchanges that have a row."""
        t = schema.deadlines
        found: dict[str, tuple[dt.datetime | None, dt.datetime | None]] = {}
        ids = list(exchange_ids)
        for start in range(0, len(ids), 500):  # bounded IN lists on every engine
            rows = conn.execute(
                sa.select(t.c.exchange_id, t.c.sign_by, t.c.expired_at).where(
                    t.c.exchange_id.in_(ids[start : start + 500])
                )
            ).all()
            found.update({str(r.exchange_id): (r.sign_by, r.expired_at) for r in rows})
        return found

    def deadline_candidates(
        self, conn: Connection, waiting: Sequence[str], also: str, *, only_given: bool
    ) -> list[str]:
        """Exchanges in ``waiting`` statuses (with ``only_given``: only those given a
        deadline per send) or in status ``also``, in one statement."""
        e, t = schema.exchanges, schema.deadlines
        awaiting: sa.ColumnElement[bool] = e.c.status.in_(list(waiting))
        if only_given:
            awaiting = sa.and_(awaiting, t.c.exchange_id.is_not(None))
        query = (
            sa.select(e.c.id)
            .select_from(e.outerjoin(t, t.c.exchange_id == e.c.id))
            .where(sa.or_(awaiting, e.c.status == also))
            .order_by(e.c.created_at, e.c.id)
        )
        return [str(i) for i in conn.execute(query).scalars()]

    def set_deadline(
        self,
        conn: Connection,
        exchange_id: str,
        *,
        sign_by: dt.datetime | None = None,
        expired_at: dt.datetime | None = None,
    ) -> None:
        """Record the given values (None leaves a value as it is)."""
        t = schema.deadlines
        values = {
            k: v for k, v in (("sign_by", sign_by), ("expired_at", expired_at)) if v is not None
        }
        exists = conn.execute(
            sa.select(t.c.exchange_id).where(t.c.exchange_id == exchange_id)
        ).first()
        if exists is None:
            conn.execute(t.insert().values(exchange_id=exchange_id, **values))
        elif values:
            conn.execute(t.update().where(t.c.exchange_id == exchange_id).values(**values))


__all__ = ["DeadlineStore"]
