"""The public models: counterparty requisites, documents, exchanges, events.

Models are pydantic v2 and frozen where they describe facts. Input from outside
(JSON requisites, CLI options) is read through :func:`parse_counterparty` and
friends, which turn pydantic's errors into :class:`~edi_bridge.errors.ValidationError`
naming the field and the rule.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Self

import pydantic
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictBool, StrictStr

from .document import Document, DocumentKind, check_file_name
from .lifecycle import (
    EDI_TRANSITIONS,
    IN_FLIGHT_STATUSES,
    LIFECYCLES,
    PAPER_TRANSITIONS,
    TERMINAL_STATUSES,
    Channel,
    EventKind,
    ExchangeStatus,
    allowed_transitions,
)
from .requisites import (
    OPERATOR_PREFIXES,
    check_inn,
    check_kpp,
    check_ogrn,
    check_ogrnip,
)
from .validation import Text, _FieldError, _nonblank, _Strict, load_json_object, read_input
from .validation import _as_validation_error as _as_validation_error  # used by closing.upd

_PHONE_RE = re.compile(r"\+?[0-9][0-9 ()\-]{4,24}")


def _phone(value: str) -> str:
    if not _PHONE_RE.fullmatch(value.strip()):
        raise ValueError("must be a phone number: digits, spaces, '+', '(', ')' or '-'")
    return value.strip()


class Signatory(_Strict):
    """The person who signs for the counterparty, exactly as in its documents."""

    full_name: Text
    position: Text


class Contact(_Strict):
    name: Text
    phone: Annotated[StrictStr, pydantic.AfterValidator(_phone)]
    email: EmailStr


class ClosingDocumentsAddress(_Strict):
    email: EmailStr
    postal_address: Text


class EdiRoute(_Strict):
    """A counterparty's box at one EDI operator."""

    operator: Annotated[StrictStr, pydantic.AfterValidator(lambda v: _nonblank(v).lower())]
    participant_id: Annotated[StrictStr, Field(min_length=4, max_length=46)]

    @pydantic.model_validator(mode="after")
    def _prefix_matches_operator(self) -> Self:
        expected = OPERATOR_PREFIXES.get(self.operator)
        prefix = self.participant_id[:3].upper()
        if expected is not None and prefix != expected:
            raise ValueError(
                f"participant_id prefix {prefix!r} belongs to another operator; "
                f"{self.operator} ids start with {expected!r}"
            )
        return self


class Counterparty(_Strict):
    """A client with its requisites and EDI routes."""

    name: Text
    inn: StrictStr
    kpp: StrictStr | None = None
    ogrn: StrictStr
    vat_payer: StrictBool
    signatory: Signatory
    username: Text
    contract_postal_address: Text
    contact: Contact
    closing_documents: ClosingDocumentsAddress
    edi: list[EdiRoute] = Field(default_factory=list)

    @pydantic.field_validator("inn")
    @classmethod
    def _inn(cls, v: str) -> str:
        rule = check_inn(v)
        if rule:
            raise ValueError(rule)
        return v

    @pydantic.model_validator(mode="after")
    def _kind_rules(self) -> Self:
        if len(self.inn) == 10:
            if not self.kpp:
                raise _FieldError("kpp", "required for an organisation (10-digit INN)")
            rule = check_kpp(self.kpp)
            if rule:
                raise _FieldError("kpp", rule)
            rule = check_ogrn(self.ogrn)
            if rule:
                raise _FieldError("ogrn", rule)
        else:
            if self.kpp:
                raise _FieldError("kpp", "a sole proprietor (12-digit INN) has no KPP")
            rule = check_ogrnip(self.ogrn)
            if rule:
                raise _FieldError("ogrn", rule)
        return self

    @property
    def is_organisation(self) -> bool:
        return len(self.inn) == 10

    @property
    def key(self) -> str:
        """A stable key: INN, and KPP for organisations."""
        return f"{self.inn}-{self.kpp}" if self.kpp else self.inn

    def route_for(self, operator: str) -> EdiRoute | None:
        return next((r for r in self.edi if r.operator == operator), None)


def parse_counterparty(data: Mapping[str, Any] | str | bytes) -> Counterparty:
    """Read requisites from a mapping or JSON text; raises ValidationError."""
    try:
        return Counterparty.model_validate(load_json_object(data, "counterparty"))
    except pydantic.ValidationError as exc:
        raise _as_validation_error(exc) from None


def load_counterparty(path: str | Path) -> Counterparty:
    return parse_counterparty(read_input(path, "counterparty"))


FLOW_FINISHED = "flow_finished"
"""The history step and change kind recorded when the operator's document flow finished."""


class HistoryEntry(BaseModel):
    """One step in an exchange's life."""

    model_config = ConfigDict(frozen=True)

    status: str
    at: dt.datetime
    cause: str
    detail: dict[str, Any] = Field(default_factory=dict)


class SignatureRecord(BaseModel):
    """A detached signature kept with an exchange."""

    model_config = ConfigDict(frozen=True)

    role: str  # "ours" or "counterparty"
    file_name: str
    sha256: str
    size: int
    at: dt.datetime
    verdict: dict[str, Any] | None = None


class Exchange(BaseModel):
    """One document travelling to one counterparty through one channel."""

    model_config = ConfigDict(frozen=True)

    id: str
    idempotency_key: str
    channel: Channel
    provider: str
    counterparty: Counterparty
    document: Document
    status: str
    reason: str | None = None
    provider_ref: dict[str, str] = Field(default_factory=dict)
    previous_id: str | None = None
    needs_attention: bool = False
    last_error: str | None = None
    attempts: int = 0  # calls made to the operator for it (0: recorded, not yet tried)
    created_at: dt.datetime
    updated_at: dt.datetime
    history: list[HistoryEntry] = Field(default_factory=list)
    signatures: list[SignatureRecord] = Field(default_factory=list)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def revocation(self) -> dict[str, Any] | None:
        """The latest revocation request, while one is open or was refused: who asked
        (``us`` or ``counterparty``), why, and for a refusal who refused and why."""
        if self.status not in ("revocation_requested", "revocation_rejected"):
            return None
        asked = next(
            (h for h in reversed(self.history) if h.status == "revocation_requested"), None
        )
        if asked is None:
            return None
        by = asked.detail.get("requested_by", "counterparty")
        found: dict[str, Any] = {"requested_by": by, "reason": asked.detail.get("reason")}
        if self.status == "revocation_rejected":
            found["rejected_by"] = "counterparty" if by == "us" else "us"
            found["rejection_reason"] = self.reason
        elif found["reason"] is None:
            found["reason"] = self.reason
        return found

    @property
    def flow_recorded(self) -> bool:
        """The operator's document flow recorded as finished after the signature (a history
        step ``flow_finished``; see docs/design.md)."""
        return any(h.status == FLOW_FINISHED for h in self.history)

    @property
    def buyer_title(self) -> dict[str, Any] | None:
        """What the buyer's title of a УПД says (signer, acceptance date, result,
        disagreements), as read when it arrived; None when there is none."""
        for entry in reversed(self.history):
            if entry.detail and isinstance(entry.detail.get("buyer_title"), dict):
                return dict(entry.detail["buyer_title"])
        return None

    def as_summary(self) -> dict[str, Any]:
        """The JSON shape of ``edi-bridge status --json``."""
        data: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "channel": self.channel.value,
            "provider": self.provider,
            "idempotency_key": self.idempotency_key,
            "counterparty": {
                "name": self.counterparty.name,
                "inn": self.counterparty.inn,
                "kpp": self.counterparty.kpp,
            },
            "document": self.document.model_dump(mode="json"),
            "provider_ref": self.provider_ref,
            "previous_id": self.previous_id,
            "needs_attention": self.needs_attention,
            "last_error": self.last_error,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "history": [
                {
                    "status": h.status,
                    "at": h.at.isoformat(),
                    "cause": h.cause,
                    **({"detail": h.detail} if h.detail else {}),
                }
                for h in self.history
            ],
            "signatures": [s.model_dump(mode="json") for s in self.signatures],
        }
        title = self.buyer_title
        if title is not None:
            data["buyer_title"] = title
        if self.reason is not None:
            data["reason"] = self.reason
        if self.revocation is not None:
            data["revocation"] = self.revocation
        return data


class Event(BaseModel):
    """A change recorded durably for the backend.

    Callbacks are at-least-once: ``key`` is unique per change, so a backend
    that sees the same key twice can ignore the second.
    """

    model_config = ConfigDict(frozen=True)

    seq: int
    key: str
    kind: str
    # None only for ``event_quarantined`` about a document that is no exchange of ours.
    exchange_id: str | None
    status: str
    at: dt.datetime
    reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class QuarantinedEvent(BaseModel):
    """An operator event put aside because it could not be applied.

    ``status`` is ``held`` until a person re-applies (``reapplied``) or dismisses
    (``dismissed``) it; ``body`` is what the operator sent, secrets masked.
    """

    model_config = ConfigDict(frozen=True)

    id: int
    provider: str
    scope: str
    event_id: str
    document_id: str | None = None
    exchange_id: str | None = None
    reason: str
    first_seen: dt.datetime
    status: str
    body: dict[str, Any] = Field(default_factory=dict)
    settled_by: str | None = None
    settled_why: str | None = None
    settled_at: dt.datetime | None = None


__all__ = [
    "EDI_TRANSITIONS",
    "IN_FLIGHT_STATUSES",
    "LIFECYCLES",
    "PAPER_TRANSITIONS",
    "TERMINAL_STATUSES",
    "Channel",
    "ClosingDocumentsAddress",
    "Contact",
    "Counterparty",
    "Document",
    "DocumentKind",
    "EdiRoute",
    "Event",
    "EventKind",
    "Exchange",
    "ExchangeStatus",
    "HistoryEntry",
    "QuarantinedEvent",
    "Signatory",
    "SignatureRecord",
    "allowed_transitions",
    "check_file_name",
    "load_counterparty",
    "parse_counterparty",
]
