"""What a send is before and after it is recorded: the caller's intent, a prepared
attempt, the outcome of a dispatch, and the default idempotency key."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from ..models import Counterparty, Document
from ..provider import SendRequest


@dataclasses.dataclass(frozen=True)
class Attempt:
    """A send recorded (queued, content, our signature, attempt count) and leased."""

    exchange_id: str
    provider: str
    request: SendRequest
    attempts: int
    # When the lease was taken (monotonic): past a quarter of it, it is checked again.
    leased_at: float = dataclasses.field(default_factory=time.monotonic)


@dataclasses.dataclass(frozen=True)
class Dispatched:
    """What a dispatch ended in, without the exchange read back (see ``dispatch_outcome``)."""

    exchange_id: str
    status: str


T = TypeVar("T")
# Reads what a dispatch returns, in its last transaction; the status when it is known.
Finish = Callable[[Connection, str, str | None], T]


@dataclasses.dataclass(frozen=True)
class Intent:
    """What the caller asked to send, before it is recorded."""

    counterparty: Counterparty
    document: Document
    key: str | None
    provider: str | None
    scenario: str | None
    previous_id: str | None = None


class KnownCounterparties:
    """Counterparties validated once per stored requisites: a worker sends many documents
    to the same few, and validating one (its e-mail checks most) costs more than the rest
    of reading its exchange. Kept by counterparty key; used only while the stored
    requisites are equal to those it was validated from."""

    LIMIT = 1024

    def __init__(self) -> None:
        self._kept: dict[str, tuple[dict[str, Any], Counterparty]] = {}

    def of(self, key: str, stored: dict[str, Any]) -> Counterparty:
        kept = self._kept.get(key)
        if kept is not None and kept[0] == stored:
            return kept[1]
        model = Counterparty.model_validate(stored)
        if len(self._kept) >= self.LIMIT:
            self._kept.clear()
        self._kept[key] = (stored, model)
        return model


def default_idempotency_key(counterparty: Counterparty, document: Document) -> str:
    """One intent = this document to this counterparty."""
    raw = f"{counterparty.key}|{document.kind}|{document.number}|{document.sha256}"
    return "auto-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


__all__ = [
    "Attempt",
    "Dispatched",
    "Finish",
    "Intent",
    "KnownCounterparties",
    "default_idempotency_key",
]
