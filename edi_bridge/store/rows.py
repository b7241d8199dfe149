"""Typed rows the store hands out (instead of untyped SQLAlchemy rows)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class ExchangeRow:
    """One row of ``edi_exchanges`` as stored (documents and requisites as JSON)."""

    id: str
    idempotency_key: str
    channel: str
    provider: str
    counterparty_key: str
    counterparty: dict[str, Any]
    document: dict[str, Any]
    content_sha256: str
    status: str
    reason: str | None
    provider_ref: dict[str, str]
    provider_document_id: str | None
    scenario: str | None
    previous_id: str | None
    needs_attention: bool
    last_error: str | None
    attempts: int
    created_at: dt.datetime
    updated_at: dt.datetime
    lease_owner: str | None
    lease_until: dt.datetime | None

    @classmethod
    def of(cls, row: Any) -> ExchangeRow:
        m = row._mapping
        return cls(**{f: m[f] for f in _FIELDS})


_FIELDS = tuple(f.name for f in dataclasses.fields(ExchangeRow))


@dataclasses.dataclass(frozen=True, slots=True)
class EarlyEventRow:
    """A provider event parked until the record of its send commits."""

    event_id: str
    kind: str
    document_id: str
    at: dt.datetime
    reason: str | None
    signature: bytes | None


__all__ = ["EarlyEventRow", "ExchangeRow"]
