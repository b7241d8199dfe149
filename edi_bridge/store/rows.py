"""Typed rows the store hands out, and typed parameters for what it writes.

Reads give frozen dataclasses (:class:`ExchangeRow`) or the public models
(:class:`~edi_bridge.models.HistoryEntry`, :class:`~edi_bridge.models.SignatureRecord`,
:class:`~edi_bridge.models.Event`); writes take the TypedDicts below, so a
misspelt column or a wrong type is a type error instead of a runtime one.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any, NotRequired, Protocol, TypedDict

from ..models import Counterparty, Document


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
class ExchangeState:
    """What applying provider events needs of an exchange (no JSON columns parsed)."""

    id: str
    channel: str
    status: str
    file_name: str


@dataclasses.dataclass(frozen=True, slots=True)
class EarlyEventRow:
    """A provider event parked until the record of its send commits."""

    event_id: str
    kind: str
    document_id: str
    at: dt.datetime
    reason: str | None
    signature: bytes | None
    # The МЧД files the signature was made under, and the operator's status (a dict).
    powers_of_attorney: tuple[bytes, ...] = ()
    operator_status: dict[str, Any] | None = None


class JsonStatus(Protocol):
    """An operator's status on an МЧД that can be kept as JSON (``OperatorPoaStatus``)."""

    def to_dict(self) -> dict[str, Any]: ...


class ParkedEvent(Protocol):
    """What the store keeps of a provider event it parks (a ``ProviderEvent`` fits)."""

    @property
    def event_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def document_id(self) -> str: ...
    @property
    def at(self) -> dt.datetime: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def signature(self) -> bytes | None: ...
    @property
    def powers_of_attorney(self) -> Sequence[bytes]: ...
    @property
    def operator_status(self) -> JsonStatus | None: ...


class NewExchange(TypedDict):
    """The columns of a new exchange."""

    id: str
    idempotency_key: str
    channel: str
    provider: str
    counterparty_key: str
    counterparty: dict[str, Any]
    document: dict[str, Any]
    content_sha256: str
    status: str
    provider_ref: dict[str, str]
    needs_attention: bool
    attempts: int
    created_at: dt.datetime
    updated_at: dt.datetime
    reason: NotRequired[str | None]
    scenario: NotRequired[str | None]
    previous_id: NotRequired[str | None]
    lease_owner: NotRequired[str | None]
    lease_until: NotRequired[dt.datetime | None]
    lease_host: NotRequired[str | None]
    lease_pid: NotRequired[int | None]
    lease_started: NotRequired[str | None]


def new_exchange(
    exchange_id: str,
    key: str,
    *,
    channel: str,
    provider: str,
    counterparty: Counterparty,
    document: Document,
    content_sha256: str,
    status: str,
    at: dt.datetime,
) -> NewExchange:
    """The columns every new exchange starts with (callers add their own)."""
    return NewExchange(
        id=exchange_id,
        idempotency_key=key,
        channel=channel,
        provider=provider,
        counterparty_key=counterparty.key,
        counterparty=counterparty.model_dump(mode="json"),
        document=document.model_dump(mode="json"),
        content_sha256=content_sha256,
        status=status,
        provider_ref={},
        needs_attention=False,
        attempts=0,
        created_at=at,
        updated_at=at,
    )


class TransitionChanges(TypedDict, total=False):
    """Columns a status change may set beside the status and the reason."""

    provider: str
    provider_ref: dict[str, str]
    provider_document_id: str | None
    needs_attention: bool
    last_error: str | None
    attempts: int
    updated_at: dt.datetime
    lease_owner: str | None
    lease_until: dt.datetime | None


class ExchangeChanges(TransitionChanges, total=False):
    """Columns an update of an exchange may set."""

    status: str
    reason: str | None


class HistoryInsert(TypedDict):
    exchange_id: str
    status: str
    at: dt.datetime
    cause: str
    detail: dict[str, Any]


class EventInsert(TypedDict):
    """A change recorded for the backend (the outbox)."""

    key: str
    kind: str
    exchange_id: str | None  # None: a quarantined operator event about no exchange of ours
    status: str
    at: dt.datetime
    reason: str | None
    data: dict[str, Any]


class SignatureInsert(TypedDict):
    exchange_id: str
    role: str
    file_name: str
    content: bytes
    verdict: dict[str, Any] | None
    powers_of_attorney: NotRequired[Sequence[bytes]]
    operator_status: NotRequired[dict[str, Any] | None]
    # The content's SHA-256 when the caller computed it already (hashed once, not twice).
    sha256: NotRequired[str]


@dataclasses.dataclass(frozen=True, slots=True)
class SignatureAuthority:
    """What came with a kept signature to check it again: the МЧД files and the status."""

    powers_of_attorney: tuple[bytes, ...] = ()
    operator_status: dict[str, Any] | None = None


def poa_json(files: Sequence[bytes]) -> list[str] | None:
    """МЧД files as JSON (base64 text; the files may be windows-1251 XML)."""
    return [base64.b64encode(f).decode("ascii") for f in files] or None


def poa_files(value: Any) -> tuple[bytes, ...]:
    return tuple(base64.b64decode(v) for v in value or () if isinstance(v, str))


class AppliedEvent(TypedDict):
    """A provider event id claimed in its feed (``exchange_id`` None: parked or not ours)."""

    scope: str
    event_id: str
    exchange_id: str | None
    at: dt.datetime


__all__ = [
    "AppliedEvent",
    "EarlyEventRow",
    "EventInsert",
    "ExchangeChanges",
    "ExchangeRow",
    "ExchangeState",
    "HistoryInsert",
    "JsonStatus",
    "NewExchange",
    "ParkedEvent",
    "SignatureAuthority",
    "SignatureInsert",
    "TransitionChanges",
    "new_exchange",
    "poa_files",
    "poa_json",
]
