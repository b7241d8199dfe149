"""What closing runs need of the workflow. A :class:`~edi_bridge.Bridge` fits;
closing depends on this shape instead of the workflow package, so the workflow
can use :mod:`.options` without the two importing each other."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from ..models import Counterparty, Document, Event, Exchange
from ..provider import Provider
from ..routing import RouteDecision
from ..store import Store
from ..transitions import SignatureCheck


class Workflow(Protocol):
    store: Store

    @property
    def signature_check(self) -> SignatureCheck | None: ...

    def decide_route(
        self, counterparty: Counterparty, requested: str | None = None
    ) -> RouteDecision: ...

    def send(
        self,
        counterparty: Counterparty,
        document: Document,
        *,
        idempotency_key: str | None = None,
        provider: str | None = None,
    ) -> Exchange: ...

    def status(self, exchange_id: str) -> Exchange: ...

    def provider(self, name: str) -> Provider: ...

    def poll(self, providers: Iterable[str] | None = None) -> list[Event]: ...

    def fetch(self, exchange_id: str, out_dir: str | Path) -> Path: ...


__all__ = ["Workflow"]
