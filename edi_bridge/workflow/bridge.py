"""The facade a backend imports: :class:`Bridge`.

It opens the store, builds the adapters and the signer, and hands each public
method to the part that does the work: :mod:`.sending` (record, lease, sign,
deliver), :mod:`.feed` (operators' change feeds), :mod:`.archive` (reading and
fetching back), :mod:`.outbox` (callbacks), :mod:`edi_bridge.routing` (EDI or
paper) and :class:`~edi_bridge.paper.PaperDesk` (the paper route). Every status
change goes through the one :class:`~edi_bridge.transitions.TransitionWriter`.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from .. import config
from ..errors import EdiBridgeError, PollFailed, ResendRefused, UnknownProvider
from ..lifecycle import IN_FLIGHT_STATUSES, Channel, EventKind, ExchangeStatus
from ..models import Counterparty, Document, Event, Exchange, HistoryEntry
from ..paper import PaperDesk, default_carriers
from ..provider import Capability, Provider, ProviderContext
from ..registry import Registry, default_registry
from ..routing import RouteDecision, RoutingPolicy
from ..signing import Signer, signer_from_settings, throwaway_signer
from ..store import Store
from ..store.external import borrowed_connection
from ..transitions import SignatureCheck, TransitionWriter
from . import archive
from .feed import Backoff, Feeds
from .outbox import Callback, Outbox
from .sending import Attempt, Intent, Sending

log = logging.getLogger("edi_bridge")
DEFAULT_LEASE_SECONDS = 120.0  # longer than any one provider call with its own retries


class Bridge:
    """Sends documents, applies provider events, keeps everything durable."""

    def __init__(
        self,
        store: Store,
        *,
        registry: Registry | None = None,
        signer: Signer | None = None,
        settings: Mapping[str, str] | None = None,
        signature_check: SignatureCheck | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self.store = store
        # Identifies this Bridge's leases; unique per process and instance.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.lease_seconds = lease_seconds
        self.registry = registry or default_registry
        self._signer = signer
        self._settings = dict(settings or {})
        self._providers: dict[str, Provider] = {}
        self._providers_lock = threading.Lock()
        self._backoff = Backoff()  # feeds (and the paper desk) that failed in a full poll
        self.outbox = Outbox(store)
        self.writer = TransitionWriter(store, signature_check)
        self.sending = Sending(
            store,
            self.writer,
            self.outbox,
            adapter=lambda name: self.provider(name),
            signer=lambda: self.signer,
            route=self.decide_route,
            paper=lambda: self.paper,
            owner=self.owner,
            lease_seconds=lease_seconds,
        )
        self.feeds = Feeds(store, self.writer, self.owner, lease_seconds)

    @classmethod
    def open(cls, db: str | Path | None = None, **kwargs: Any) -> Bridge:
        """Open (and migrate) the store at ``db`` or ``EDI_BRIDGE_DB``."""
        return cls(Store.open(db), **kwargs)

    def __enter__(self) -> Bridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if "paper" in self.__dict__:
            self.paper.close()
        for provider in self._providers.values():
            provider.close()
        self._providers.clear()
        self.store.close()

    def __repr__(self) -> str:
        return f"<Bridge {self.store!r}>"

    @property
    def signature_check(self) -> SignatureCheck | None:
        return self.writer.signature_check

    @signature_check.setter
    def signature_check(self, check: SignatureCheck | None) -> None:
        self.writer.signature_check = check

    # -- adapters, signer, routing, the paper desk ----------------------------

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            # signing.* settings or EDI_BRIDGE_SIGNING_* variables name the signer.
            self._signer = signer_from_settings(self._settings)
        if self._signer is None:
            log.warning("no signer configured: signing with a throwaway test certificate")
            self._signer = throwaway_signer()
        return self._signer

    def provider(self, name: str) -> Provider:
        """The adapter instance for ``name`` (built once per Bridge)."""
        with self._providers_lock:
            if name not in self._providers:
                cls = self.registry.get(name)
                context = ProviderContext(
                    config=config.section(name, self._settings),
                    signer=self._signer,
                    engine=self.store.engine,
                )
                self._providers[name] = cls(context)
            return self._providers[name]

    @functools.cached_property
    def routing(self) -> RoutingPolicy:
        """EDI or paper (``paper.*`` settings); assign to replace."""
        return RoutingPolicy.from_settings(self._settings)

    def decide_route(
        self, counterparty: Counterparty, requested: str | None = None
    ) -> RouteDecision:
        """EDI (which provider, which of the counterparty's routes) or paper, and why."""
        return self.routing.decide(
            counterparty, requested, registry=self.registry, adapter=self.provider
        )

    @functools.cached_property
    def paper(self) -> PaperDesk:
        """The paper route: print pack, dispatch, tracking, scans, originals."""
        return PaperDesk(
            self.store, self.writer, self.outbox, settings=self._settings, policy=self.routing
        )

    # -- callbacks and backend events -----------------------------------------

    def on(self, kind: str | EventKind, callback: Callback) -> None:
        """Call ``callback(event)`` for each change of ``kind`` ("*" for all)."""
        self.outbox.on(kind, callback)

    def events(self, after: int = 0, limit: int = 1000) -> builtins.list[Event]:
        """Changes recorded after sequence number ``after`` (for a backend catching up)."""
        return self.outbox.events(after, limit)

    def dispatch_events(self) -> int:
        """Run callbacks for recorded changes not yet handed over; returns how many."""
        return self.outbox.dispatch_events()

    # -- sending --------------------------------------------------------------

    def send(
        self,
        counterparty: Counterparty,
        document: Document,
        *,
        idempotency_key: str | None = None,
        provider: str | None = None,
        scenario: str | None = None,
        previous_id: str | None = None,
    ) -> Exchange:
        """Send ``document`` to ``counterparty`` for signature; idempotent per key.

        The same key again returns the existing exchange (and finishes its
        send if an earlier attempt was interrupted); the same key with a
        different document or counterparty raises IdempotencyConflict.
        """
        intent = Intent(counterparty, document, idempotency_key, provider, scenario, previous_id)
        return self.sending.send(intent)

    def enqueue(
        self,
        counterparty: Counterparty,
        document: Document,
        *,
        idempotency_key: str | None = None,
        provider: str | None = None,
        scenario: str | None = None,
        connection: Any = None,
    ) -> Exchange:
        """Record a send as ``queued`` without calling the provider.

        With ``connection`` (a SQLAlchemy Connection or a psycopg connection to
        the same database, inside the backend's own transaction) the exchange
        commits or rolls back with the backend's changes. A worker
        (``edi-bridge worker``, :meth:`dispatch_queued`) sends it later.
        """
        intent = Intent(counterparty, document, idempotency_key, provider, scenario)
        with contextlib.ExitStack() as stack:
            conn = (
                None if connection is None else stack.enter_context(borrowed_connection(connection))
            )
            exchange = self.sending.record(intent, conn, lease=False)
        assert not isinstance(exchange, Attempt)  # only a leased send is prepared
        return exchange

    def dispatch(self, exchange_id: str) -> Exchange:
        """Send a queued exchange to its provider (reconciling an earlier attempt)."""
        return self.sending.dispatch(exchange_id)

    def claim_queued(self, limit: int = 100) -> builtins.list[str]:
        """Lease up to ``limit`` queued exchanges that no live worker holds."""
        return self.sending.claim_queued(limit)

    def release(self, exchange_ids: Iterable[str] | None = None) -> int:
        """Give back leases this Bridge holds (all, or the given exchanges)."""
        return self.sending.release(None if exchange_ids is None else builtins.list(exchange_ids))

    def dispatch_queued(self, limit: int = 100) -> builtins.list[Exchange]:
        """Send queued exchanges (new, interrupted or transiently failed) nobody holds."""
        return [self.dispatch(i) for i in self.claim_queued(limit)]

    # -- polling --------------------------------------------------------------

    def poll(self, providers: Iterable[str] | None = None) -> builtins.list[Event]:
        """Apply every pending provider event; returns the changes it recorded."""
        before = self.store.last_event_seq()
        self._poll(providers)
        return self.store.events_after(before, limit=100_000)

    def poll_count(self, providers: Iterable[str] | None = None) -> int:
        """:meth:`poll` without building the changes: returns how many it recorded."""
        before = self.store.last_event_seq()
        self._poll(providers)
        return self.store.count_events_after(before)

    def _poll(self, providers: Iterable[str] | None) -> None:
        """Poll each feed and the paper desk on its own; one failure stops nothing else.

        What the others recorded is committed and handed to callbacks; then the
        one unit's own error is raised, or :class:`PollFailed` naming each unit
        when several failed. In a full poll a unit
        that failed is backed off (doubling, up to ``feed.BACKOFF_MAX`` seconds).
        """
        wanted = builtins.list(providers) if providers is not None else None
        desk: PaperDesk | None = self.__dict__.get("paper")  # built already, or not
        carriers = set((desk.carriers if desk is not None else default_carriers).names())
        failures: dict[str, str] = {}
        errors: dict[str, BaseException] = {}
        try:
            for name in wanted if wanted is not None else self._providers_to_poll():
                if wanted is not None and name in carriers:
                    continue  # a carrier: tracked by the paper desk below
                if wanted is None and self._backoff.waiting(name):
                    continue
                try:
                    adapter = self.provider(name)
                    if adapter.supports(Capability.EVENTS):
                        self.feeds.poll(name, adapter)
                except Exception as exc:
                    failures[name], errors[name] = self._unit_failed(name, exc), exc
                else:
                    self._backoff.succeeded(name)
            if not (wanted is None and self._backoff.waiting("paper")):
                try:
                    if self._paper_has_work(wanted, carriers):
                        self.paper.poll(wanted)  # carrier tracking, overdue originals, fallbacks
                except PollFailed as exc:
                    failures.update(exc.failures)
                    errors.update(exc.errors)
                except Exception as exc:
                    failures["paper"], errors["paper"] = self._unit_failed("paper", exc), exc
        finally:
            # Whatever failed, changes already committed reach the callbacks.
            self.dispatch_events()
        if len(failures) == 1 and len(errors) == 1:
            raise next(iter(errors.values()))  # one unit failed: its own error, as it was
        if failures:
            raise PollFailed(failures, errors)

    def _unit_failed(self, unit: str, exc: Exception) -> str:
        why = PollFailed.reason(exc)
        delay = self._backoff.failed(unit)
        log.error(
            "poll of %s failed; next try in %.0f s: %s",
            unit,
            delay,
            why,
            exc_info=not isinstance(exc, EdiBridgeError),
            extra={"unit": unit},
        )
        return why

    def _providers_to_poll(self) -> builtins.list[str]:
        S = ExchangeStatus
        with self.store.transaction() as conn:
            return self.store.providers_with(conn, Channel.EDI, [S.SENT, S.DELIVERED, S.SIGNED])

    def _paper_has_work(self, wanted: builtins.list[str] | None, carriers: set[str]) -> bool:
        """The paper desk is built for a poll only when it has something to do."""
        if "paper" in self.__dict__:
            return True
        if wanted is not None and not carriers.intersection(wanted):
            return False
        policy = self.routing
        if wanted is None and (policy.fallback_on_failure or policy.fallback_after_days):
            return True
        S = ExchangeStatus
        with self.store.transaction() as conn:
            return bool(
                self.store.providers_with(conn, Channel.PAPER, [S.DISPATCHED, S.SCAN_RECEIVED])
            )

    # -- reading --------------------------------------------------------------

    def status(self, exchange_id: str) -> Exchange:
        with self.store.transaction() as conn:
            return self.store.load_exchange(conn, exchange_id)

    def history(self, exchange_id: str) -> builtins.list[HistoryEntry]:
        return builtins.list(self.status(exchange_id).history)

    def list(self, status: str | None = None) -> builtins.list[Exchange]:
        with self.store.transaction() as conn:
            ids = self.store.exchange_ids(conn, status=status)
            return [self.store.load_exchange(conn, i) for i in ids]

    def content(self, exchange_id: str) -> IO[bytes]:
        return self.store.exchange_content(exchange_id)

    def fetch(self, exchange_id: str, out_dir: str | Path) -> Path:
        """Write the document, every signature and ``manifest.json`` into ``out_dir``.

        Files the provider returns (receipts, its copy of the signatures) are
        added under ``provider/`` when the adapter can fetch.
        """
        exchange = self.status(exchange_id)
        edi = exchange.channel == Channel.EDI
        return archive.fetch(
            self.store, exchange, self.provider(exchange.provider) if edi else None, out_dir
        )

    def stored_document(self, exchange: Exchange) -> Document:
        """The exchange's document with its stored content, ready to send again."""
        return self.store.stored_document(exchange)

    # -- resend ---------------------------------------------------------------

    def resend(self, exchange_id: str, *, force: bool = False) -> Exchange:
        """Send again by hand.

        ``queued`` and ``failed`` exchanges are retried as they are (same
        idempotency key: the provider still makes at most one document).
        ``rejected`` and ``revoked`` ones need ``force`` and become a new
        exchange linked to the old. ``signed`` and in-flight ones are refused.
        """
        exchange = self.status(exchange_id)
        status = exchange.status
        if status == ExchangeStatus.SIGNED:
            raise ResendRefused(f"exchange {exchange_id} is signed; nothing to resend")
        if status in IN_FLIGHT_STATUSES:
            raise ResendRefused(
                f"exchange {exchange_id} is {status} and waits for the counterparty; "
                "resend would make a second document"
            )
        if status == ExchangeStatus.QUEUED:
            return self.dispatch(exchange_id)
        if status == ExchangeStatus.FAILED and not force:
            with self.store.transaction() as conn:
                self.writer.write(
                    conn,
                    exchange_id,
                    ExchangeStatus.QUEUED,
                    "resend requested",
                    event_key=f"{exchange_id}:queued:{secrets.token_hex(4)}",
                    reason=None,
                    needs_attention=False,
                )
            return self.dispatch(exchange_id)
        if not force:
            raise ResendRefused(
                f"exchange {exchange_id} is {status}; use force to send a new document"
            )
        with self.store.transaction() as conn:
            row = self.store.exchange_row(conn, exchange_id)
        new = self.send(
            exchange.counterparty,
            self.stored_document(exchange),
            idempotency_key=f"{exchange.idempotency_key}#resend-{exchange_id}",
            provider=exchange.provider,
            scenario=row.scenario,
            previous_id=exchange_id,
        )
        with self.store.transaction() as conn:
            if not any(h.cause == f"resent as {new.id}" for h in exchange.history):
                self.store.add_history(conn, exchange_id, exchange.status, f"resent as {new.id}")
        return new

    def providers_info(self) -> builtins.list[dict[str, Any]]:
        return providers_info(self.registry)


def providers_info(registry: Registry) -> builtins.list[dict[str, Any]]:
    """Installed adapters, their operator and capabilities (no database needed)."""
    info: builtins.list[dict[str, Any]] = []
    for name in registry.names():
        try:
            cls = registry.get(name)
        except UnknownProvider as exc:
            info.append({"name": name, "error": str(exc)})
            continue
        info.append(
            {
                "name": name,
                "operator": cls.operator,
                "capabilities": sorted(str(c) for c in cls.capabilities),
            }
        )
    return info


__all__ = ["DEFAULT_LEASE_SECONDS", "Bridge", "providers_info"]
