"""The closing run's own durable record: one row per (counterparty, period, document).

It lives in the Bridge's database (tables ``closing_*``) so that a re-run in
another process knows what went out. EDI sends are additionally idempotent in
the Bridge itself (the row only remembers the exchange ids); e-mail has no
such guard at the other end, so its row is claimed (``sending``) in a
committed transaction *before* the SMTP call and marked ``sent`` after it.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..store.migrations import schema_lock
from ..store.schema import UTCDateTime

metadata = sa.MetaData()
deliveries = sa.Table(
    "closing_deliveries",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("period", sa.String(7), nullable=False, index=True),
    sa.Column("counterparty_key", sa.String(32), nullable=False),
    sa.Column("counterparty_name", sa.Text, nullable=False),
    sa.Column("number", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(8), nullable=False),  # edi, email, paper
    sa.Column("provider", sa.String(64)),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("exchange_ids", sa.JSON, nullable=False),
    sa.Column("message_id", sa.String(255)),
    sa.Column("files", sa.JSON, nullable=False),
    sa.Column("formed_at", UTCDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
RECORDED = "recorded"  # a paper record waiting for the paper route

_created: set[str] = set()
_lock = threading.Lock()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class Ledger:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        key = str(engine.url)
        with _lock:
            if key not in _created:
                with engine.begin() as conn:
                    schema_lock(conn)
                    metadata.create_all(conn)
                _created.add(key)

    def get(self, key: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(deliveries).where(deliveries.c.key == key)).first()

    def insert(self, **values: Any) -> bool:
        """Insert a new row; False when the key is already there (another task or run)."""
        stamp = now()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    deliveries.insert().values(
                        attempts=0, updated_at=stamp, formed_at=stamp, **values
                    )
                )
        except sa.exc.IntegrityError:
            return False
        return True

    def update(self, key: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                deliveries.update()
                .where(deliveries.c.key == key)
                .values(updated_at=now(), **values)
            )

    def claim(self, key: str, allowed: tuple[str, ...]) -> bool:
        """Move a row to ``sending`` if it is in one of ``allowed``; committed at once."""
        with self.engine.begin() as conn:
            changed = conn.execute(
                deliveries.update()
                .where(deliveries.c.key == key, deliveries.c.status.in_(allowed))
                .values(status=SENDING, attempts=deliveries.c.attempts + 1, updated_at=now())
            ).rowcount
        return bool(changed)

    def for_period(self, period: str) -> list[Any]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(deliveries)
                    .where(deliveries.c.period == period)
                    .order_by(deliveries.c.counterparty_key, deliveries.c.number, deliveries.c.key)
                )
            )


__all__ = ["FAILED", "PENDING", "RECORDED", "SENDING", "SENT", "Ledger", "deliveries"]
