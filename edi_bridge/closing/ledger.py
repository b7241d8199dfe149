"""The closing run's own durable record: one row per (counterparty, period, document).

It lives in the Bridge's database (table ``closing_deliveries``, created by the
store's migrations) so that a re-run in another process knows what went out.
EDI sends are additionally idempotent in the Bridge itself (the row only
remembers the exchange ids); e-mail has no such guard at the other end, so its
row is claimed (``sending``) in a committed transaction *before* the SMTP call
and marked ``sent`` after it. Status changes follow
:data:`edi_bridge.lifecycle.CLOSING_TRANSITIONS`; any other raises
:class:`~edi_bridge.errors.IllegalTransition`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, NotRequired, TypedDict, Unpack

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..errors import DuplicateRecord, IllegalTransition
from ..lifecycle import CLOSING_TRANSITIONS, ClosingStatus
from ..store import schema
from ..store.limits import (
    CLOSING_NUMBER_LIMIT,
    EVENT_KEY_LIMIT,
    NAME_LIMIT,
    PROVIDER_LIMIT,
    clean_text,
    fit_id,
)

deliveries = schema.closing_deliveries

PENDING = ClosingStatus.PENDING
SENDING = ClosingStatus.SENDING
SENT = ClosingStatus.SENT
FAILED = ClosingStatus.FAILED
RECORDED = ClosingStatus.RECORDED  # a paper record: see docs/closing.md
CANCELLED = ClosingStatus.CANCELLED  # its EDI exchange was cancelled by hand


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclasses.dataclass(frozen=True, slots=True)
class Delivery:
    """One row of the ledger."""

    key: str
    period: str
    counterparty_key: str
    counterparty_name: str
    number: str
    kind: str
    channel: str  # edi, email, paper
    provider: str | None
    recipient: str
    status: str
    reason: str | None
    exchange_ids: list[str]
    message_id: str | None
    files: list[dict[str, Any]]
    formed_at: dt.datetime
    attempts: int
    updated_at: dt.datetime

    @classmethod
    def of(cls, row: Any) -> Delivery:
        m = row._mapping
        return cls(**{f: m[f] for f in _FIELDS})


_FIELDS = tuple(f.name for f in dataclasses.fields(Delivery))


class NewDelivery(TypedDict):
    key: str
    period: str
    counterparty_key: str
    counterparty_name: str
    number: str
    kind: str
    channel: str
    provider: str | None
    recipient: str
    status: ClosingStatus
    exchange_ids: list[str]
    files: list[dict[str, Any]]
    reason: NotRequired[str | None]


class DeliveryChanges(TypedDict, total=False):
    reason: str | None
    exchange_ids: list[str]
    message_id: str | None
    files: list[dict[str, Any]]


def _key(key: str) -> str:
    """The row's key as stored: numbers from a batch can make it long (see store.limits)."""
    return fit_id(key, EVENT_KEY_LIMIT)


def _fit(values: dict[str, Any]) -> dict[str, Any]:
    """Batch and operator strings fitted to their columns, the same on SQLite and PostgreSQL."""
    fitted = dict(values)
    if "key" in fitted:
        fitted["key"] = _key(fitted["key"])
    if "number" in fitted:
        fitted["number"] = clean_text(fitted["number"], CLOSING_NUMBER_LIMIT)
    for name in ("counterparty_name", "recipient", "reason"):
        if name in fitted:
            fitted[name] = clean_text(fitted[name])
    if fitted.get("message_id"):
        fitted["message_id"] = fit_id(fitted["message_id"], NAME_LIMIT)
    if fitted.get("provider"):
        fitted["provider"] = fit_id(fitted["provider"], PROVIDER_LIMIT)
    return fitted


def _sources(target: ClosingStatus) -> list[str]:
    """The statuses from which the closing table allows ``target``."""
    return [str(s) for s, allowed in CLOSING_TRANSITIONS.items() if target in allowed]


class Ledger:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, key: str) -> Delivery | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(deliveries).where(deliveries.c.key == _key(key))).first()
        return None if row is None else Delivery.of(row)

    def insert(self, **values: Unpack[NewDelivery]) -> bool:
        """Insert a new row; False when the key is already there (another task or run)."""
        stamp = now()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    deliveries.insert().values(
                        attempts=0, updated_at=stamp, formed_at=stamp, **_fit(dict(values))
                    )
                )
        except (sa.exc.IntegrityError, DuplicateRecord):
            return False
        return True

    def update(self, key: str, **values: Unpack[DeliveryChanges]) -> None:
        """Change a row's details, not its status (see :meth:`move`)."""
        with self.engine.begin() as conn:
            conn.execute(
                deliveries.update()
                .where(deliveries.c.key == _key(key))
                .values(updated_at=now(), **_fit(dict(values)))
            )

    def move(self, key: str, target: ClosingStatus, **values: Unpack[DeliveryChanges]) -> None:
        """Move a row to ``target`` if the closing table allows it from its status."""
        with self.engine.begin() as conn:
            changed = conn.execute(
                deliveries.update()
                .where(deliveries.c.key == _key(key), deliveries.c.status.in_(_sources(target)))
                .values(status=target, updated_at=now(), **_fit(dict(values)))
            ).rowcount
            if not changed:
                found = conn.execute(
                    sa.select(deliveries.c.status).where(deliveries.c.key == _key(key))
                ).scalar_one_or_none()
                raise IllegalTransition(key, str(found), target)

    def retry(self, key: str) -> int:
        """A cancelled row back to ``pending`` for a deliberate retry; returns the retry's
        number (its sends use fresh idempotency keys: the cancelled exchanges stay)."""
        with self.engine.begin() as conn:
            changed = conn.execute(
                deliveries.update()
                .where(deliveries.c.key == key, deliveries.c.status == CANCELLED)
                .values(status=PENDING, attempts=deliveries.c.attempts + 1, updated_at=now())
            ).rowcount
            row = conn.execute(
                sa.select(deliveries.c.status, deliveries.c.attempts).where(deliveries.c.key == key)
            ).first()
        if not changed or row is None:
            raise IllegalTransition(key, str(row.status) if row else "missing", PENDING)
        return int(row.attempts)

    def claim(self, key: str, allowed: tuple[ClosingStatus, ...]) -> bool:
        """Move a row to ``sending`` if it is in one of ``allowed``; committed at once."""
        sources = [s for s in allowed if str(s) in _sources(SENDING)]
        with self.engine.begin() as conn:
            changed = conn.execute(
                deliveries.update()
                .where(deliveries.c.key == _key(key), deliveries.c.status.in_(sources))
                .values(status=SENDING, attempts=deliveries.c.attempts + 1, updated_at=now())
            ).rowcount
        return bool(changed)

    def for_period(self, period: str) -> list[Delivery]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(deliveries)
                .where(deliveries.c.period == period)
                .order_by(deliveries.c.counterparty_key, deliveries.c.number, deliveries.c.key)
            )
            return [Delivery.of(r) for r in rows]


__all__ = [
    "CANCELLED",
    "FAILED",
    "PENDING",
    "RECORDED",
    "SENDING",
    "SENT",
    "Delivery",
    "DeliveryChanges",
    "Ledger",
    "NewDelivery",
    "deliveries",
]
