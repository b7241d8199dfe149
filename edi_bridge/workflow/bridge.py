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
import datetime as dt
import functools
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .. import config
from ..deadlines import Deadlines
from ..errors import NotSent
from ..lifecycle import SIGNED_STATUSES, Channel, EventKind, EventKindName, ExchangeStatus
from ..models import Counterparty, Document, Event, Exchange, HistoryEntry, QuarantinedEvent
from ..provider import Capability, Provider, ProviderContext
from ..registry import Registry, default_registry, providers_info
from ..routing import RouteDecision, RoutingPolicy
from ..signing import OurPowerOfAttorney, Signer
from ..store import Store
from ..store.external import borrowed_connection
from ..transitions import SignatureCheck, TransitionWriter
from . import archive, checking, docflow, manual, resend
from .feed import Backoff, Feeds
from .outbox import Callback, Outbox
from .polling import PollRun, paper_has_work
from .quarantine import Quarantine
from .revocation import Revocations
from .sending import Attempt, Intent, Sending
from .settings_check import check_settings
from .signers import Signing

if TYPE_CHECKING:
    from ..paper import PaperDesk

log = logging.getLogger("edi_bridge")
S = ExchangeStatus
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
        signature_check: SignatureCheck | checking.DefaultCheck | None = checking.DEFAULT_CHECK,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self.store = store
        # Identifies this Bridge's leases; unique per process and instance.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.lease_seconds = lease_seconds
        self.registry = registry or default_registry
        self._settings = dict(settings or {})
        self._signing = Signing(self._settings, signer)
        self._check_setting_keys()
        self._providers: dict[str, Provider] = {}
        self._providers_lock = threading.Lock()
        self._backoff = Backoff()  # feeds (and the paper desk) that failed in a full poll
        self.outbox = Outbox(store)
        check, off = checking.resolve(store, self._settings, signature_check)
        self.writer = TransitionWriter(store, check, unchecked_reason=off)
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
            power_of_attorney=self.our_power_of_attorney,
        )
        self.feeds = Feeds(store, self.writer, self.owner, lease_seconds)
        self.quarantine = Quarantine(store, self.writer, self.provider)

    def _check_setting_keys(self) -> None:
        """Refuse explicit settings and ``EDI_BRIDGE_*`` variables nothing reads."""
        check_settings(self._settings, os.environ, self.registry)

    @classmethod
    def open(cls, db: str | Path | None = None, **kwargs: Any) -> Bridge:
        """Open (and migrate) the store at ``db`` or ``EDI_BRIDGE_DB``."""
        store = Store.open(db)
        try:
            return cls(store, **kwargs)
        except BaseException:
            store.close()  # refused settings: leave no engine behind
            raise

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
        self.writer.unchecked_reason = None if check is not None else checking.OFF_BY_CALLER

    # -- adapters, signer, routing, the paper desk ----------------------------

    @property
    def signer(self) -> Signer:
        return self._signing.signer

    def our_power_of_attorney(self) -> OurPowerOfAttorney | None:
        """Our МЧД for every signature of ours, checked against our signer (None: the head).

        ValidationError names the setting (``signing.power_of_attorney.*``) or the rule."""
        return self._signing.our_power_of_attorney()

    def _refuse_test_certificate(self, name: str) -> None:
        # The adapter first: it is built with the signer only if one was built before it.
        self._signing.refuse_test_certificate(name, self.provider(name).endpoint)

    def provider(self, name: str) -> Provider:
        """The adapter instance for ``name`` (built once per Bridge)."""
        with self._providers_lock:
            if name not in self._providers:
                cls = self.registry.get(name)
                context = ProviderContext(
                    config=config.declared_section(name, cls.settings_keys, self._settings),
                    signer=self._signing.for_adapters(),
                    engine=self.store.engine,
                    power_of_attorney=self.our_power_of_attorney,
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
        decision = self.routing.decide(
            counterparty, requested, registry=self.registry, adapter=self.provider
        )
        if decision.channel == Channel.EDI:
            self._refuse_test_certificate(decision.provider)
        return decision

    @functools.cached_property
    def paper(self) -> PaperDesk:
        """The paper route: print pack, dispatch, tracking, scans, originals."""
        from ..paper import PaperDesk  # built only when paper is used

        return PaperDesk(
            self.store, self.writer, self.outbox, settings=self._settings, policy=self.routing
        )

    @functools.cached_property
    def deadlines(self) -> Deadlines:
        """Signing deadlines, reminders, overdue originals (``deadlines.*`` settings);
        set its ``clock`` to move time in tests."""
        return Deadlines(self.store, self.writer, self.outbox, settings=self._settings)

    def cancel(self, exchange_id: str) -> Exchange:
        """Cancel an unsent exchange or close an expired one (see :func:`manual.cancel`)."""
        return manual.cancel(self.store, self.writer, self.outbox, self.deadlines, exchange_id)

    # -- callbacks and backend events -----------------------------------------

    def on(self, kind: EventKindName | EventKind, callback: Callback) -> None:
        """Call ``callback(event)`` for each change of ``kind`` ("*" for all).

        An unknown kind (a typo such as ``"sigend"``) is refused with a ValidationError
        naming the known ones, instead of a callback that never fires.
        """
        self.outbox.on(kind, callback)

    def events(self, after: int = 0, limit: int = 1000) -> builtins.list[Event]:
        """Changes recorded after sequence number ``after`` (for a backend catching up)."""
        return self.outbox.events(after, limit)

    def last_event_seq(self) -> int:
        """The newest recorded change's sequence number (0 when none): where to follow from."""
        return self.store.last_event_seq()

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
        deadline: dt.datetime | None = None,
        strict: bool = False,
    ) -> Exchange:
        """Send ``document`` to ``counterparty`` for signature; idempotent per key.

        ``deadline`` (aware) is this exchange's signing deadline, instead of the
        ``deadlines.signing_days`` setting.

        The same key again returns the existing exchange (and finishes its
        send if an earlier attempt was interrupted); the same key with a
        different document or counterparty raises IdempotencyConflict.

        When the operator does not take the document the exchange is still
        returned, recorded: ``queued`` with ``last_error`` (unreachable or busy;
        a later poll or worker retries it) or ``failed`` with ``reason`` (refused;
        fix the cause, then :meth:`resend`). With ``strict=True`` both raise
        :class:`~edi_bridge.errors.NotSent` instead (the exchange stays recorded).
        """
        intent = Intent(counterparty, document, idempotency_key, provider, scenario, previous_id)
        exchange = self.sending.send(intent)
        if deadline is not None:
            self.deadlines.set(exchange.id, deadline)
        if strict and exchange.status in (ExchangeStatus.QUEUED, ExchangeStatus.FAILED):
            raise NotSent(exchange.id, exchange.status, exchange.last_error or exchange.reason)
        return exchange

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
        from ..paper import default_carriers

        desk: PaperDesk | None = self.__dict__.get("paper")  # built already, or not
        carriers = set((desk.carriers if desk is not None else default_carriers).names())
        run = PollRun(self._backoff, full=wanted is None)
        try:
            for name in wanted if wanted is not None else self._providers_to_poll():
                if (wanted is not None and name in carriers) or run.waiting(name):
                    continue  # a carrier (tracked by the paper desk below), or backed off
                run.run(name, functools.partial(self._poll_feed, name))
            if not run.waiting("paper") and (
                desk is not None or paper_has_work(self.store, self.routing, wanted, carriers)
            ):
                run.run("paper", lambda: self.paper.poll(wanted))  # tracking, fallbacks
            if wanted is None:
                run.run("deadlines", self.deadlines.check)  # reminders, expiry, originals
        finally:
            # Whatever failed, changes already committed reach the callbacks.
            self.dispatch_events()
        run.raise_failures()

    def _poll_feed(self, name: str) -> None:
        adapter = self.provider(name)
        if adapter.supports(Capability.REVOCATION):
            with self.store.transaction() as conn:
                open_requests = self.store.provider_refs(conn, name, [S.REVOCATION_REQUESTED])
            adapter.awaiting_revocation(open_requests)
        if adapter.supports(Capability.EVENTS):
            self.feeds.poll(name, adapter)
        docflow.follow(self.store, name, adapter)  # signed, the operator's flow not finished

    def _providers_to_poll(self) -> builtins.list[str]:
        with self.store.transaction() as conn:
            waiting = [S.SENT, S.DELIVERED, *SIGNED_STATUSES]  # revocations come on signed ones
            return self.store.providers_with(conn, Channel.EDI, waiting)

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
        adapter = self.provider(exchange.provider) if edi else None
        return archive.fetch(self.store, exchange, adapter, out_dir, self.signature_check)

    def stored_document(self, exchange: Exchange) -> Document:
        """The exchange's document with its stored content, ready to send again."""
        return self.store.stored_document(exchange)

    # -- resend ---------------------------------------------------------------

    def resend(self, exchange_id: str, *, force: bool = False) -> Exchange:
        """Send again by hand.

        ``queued`` and ``failed`` exchanges are retried as they are (same
        idempotency key: the provider still makes at most one document).
        ``rejected`` and ``revoked`` ones need ``force`` and become a new
        exchange linked to the old, as do expired ones (cancelled first).
        ``signed`` (revocation statuses included) and other in-flight ones are refused.
        """
        return resend.resend(self, exchange_id, force=force)

    # -- revocation -----------------------------------------------------------

    @functools.cached_property
    def revocations(self) -> Revocations:
        return Revocations.of(self)

    def revoke(self, exchange_id: str, *, reason: str) -> Exchange:
        """Ask the counterparty to annul a signed exchange (see :mod:`.revocation`)."""
        return self.revocations.revoke(exchange_id, reason)

    def accept_revocation(self, exchange_id: str) -> Exchange:
        """Accept the counterparty's request to annul: ``revoked``."""
        return self.revocations.answer(exchange_id, accept=True)

    def reject_revocation(self, exchange_id: str, *, reason: str) -> Exchange:
        """Refuse the counterparty's request to annul: ``revocation_rejected`` (still signed)."""
        return self.revocations.answer(exchange_id, accept=False, reason=reason)

    # -- quarantined operator events ------------------------------------------

    def quarantined(self, status: str | None = None) -> builtins.list[QuarantinedEvent]:
        """Operator events put aside because they could not be applied (``held`` ones
        wait for a person); ``status`` filters: held, reapplied, dismissed."""
        return self.quarantine.list(status)

    def reapply(self, quarantine_id: int, *, by: str | None = None) -> QuarantinedEvent:
        """Apply a quarantined event again once its cause is fixed; twice changes nothing."""
        done = self.quarantine.reapply(quarantine_id, by)
        self.dispatch_events()
        return done

    def dismiss(
        self, quarantine_id: int, reason: str, *, by: str | None = None
    ) -> QuarantinedEvent:
        """Close a quarantined event without applying it, recording who and why."""
        return self.quarantine.dismiss(quarantine_id, reason, by)

    def providers_info(self) -> builtins.list[dict[str, Any]]:
        return providers_info(self.registry)


__all__ = ["DEFAULT_LEASE_SECONDS", "Bridge", "providers_info"]
