"""The facade a backend imports: :class:`Bridge`.

A send is two short transactions around one provider call::

    record (queued, content, our signature)  ->  provider.send  ->  record (sent, refs)

If the process dies between the call and the second record, the exchange is
still ``queued`` with ``attempts > 0``; the next dispatch asks the provider
whether it already has the document (``find_sent``) before sending, and the
provider's own idempotency (derived from our idempotency key) covers adapters
that cannot be asked.

Polling reads the provider's change feed a page at a time; each page's events,
the exchanges they change, the backend events they cause and the cursor after
the page commit in one transaction. An event id already applied in that feed
changes nothing. Backend callbacks run after commit from the durable event
record, so they are at-least-once: each carries a ``key`` unique to the change.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import io
import json
import logging
import os
import queue
import secrets
import socket
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from . import config
from .closing.options import send_options
from .errors import (
    ConfigurationError,
    IdempotencyConflict,
    IllegalTransition,
    ProviderError,
    ResendRefused,
    TransientError,
    UnknownProvider,
    ValidationError,
)
from .fakes.scenario import parse_scenario
from .models import (
    IN_FLIGHT_STATUSES,
    Channel,
    Counterparty,
    Document,
    Event,
    EventKind,
    Exchange,
    ExchangeStatus,
    allowed_transitions,
    check_file_name,
)
from .provider import (
    Capability,
    ContentSource,
    EventPage,
    Provider,
    ProviderContext,
    ProviderEvent,
    ProviderEventKind,
    SendRequest,
    SendResult,
)
from .registry import Registry, default_registry
from .retry import RetryPolicy
from .signing import Signer, signer_from_settings, throwaway_signer
from .store import Store, leases, utcnow
from .store.external import borrowed_connection

if TYPE_CHECKING:
    from .paper import PaperDesk, RoutingPolicy

log = logging.getLogger("edi_bridge")
Callback = Callable[[Event], None]
SignatureCheck = Callable[[Exchange, bytes], Mapping[str, Any]]
"""Verifies a counterparty signature; returns a verdict with ``"ok": bool``."""

DEFAULT_PROVIDER = "mock"
MAX_PAGES_PER_POLL = 1000
# Pages read ahead while earlier ones are applied, and the events one transaction may
# apply when several pages are waiting (fewer commits when the feed has a backlog).
PAGES_AHEAD = 4
EVENTS_PER_TRANSACTION = 1000
EARLY_EVENTS_KEPT = dt.timedelta(days=7)  # far longer than any send takes to be recorded
DEFAULT_LEASE_SECONDS = 120.0  # longer than any one provider call with its retries
# Content up to this size is held in memory for a send (signed and sent from one
# copy); larger content streams from the store in chunks.
INLINE_CONTENT = 8 << 20


class _StoredContent(ContentSource):
    def __init__(self, store: Store, sha256: str, size: int) -> None:
        self._store = store
        self._sha = sha256
        self.size = size

    def open(self) -> IO[bytes]:
        return self._store.open_blob(self._sha)


class _MemoryContent(ContentSource):
    """Content held in memory: the caller's bytes, or a small stored content read once."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.size = len(data)

    def open(self) -> IO[bytes]:
        return io.BytesIO(self._data)

    def read_all(self) -> bytes:
        return self._data


@dataclasses.dataclass(frozen=True)
class _Attempt:
    """A send recorded (queued, content, our signature, attempt count) and leased."""

    exchange_id: str
    provider: str
    request: SendRequest
    attempts: int


def default_idempotency_key(counterparty: Counterparty, document: Document) -> str:
    """One intent = this document to this counterparty."""
    raw = f"{counterparty.key}|{document.kind}|{document.number}|{document.sha256}"
    return "auto-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


class Bridge:
    """Sends documents, applies provider events, keeps everything durable."""

    def __init__(
        self,
        store: Store,
        *,
        registry: Registry | None = None,
        signer: Signer | None = None,
        settings: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        signature_check: SignatureCheck | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self.store = store
        # Identifies this Bridge's leases; unique per process and instance.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.lease_seconds = lease_seconds
        self._providers_lock = threading.Lock()
        self.registry = registry or default_registry
        self._signer = signer
        self._settings = dict(settings or {})
        self.retry = retry or RetryPolicy(attempts=3, base_delay=0.1, max_delay=2.0)
        self.signature_check = signature_check
        self._providers: dict[str, Provider] = {}
        self._callbacks: dict[str, list[Callback]] = defaultdict(list)

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

    # -- providers -------------------------------------------------------

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
            return self._build_provider(name)

    def _build_provider(self, name: str) -> Provider:
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
        from .paper import RoutingPolicy

        return RoutingPolicy.from_settings(self._settings)

    @functools.cached_property
    def paper(self) -> PaperDesk:
        """The paper route: print pack, dispatch, tracking, scans, originals."""
        from .paper import PaperDesk

        return PaperDesk(self, settings=self._settings, policy=self.routing)

    def route(self, counterparty: Counterparty, requested: str | None = None) -> tuple[str, str]:
        """Choose the provider for a counterparty; returns (name, reason)."""
        if requested:
            self.registry.get(requested)  # raises UnknownProvider early
            return requested, f"provider {requested!r} asked for by the caller"
        installed = set(self.registry.names())
        for route in counterparty.edi:
            if route.operator in installed:
                return route.operator, (
                    f"counterparty's EDI route {route.operator} ({route.participant_id})"
                )
        if counterparty.edi:
            operators = ", ".join(r.operator for r in counterparty.edi)
            reason = f"no installed provider serves the counterparty's operators ({operators})"
        else:
            reason = "counterparty has no EDI route"
        return DEFAULT_PROVIDER, f"{reason}; using {DEFAULT_PROVIDER!r}"

    # -- callbacks and backend events --------------------------------------

    def on(self, kind: str | EventKind, callback: Callback) -> None:
        """Call ``callback(event)`` for each change of ``kind`` ("*" for all)."""
        self._callbacks[str(kind)].append(callback)

    def events(self, after: int = 0, limit: int = 1000) -> list[Event]:
        """Changes recorded after sequence number ``after`` (for a backend catching up)."""
        return self.store.events_after(after, limit=limit)

    def dispatch_events(self) -> int:
        """Run callbacks for recorded changes not yet handed over; returns how many.

        Without any callback registered nothing is marked, so a backend process
        that registers callbacks later still receives every change.
        """
        if not self._callbacks:
            return 0
        done = 0
        while True:
            pending = self.store.events_after(0, limit=500, undispatched=True)
            if not pending:
                return done
            for event in pending:
                for cb in self._callbacks.get(event.kind, []) + self._callbacks.get("*", []):
                    try:
                        cb(event)
                    except Exception:
                        # Keep it pending: the next dispatch delivers it again.
                        log.exception("callback failed for event %s", event.key)
                        return done
                self.store.mark_dispatched(event.seq)
                done += 1

    # -- transitions -----------------------------------------------------

    def _transition(
        self,
        conn: Connection,
        exchange_id: str,
        target: str,
        cause: str,
        *,
        event_key: str | None = None,
        reason: str | None = None,
        detail: dict[str, Any] | None = None,
        row: Any = None,
        **values: Any,
    ) -> None:
        if row is None:  # the caller may pass the row it just locked
            row = self.store.exchange_row(conn, exchange_id, for_update=True)
        if target not in allowed_transitions(row.channel, row.status):
            raise IllegalTransition(exchange_id, row.status, target)
        if reason is not None:
            values["reason"] = reason
        self.store.update_exchange(conn, exchange_id, status=target, **values)
        self.store.add_history(conn, exchange_id, target, cause, detail)
        self.store.add_event(
            conn,
            key=event_key or f"{exchange_id}:{target}:{secrets.token_hex(6)}",
            kind=target,
            exchange_id=exchange_id,
            status=target,
            reason=reason,
            data=detail,
        )

    # -- sending ---------------------------------------------------------

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
        exchange = self._enqueue(
            counterparty,
            document,
            key=idempotency_key,
            provider=provider,
            scenario=scenario,
            previous_id=previous_id,
            conn=None,
            lease=True,
        )
        if isinstance(exchange, _Attempt):
            return self._deliver(exchange)
        if exchange.status == ExchangeStatus.QUEUED:
            return self.dispatch(exchange.id)
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
        with contextlib.ExitStack() as stack:
            conn = (
                None if connection is None else stack.enter_context(borrowed_connection(connection))
            )
            exchange = self._enqueue(
                counterparty,
                document,
                key=idempotency_key,
                provider=provider,
                scenario=scenario,
                previous_id=None,
                conn=conn,
                lease=False,
            )
        assert isinstance(exchange, Exchange)  # only a leased send is prepared for delivery
        return exchange

    def _enqueue(
        self,
        counterparty: Counterparty,
        document: Document,
        *,
        key: str | None,
        provider: str | None,
        scenario: str | None,
        previous_id: str | None,
        conn: Connection | None,
        lease: bool,
    ) -> Exchange | _Attempt:
        """Record a send as ``queued``; with ``lease`` (a send right away) also prepare it.

        A prepared send returns an :class:`_Attempt`: the same transaction that
        records the exchange holds its lease, counts the attempt and keeps our
        signature, signed from the caller's copy of the content (so nothing is
        read back from the store). Large content from a file is prepared by
        :meth:`dispatch` after the record commits instead.
        """
        if document.source is None:
            raise ValidationError("document", "has no content (use Document.from_path/from_bytes)")
        key = key or default_idempotency_key(counterparty, document)
        if not key.strip() or len(key) > 256:
            raise ValidationError("idempotency_key", "must be 1 to 256 characters")
        with self._maybe_transaction(conn) as tx:
            existing = self.store.exchange_id_for_key(tx, key)
            found = self.store.load_exchange(tx, existing) if existing else None
        if found is not None:
            if (
                found.document.sha256 != document.sha256
                or found.counterparty.key != counterparty.key
            ):
                raise IdempotencyConflict(
                    f"idempotency key {key!r} was used for exchange {found.id} "
                    "with a different document or counterparty"
                )
            return found

        decision = self.routing.decide(
            counterparty, provider, registry=self.registry, adapter=self.provider
        )
        if decision.channel == Channel.PAPER:
            if scenario is not None:
                raise ValidationError("scenario", "the paper route plays no scenarios")
            return self.paper.prepare(
                counterparty,
                document,
                idempotency_key=key,
                reason=decision.reason,
                previous_id=previous_id,
            )
        name, why = decision.provider, decision.reason
        adapter = self.provider(name)  # configuration errors surface before anything is stored
        adapter.check(counterparty, document)  # and so do the operator's own input rules
        if scenario is not None:
            if not adapter.supports(Capability.SCENARIOS):
                raise ValidationError("scenario", f"provider {name!r} does not play scenarios")
            parse_scenario(scenario)  # raises ValidationError naming the rule
        exchange_id = "ex_" + secrets.token_hex(8)
        now = utcnow()
        source = _source(document)
        prepare = lease and (isinstance(source, bytes) or document.size <= INLINE_CONTENT)
        with self._maybe_transaction(conn) as tx:
            sha = self.store.put_blob(tx, source)
            self.store.insert_exchange(
                tx,
                id=exchange_id,
                idempotency_key=key,
                channel=Channel.EDI.value,
                provider=name,
                counterparty_key=counterparty.key,
                counterparty=counterparty.model_dump(mode="json"),
                document=document.model_dump(mode="json"),
                content_sha256=sha,
                status=ExchangeStatus.QUEUED.value,
                provider_ref={},
                scenario=scenario,
                previous_id=previous_id,
                needs_attention=False,
                attempts=1 if prepare else 0,
                created_at=now,
                updated_at=now,
                # Sending right away: hold it so no worker picks it up meanwhile.
                lease_owner=self.owner if lease else None,
                lease_until=now + dt.timedelta(seconds=self.lease_seconds) if lease else None,
            )
            self.store.add_history(
                tx, exchange_id, ExchangeStatus.QUEUED, f"send requested; routed: {why}"
            )
            if not prepare:
                return self.store.load_exchange(tx, exchange_id)
            content = _MemoryContent(
                source if isinstance(source, bytes) else self.store.read_blob(tx, sha)
            )
            request = self._request(
                tx,
                exchange_id,
                key,
                counterparty,
                document,
                content,
                scenario,
                signed=False,
            )
            return _Attempt(exchange_id, name, request, attempts=1)

    @contextlib.contextmanager
    def _maybe_transaction(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
        else:
            with self.store.transaction() as tx:
                yield tx

    def _request(
        self,
        conn: Connection,
        exchange_id: str,
        key: str,
        counterparty: Counterparty,
        document: Document,
        content: ContentSource,
        scenario: str | None,
        *,
        signed: bool,
    ) -> SendRequest:
        """The request for one attempt; signs and keeps our signature unless ``signed``."""
        mine = self.store.first_signature(conn, exchange_id, "ours") if signed else None
        if mine is not None:
            # Reuse the first signature so a retried send has an identical body.
            signature = mine
        else:
            signature = self.signer.sign_stream(content.chunks())
            self.store.add_signature(
                conn, exchange_id, "ours", f"{document.file_name}.sig", signature
            )
        return SendRequest(
            exchange_id=exchange_id,
            idempotency_key=key,
            counterparty=counterparty,
            document=document,
            content=content,
            signature=signature,
            scenario=scenario,
            # Derived from the stored document, so a send resumed elsewhere gets the same.
            options=send_options(document, content),
        )

    def _stored_content(self, conn: Connection, sha256: str, size: int) -> ContentSource:
        if size <= INLINE_CONTENT:
            # One read over the open transaction, shared by signing and the provider call.
            return _MemoryContent(self.store.read_blob(conn, sha256))
        return _StoredContent(self.store, sha256, size)

    def dispatch(self, exchange_id: str) -> Exchange:
        """Send a queued exchange to its provider (reconciling an earlier attempt)."""
        with self.store.transaction() as conn:
            row = self.store.exchange_row(conn, exchange_id, for_update=True)
            if row.status != ExchangeStatus.QUEUED or not leases.take_exchange(
                conn, exchange_id, self.owner, self.lease_seconds
            ):
                # Sent already, or another live worker holds it.
                return self.store.load_exchange(conn, exchange_id)
            document = Document.model_validate(row.document)
            request = self._request(
                conn,
                exchange_id,
                row.idempotency_key,
                Counterparty.model_validate(row.counterparty),
                document,
                self._stored_content(conn, row.content_sha256, document.size),
                row.scenario,
                signed=True,
            )
            attempts = row.attempts + 1
            self.store.update_exchange(conn, exchange_id, attempts=attempts)
        return self._deliver(_Attempt(exchange_id, row.provider, request, attempts))

    def _deliver(self, attempt: _Attempt) -> Exchange:
        """The provider call for a recorded attempt, then the record of its outcome."""
        exchange_id, request, attempts = attempt.exchange_id, attempt.request, attempt.attempts
        name = attempt.provider
        adapter = self.provider(name)
        try:
            result: SendResult | None = None
            if attempts > 1 and adapter.supports(Capability.FIND_SENT):
                result = self.retry.call(
                    lambda: adapter.find_sent(request), what=f"{name} reconcile {exchange_id}"
                )
                if result is not None:
                    log.info("exchange %s was already at %s; reconciled", exchange_id, name)
            if result is None:
                result = self.retry.call(
                    lambda: adapter.send(request), what=f"{name} send {exchange_id}"
                )
        except TransientError as exc:
            with self.store.transaction() as conn:
                self.store.update_exchange(
                    conn, exchange_id, last_error=str(exc), lease_owner=None, lease_until=None
                )
                self.store.add_history(
                    conn, exchange_id, ExchangeStatus.QUEUED, f"send attempt failed: {exc}"
                )
                return self.store.load_exchange(conn, exchange_id)
        except ProviderError as exc:
            with self.store.transaction() as conn:
                self._transition(
                    conn,
                    exchange_id,
                    ExchangeStatus.FAILED,
                    f"{name} refused the send",
                    event_key=f"{exchange_id}:failed:{attempts}",
                    reason=str(exc),
                    needs_attention=True,
                    last_error=str(exc),
                    lease_owner=None,
                    lease_until=None,
                )
                exchange = self.store.load_exchange(conn, exchange_id)
            self.dispatch_events()
            return exchange
        with self.store.transaction() as conn:
            row = self.store.exchange_row(conn, exchange_id, for_update=True)
            if row.status == ExchangeStatus.QUEUED:
                self._transition(
                    conn,
                    exchange_id,
                    ExchangeStatus.SENT,
                    f"accepted by {name}",
                    row=row,
                    event_key=f"{exchange_id}:sent",
                    detail={"provider_ref": dict(result.ref)},
                    provider_ref=dict(result.ref),
                    provider_document_id=result.document_id,
                    last_error=None,
                    lease_owner=None,
                    lease_until=None,
                )
                self._apply_early_events(conn, name, exchange_id, result.document_id)
            exchange = self.store.load_exchange(conn, exchange_id)
        self.dispatch_events()
        return exchange

    def claim_queued(self, limit: int = 100) -> builtins.list[str]:
        """Lease up to ``limit`` queued exchanges that no live worker holds."""
        with self.store.transaction() as conn:
            return leases.claim_queued(conn, self.owner, self.lease_seconds, limit)

    def release(self, exchange_ids: Iterable[str] | None = None) -> int:
        """Give back leases this Bridge holds (all, or the given exchanges)."""
        ids = None if exchange_ids is None else builtins.list(exchange_ids)
        with self.store.transaction() as conn:
            return leases.release_exchanges(conn, self.owner, ids)

    def dispatch_queued(self, limit: int = 100) -> builtins.list[Exchange]:
        """Send queued exchanges (new, interrupted or transiently failed) nobody holds."""
        return [self.dispatch(i) for i in self.claim_queued(limit)]

    # -- polling ---------------------------------------------------------

    def _providers_to_poll(self) -> list[str]:
        with self.store.transaction() as conn:
            ids = self.store.exchange_ids(
                conn, status=[ExchangeStatus.SENT, ExchangeStatus.DELIVERED, ExchangeStatus.SIGNED]
            )
            rows = [self.store.exchange_row(conn, i) for i in ids]
            names = {r.provider for r in rows if r.channel == Channel.EDI}
        return sorted(names)

    def poll(self, providers: Iterable[str] | None = None) -> list[Event]:
        """Apply every pending provider event; returns the changes it recorded."""
        before = self._last_event_seq()
        self._poll(providers)
        return self.store.events_after(before, limit=100_000)

    def poll_count(self, providers: Iterable[str] | None = None) -> int:
        """:meth:`poll` without building the changes: returns how many it recorded."""
        before = self._last_event_seq()
        self._poll(providers)
        return self.store.count_events_after(before)

    def _poll(self, providers: Iterable[str] | None) -> None:
        wanted = list(providers) if providers is not None else None
        for name in wanted if wanted is not None else self._providers_to_poll():
            if wanted is not None and name in self.paper.carriers.names():
                continue  # a carrier: tracked by the paper desk below
            adapter = self.provider(name)
            if not adapter.supports(Capability.EVENTS):
                continue
            self._poll_feed(name, adapter)
        self.paper.poll(wanted)  # carrier tracking, overdue originals, fallbacks
        self.dispatch_events()

    def _last_event_seq(self) -> int:
        return self.store.last_event_seq()

    def _poll_feed(self, name: str, adapter: Provider) -> None:
        scope = adapter.cursor_scope
        with self.store.transaction() as conn:
            if not leases.take_feed(conn, scope, self.owner, self.lease_seconds):
                log.debug("%s: feed %s is being read by another worker", name, scope)
                return
            # Early events about documents that never became ours are dropped in time.
            self.store.prune_early_events(conn, utcnow() - EARLY_EVENTS_KEPT)
        try:
            self._read_feed(name, adapter, scope)
        finally:
            with self.store.transaction() as conn:
                leases.release_feed(conn, scope, self.owner)

    def _read_feed(self, name: str, adapter: Provider, scope: str) -> None:
        """Apply the feed's pages in order, reading the next pages while applying.

        A reader thread follows the cursor page by page (it needs nothing from
        the store) and hands pages over a short queue; pages that are waiting
        are applied together, with the cursor after the last of them, in one
        transaction.
        """
        cursor = self.store.get_cursor(scope)
        reader = _PageReader(
            lambda after: self.retry.call(_bind(adapter.poll, after), what=f"{name} poll"),
            cursor,
            MAX_PAGES_PER_POLL,
        )
        try:
            while True:
                pages = reader.take(EVENTS_PER_TRANSACTION)
                if not pages:
                    break
                with self.store.transaction() as conn:
                    if not leases.take_feed(conn, scope, self.owner, self.lease_seconds):
                        log.warning("%s: lost the lease on feed %s; stopping", name, scope)
                        return
                    for page in pages:
                        self._apply_page(conn, name, scope, page.events)
                    # Same transaction: the cursor never moves past unapplied events.
                    if pages[-1].cursor != cursor:
                        self.store.set_cursor(conn, scope, pages[-1].cursor)
                cursor = pages[-1].cursor
        finally:
            reader.stop()
        if reader.truncated:
            log.warning(
                "%s: stopped after %d pages; the rest on the next poll", name, MAX_PAGES_PER_POLL
            )

    def _apply_page(
        self, conn: Connection, name: str, scope: str, events: Iterable[ProviderEvent]
    ) -> None:
        """Apply a page of events with a few statements per page instead of ~12 per event.

        Same outcome as :meth:`_apply` for each event in order. With a signature
        check configured, events go one by one (a verdict can stop a transition).
        """
        events = builtins.list(events)
        if self.signature_check is not None:
            for event in events:
                self._apply(conn, name, scope, event)
            return
        store = self.store
        ids = store.exchange_ids_for_documents(conn, name, (e.document_id for e in events))
        applied = store.applied_event_ids(conn, scope, (e.event_id for e in events))
        rows = store.exchange_rows(conn, ids.values(), for_update=True)
        status = {i: r.status for i, r in rows.items()}
        now = utcnow()
        claimed: list[dict[str, Any]] = []
        signatures: list[dict[str, Any]] = []
        changes: dict[str, dict[str, Any]] = {}
        history: list[dict[str, Any]] = []
        outbox: list[dict[str, Any]] = []
        early: list[ProviderEvent] = []
        for event in events:
            if event.event_id in applied:
                continue  # already applied (or repeated within this page)
            applied.add(event.event_id)
            exchange_id = ids.get(event.document_id)
            claimed.append(
                {"scope": scope, "event_id": event.event_id, "exchange_id": exchange_id, "at": now}
            )
            if exchange_id is None:
                early.append(event)
                continue
            row = rows[exchange_id]
            target = _EVENT_TARGETS[event.kind]
            detail: dict[str, Any] = {"provider_event_id": event.event_id}
            if event.kind is ProviderEventKind.SIGNED:
                if event.signature is None:
                    log.warning("%s reported a signature without its content", name)
                else:
                    signatures.append(
                        {
                            "exchange_id": exchange_id,
                            "role": "counterparty",
                            "file_name": f"{row.document['file_name']}.counterparty.sig",
                            "content": event.signature,
                        }
                    )
                    detail["signature_sha256"] = hashlib.sha256(event.signature).hexdigest()
            if target not in allowed_transitions(row.channel, status[exchange_id]):
                log.debug(
                    "exchange %s: %s ignored in status %s", exchange_id, target, status[exchange_id]
                )
                continue
            status[exchange_id] = target
            values = changes.setdefault(exchange_id, {})
            values.update(status=target, updated_at=now)
            if target in (ExchangeStatus.REJECTED, ExchangeStatus.REVOKED) and event.reason:
                values["reason"] = event.reason
            cause = (
                f"{name}: counterparty {target}"
                if target != ExchangeStatus.DELIVERED
                else f"{name}: delivered to the counterparty"
            )
            history.append(
                {
                    "exchange_id": exchange_id,
                    "status": target,
                    "at": now,
                    "cause": cause,
                    "detail": detail,
                }
            )
            outbox.append(
                {
                    "key": f"{exchange_id}:{target}:{event.event_id}",
                    "kind": target,
                    "exchange_id": exchange_id,
                    "status": target,
                    "at": now,
                    "reason": event.reason
                    if target in (ExchangeStatus.REJECTED, ExchangeStatus.REVOKED)
                    else None,
                    "data": detail,
                }
            )
        store.add_applied_events(conn, claimed)
        store.park_early_events(conn, name, early)
        store.add_signatures(conn, signatures)
        store.update_exchanges(conn, changes)
        store.add_history_rows(conn, history)
        store.add_events(conn, outbox)

    def _apply(self, conn: Connection, name: str, scope: str, event: ProviderEvent) -> None:
        exchange_id = self.store.exchange_id_for_document(conn, name, event.document_id)
        if not self.store.claim_provider_event(conn, scope, event.event_id, exchange_id):
            return  # already applied
        if exchange_id is None:
            # Not ours, or ours but the record of its send has not committed yet.
            self.store.park_early_events(conn, name, [event])
            return
        self._apply_to(conn, name, exchange_id, event)

    def _apply_early_events(
        self, conn: Connection, name: str, exchange_id: str, document_id: str
    ) -> None:
        """Apply, in order, what the operator reported before the send was recorded."""
        for row in self.store.take_early_events(conn, name, document_id):
            event = ProviderEvent(
                event_id=row.event_id,
                kind=ProviderEventKind(row.kind),
                document_id=row.document_id,
                at=row.at,
                reason=row.reason,
                signature=bytes(row.signature) if row.signature is not None else None,
            )
            self._apply_to(conn, name, exchange_id, event)

    def _apply_to(
        self, conn: Connection, name: str, exchange_id: str, event: ProviderEvent
    ) -> None:
        row = self.store.exchange_row(conn, exchange_id, for_update=True)
        target = {
            ProviderEventKind.DELIVERED: ExchangeStatus.DELIVERED,
            ProviderEventKind.SIGNED: ExchangeStatus.SIGNED,
            ProviderEventKind.REJECTED: ExchangeStatus.REJECTED,
            ProviderEventKind.REVOKED: ExchangeStatus.REVOKED,
        }[event.kind]
        detail: dict[str, Any] = {"provider_event_id": event.event_id}
        values: dict[str, Any] = {}
        if event.kind is ProviderEventKind.SIGNED:
            if event.signature is None:
                log.warning("%s reported a signature without its content", name)
            else:
                verdict = self._check_signature(conn, exchange_id, event.signature)
                document = Document.model_validate(row.document)
                self.store.add_signature(
                    conn,
                    exchange_id,
                    "counterparty",
                    f"{document.file_name}.counterparty.sig",
                    event.signature,
                    verdict=dict(verdict) if verdict is not None else None,
                )
                detail["signature_sha256"] = hashlib.sha256(event.signature).hexdigest()
                if verdict is not None:
                    detail["verdict"] = dict(verdict)
                    if not verdict.get("ok", False):
                        self.store.update_exchange(conn, exchange_id, needs_attention=True)
                        self.store.add_history(
                            conn,
                            exchange_id,
                            row.status,
                            "counterparty signature not accepted",
                            detail,
                        )
                        self.store.add_event(
                            conn,
                            key=f"{exchange_id}:{EventKind.SIGNATURE_INVALID}:{event.event_id}",
                            kind=EventKind.SIGNATURE_INVALID,
                            exchange_id=exchange_id,
                            status=row.status,
                            reason=str(verdict.get("reason") or verdict.get("status")),
                            data=detail,
                        )
                        return
        if target not in allowed_transitions(row.channel, row.status):
            # Late or reordered news (delivered after signed): keep it, change nothing.
            log.debug("exchange %s: %s ignored in status %s", exchange_id, target, row.status)
            return
        self._transition(
            conn,
            exchange_id,
            target,
            f"{name}: counterparty {target}"
            if target != ExchangeStatus.DELIVERED
            else f"{name}: delivered to the counterparty",
            event_key=f"{exchange_id}:{target}:{event.event_id}",
            reason=event.reason
            if target in (ExchangeStatus.REJECTED, ExchangeStatus.REVOKED)
            else None,
            detail=detail,
            **values,
        )

    def _check_signature(
        self, conn: Connection, exchange_id: str, signature: bytes
    ) -> Mapping[str, Any] | None:
        if self.signature_check is None:
            return None
        exchange = self.store.load_exchange(conn, exchange_id)
        return self.signature_check(exchange, signature)

    # -- reading ---------------------------------------------------------

    def status(self, exchange_id: str) -> Exchange:
        with self.store.transaction() as conn:
            return self.store.load_exchange(conn, exchange_id)

    def history(self, exchange_id: str) -> list[Any]:
        return list(self.status(exchange_id).history)

    def list(self, status: str | None = None) -> list[Exchange]:
        with self.store.transaction() as conn:
            ids = self.store.exchange_ids(conn, status=status)
            return [self.store.load_exchange(conn, i) for i in ids]

    def content(self, exchange_id: str) -> IO[bytes]:
        with self.store.transaction() as conn:
            row = self.store.exchange_row(conn, exchange_id)
        return self.store.open_blob(row.content_sha256)

    def fetch(self, exchange_id: str, out_dir: str | Path) -> Path:
        """Write the document, every signature and ``manifest.json`` into ``out_dir``.

        Files the provider returns (receipts, its copy of the signatures) are
        added under ``provider/`` when the adapter can fetch.
        """
        exchange = self.status(exchange_id)
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files: list[dict[str, Any]] = []

        def write(rel: str, role: str, chunks: Iterable[bytes]) -> None:
            parts = rel.split("/")
            for part in parts:
                check_file_name(part, "fetched file name")
            target = out.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            size = 0
            with target.open("wb") as fh:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    fh.write(chunk)
            files.append({"name": rel, "role": role, "sha256": digest.hexdigest(), "size": size})

        with self.content(exchange_id) as fh:
            write(exchange.document.file_name, "document", iter(lambda: fh.read(1 << 20), b""))
        seen: set[str] = set()
        for sig in exchange.signatures:
            name = sig.file_name
            if name in seen:
                name = f"{sig.sha256[:8]}-{name}"
            seen.add(name)
            with self.store.open_blob(sig.sha256) as fh:
                role = "our_signature" if sig.role == "ours" else f"{sig.role}_signature"
                write(name, role, [fh.read()])
        adapter = self.provider(exchange.provider) if exchange.channel == Channel.EDI else None
        if exchange.provider_ref and adapter and adapter.supports(Capability.FETCH):
            for item in adapter.fetch(exchange.provider_ref):
                write(f"provider/{item.file_name}", f"provider_{item.role}", item.chunks())
        manifest = {
            "exchange": exchange.id,
            "status": exchange.status,
            "provider": exchange.provider,
            "document": exchange.document.model_dump(mode="json"),
            "signatures": [s.model_dump(mode="json") for s in exchange.signatures],
            "files": files,
        }
        path = out / "manifest.json"
        path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        return path

    # -- resend ----------------------------------------------------------

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
                self._transition(
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
        document = self.stored_document(exchange)
        new = self.send(
            exchange.counterparty,
            document,
            idempotency_key=f"{exchange.idempotency_key}#resend-{exchange_id}",
            provider=exchange.provider,
            scenario=row.scenario,
            previous_id=exchange_id,
        )
        with self.store.transaction() as conn:
            if not any(h.cause == f"resent as {new.id}" for h in exchange.history):
                self.store.add_history(conn, exchange_id, exchange.status, f"resent as {new.id}")
        return new

    def stored_document(self, exchange: Exchange) -> Document:
        """The exchange's document with its stored content, ready to send again."""
        with self.content(exchange.id) as fh:
            data = fh.read()
        meta = exchange.document
        return Document.from_bytes(
            data,
            file_name=meta.file_name,
            kind=meta.kind,
            number=meta.number,
            date=meta.date,
            media_type=meta.media_type,
            price=meta.price,
        )

    def providers_info(self) -> builtins.list[dict[str, Any]]:
        return providers_info(self.registry)


def providers_info(registry: Registry) -> list[dict[str, Any]]:
    """Installed adapters, their operator and capabilities (no database needed)."""
    info: list[dict[str, Any]] = []
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


_EVENT_TARGETS = {
    ProviderEventKind.DELIVERED: ExchangeStatus.DELIVERED,
    ProviderEventKind.SIGNED: ExchangeStatus.SIGNED,
    ProviderEventKind.REJECTED: ExchangeStatus.REJECTED,
    ProviderEventKind.REVOKED: ExchangeStatus.REVOKED,
}


class _PageReader:
    """Reads a feed's pages ahead in a thread, following the cursor; bounded queue."""

    _END = object()

    def __init__(
        self, read: Callable[[str | None], EventPage], cursor: str | None, max_pages: int
    ) -> None:
        self._read = read
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=PAGES_AHEAD)
        self._stopped = threading.Event()
        self._done = False
        self._error: BaseException | None = None
        self.truncated = False
        self._thread = threading.Thread(
            target=self._run, args=(cursor, max_pages), name="edi-bridge-feed", daemon=True
        )
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, cursor: str | None, max_pages: int) -> None:
        try:
            for _ in range(max_pages):
                page = self._read(cursor)
                if not self._put(page):
                    return
                if not page.has_more or not page.events:
                    self._put(self._END)
                    return
                cursor = page.cursor
            self.truncated = True
            self._put(self._END)
        except BaseException as exc:  # handed to the applying thread, raised there
            self._put(exc)

    def _get(self, block: bool) -> EventPage | None:
        item = self._queue.get(block=block)
        if item is self._END or isinstance(item, BaseException):
            self._done = True
            # A read that failed is raised after the pages read before it are applied.
            self._error = item if isinstance(item, BaseException) else None
            return None
        page: EventPage = item
        return page

    def take(self, max_events: int) -> list[EventPage]:
        """The next page (waiting for it), plus pages already read, up to ``max_events``.

        Empty at the end of the feed; raises what the reader raised once the
        pages before it were taken.
        """
        first = None if self._done else self._get(block=True)
        if first is None:
            if self._error is not None:
                raise self._error
            return []
        pages: list[EventPage] = [first]
        count = len(first.events)
        while count < max_events and not self._done:
            try:
                page = self._get(block=False)
            except queue.Empty:
                break
            if page is None:
                break
            pages.append(page)
            count += len(page.events)
        return pages

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()


def _bind(fn: Callable[[str | None], EventPage], cursor: str | None) -> Callable[[], EventPage]:
    return functools.partial(fn, cursor)


def _source(document: Document) -> Path | bytes:
    source = document.source
    if source is None:
        raise ConfigurationError("document has no content")
    return source


__all__ = ["Bridge", "Callback", "SignatureCheck", "default_idempotency_key", "providers_info"]
