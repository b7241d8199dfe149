"""Sending: record, lease, sign, deliver, reconcile, dispatch.

A send is two short transactions around one provider call::

    record (queued, content, our signature)  ->  provider.send  ->  record (sent, refs)

If the process dies between the call and the second record, the exchange is
still ``queued`` with ``attempts > 0``; the next dispatch asks the provider
whether it already has the document (``find_sent``) before sending, and the
provider's own idempotency (derived from our idempotency key) covers adapters
that cannot be asked. A call that fails transiently leaves the exchange
``queued`` with its last error for the next dispatch (the adapter's HTTP client
does the retrying within a call).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from ..closing.options import formalized
from ..errors import (
    ConfigurationError,
    DuplicateRecord,
    IdempotencyConflict,
    ProviderError,
    TransientError,
    ValidationError,
)
from ..fakes.scenario import parse_scenario
from ..lifecycle import Channel, ExchangeStatus
from ..models import Counterparty, Document, Exchange
from ..provider import Capability, ContentSource, Provider, SendRequest, SendResult
from ..retry import LeaseLost
from ..routing import RouteDecision
from ..signing import OurPowerOfAttorney, Signer
from ..store import Store, leases, utcnow
from ..store.limits import has_control
from ..store.rows import ExchangeRow, new_exchange
from ..transitions import TransitionWriter
from .attempts import (
    Attempt,
    Dispatched,
    Finish,
    Intent,
    KnownCounterparties,
    T,
    default_idempotency_key,
)
from .causes import failure_cause
from .content import MemoryContent, StoredContent, document_source
from .keeper import LeaseKeeper, after_holder, give_back, still_ours
from .outbox import Outbox

if TYPE_CHECKING:
    from ..paper import PaperDesk

log = logging.getLogger("edi_bridge")

# Content up to this size is held in memory for a send (signed and sent from one
# copy); larger content streams from the store in chunks.
INLINE_CONTENT = 8 << 20


class Sending:
    """Records sends and delivers them to their adapters, one lease per exchange."""

    def __init__(
        self,
        store: Store,
        writer: TransitionWriter,
        outbox: Outbox,
        *,
        adapter: Callable[[str], Provider],
        signer: Callable[[], Signer],
        route: Callable[[Counterparty, str | None], RouteDecision],
        paper: Callable[[], PaperDesk],
        owner: str,
        lease_seconds: float,
        power_of_attorney: Callable[[], OurPowerOfAttorney | None] = lambda: None,
    ) -> None:
        self.store = store
        self.writer = writer
        self.outbox = outbox
        self._adapter = adapter
        self._signer = signer
        self._route = route
        self._paper = paper
        # Our МЧД for EDI sends; raises ValidationError when it cannot be right.
        self._power_of_attorney = power_of_attorney
        self.owner = owner
        self.lease_seconds = lease_seconds
        self._counterparties = KnownCounterparties()

    def record(self, intent: Intent, conn: Connection | None, lease: bool) -> Exchange | Attempt:
        """Record a send as ``queued``; with ``lease`` (a send right away) also prepare it.

        A prepared send returns an :class:`Attempt`: the same transaction that
        records the exchange holds its lease, counts the attempt and keeps our
        signature, signed from the caller's copy of the content (so nothing is
        read back from the store). Large content from a file is prepared by
        :meth:`dispatch` after the record commits instead.
        """
        document = intent.document
        if document.source is None:
            raise ValidationError("document", "has no content (use Document.from_path/from_bytes)")
        key = intent.key or default_idempotency_key(intent.counterparty, document)
        if not key.strip() or len(key) > 256 or has_control(key):
            raise ValidationError("idempotency_key", "must be 1 to 256 characters, no controls")
        if conn is not None:
            # In the caller's transaction: looked up first (nothing of ours to roll back).
            found = self._recorded(intent, key, conn)
            if found is not None:
                return found
        try:
            route = self._routed(intent)
        except Exception:
            # An exchange already recorded under the key is returned whatever the
            # routing or the checks say now, as if it had been looked up first.
            if conn is None and (found := self._recorded(intent, key, None)) is not None:
                return found
            raise
        try:
            if route.channel == Channel.PAPER:  # the desk records it, once per key
                if conn is None and (found := self._recorded(intent, key, None)) is not None:
                    return found
                return self._paper().prepare(
                    intent.counterparty,
                    intent.document,
                    idempotency_key=key,
                    reason=route.reason,
                    previous_id=intent.previous_id,
                )
            return self._record_new(intent, key, conn, lease, route)
        except DuplicateRecord:
            # The key is taken (ON CONFLICT skipped our row, or another process inserted
            # it between our look-up and our insert): asking twice gives the one exchange.
            if conn is not None or (found := self._recorded(intent, key, None)) is None:
                raise
            return found

    def _recorded(self, intent: Intent, key: str, conn: Connection | None) -> Exchange | None:
        """The exchange already recorded under ``key`` (refused if for another intent)."""
        with self._maybe_transaction(conn) as tx:
            existing = self.store.exchange_id_for_key(tx, key)
            found = self.store.load_exchange(tx, existing) if existing else None
        if found is not None and (
            found.document.sha256 != intent.document.sha256
            or found.counterparty.key != intent.counterparty.key
        ):
            raise IdempotencyConflict(
                f"idempotency key {key!r} was used for exchange {found.id} "
                "with a different document or counterparty"
            )
        return found

    def _routed(self, intent: Intent) -> RouteDecision:
        """EDI (which provider) or paper, with every check made before storing."""
        counterparty, document, scenario = intent.counterparty, intent.document, intent.scenario
        decision = self._route(counterparty, intent.provider)
        if decision.channel == Channel.PAPER:
            if scenario is not None:
                raise ValidationError("scenario", "the paper route plays no scenarios")
            return decision
        name = decision.provider
        adapter = self._adapter(name)  # configuration errors surface before anything is stored
        adapter.check(counterparty, document)  # and so do the operator's own input rules
        if scenario is not None:
            if not adapter.supports(Capability.SCENARIOS):
                raise ValidationError("scenario", f"provider {name!r} does not play scenarios")
            parse_scenario(scenario)  # raises ValidationError naming the rule
        # Our МЧД (or its absence) is refused before anything is stored, and so is an
        # МЧД the adapter cannot attach: never sent without it.
        if self._power_of_attorney() is not None and not adapter.carries_power_of_attorney:
            raise ValidationError(
                "signing.power_of_attorney",
                f"provider {name!r} cannot attach our МЧД to the signature yet (how its API "
                "carries one is not confirmed); the document is not sent without it",
            )
        return decision

    def _record_new(
        self,
        intent: Intent,
        key: str,
        conn: Connection | None,
        lease: bool,
        route: RouteDecision,
    ) -> Exchange | Attempt:
        counterparty, document, scenario = intent.counterparty, intent.document, intent.scenario
        name, why = route.provider, route.reason
        exchange_id = "ex_" + secrets.token_hex(8)
        now = utcnow()
        source = document_source(document)
        prepare = lease and (isinstance(source, bytes) or document.size <= INLINE_CONTENT)
        with self._maybe_transaction(conn) as tx:
            sha = self.store.put_blob(tx, source, expect_sha256=document.sha256)
            row = new_exchange(
                exchange_id,
                key,
                channel=Channel.EDI,
                provider=name,
                counterparty=counterparty,
                document=document,
                content_sha256=sha,
                status=ExchangeStatus.QUEUED,
                at=now,
            )
            row["scenario"], row["previous_id"] = scenario, intent.previous_id
            row["attempts"] = 1 if prepare else 0
            if lease:  # sending right away: hold it so no worker picks it up meanwhile
                held = leases.lease_values(self.owner, leases.until(tx, self.lease_seconds))
                row["lease_owner"], row["lease_until"] = held["lease_owner"], held["lease_until"]
                row["lease_host"], row["lease_pid"] = held["lease_host"], held["lease_pid"]
                row["lease_started"] = held["lease_started"]
            if conn is not None:
                self.store.insert_exchange(tx, **row)  # looked up first, in the caller's
            elif not self.store.insert_exchange_new(tx, **row):
                raise DuplicateRecord(f"idempotency key {key!r} is recorded already")
            self.store.add_history(
                tx, exchange_id, ExchangeStatus.QUEUED, f"send requested; routed: {why}"
            )
            if not prepare:
                return self.store.load_exchange(tx, exchange_id)
            content = MemoryContent(
                source if isinstance(source, bytes) else self.store.read_blob(tx, sha)
            )
            request = self._request(
                tx, exchange_id, key, counterparty, document, content, scenario, signed=False
            )
            return Attempt(exchange_id, name, request, attempts=1)

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
            signature = self._signer().sign_stream(content.chunks())
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
            formalized=formalized(document, content),
            power_of_attorney=self._power_of_attorney(),
        )

    def _stored_content(self, conn: Connection, sha256: str, size: int) -> ContentSource:
        if size <= INLINE_CONTENT:
            # One read over the open transaction, shared by signing and the provider call.
            return MemoryContent(self.store.read_blob(conn, sha256))
        return StoredContent(self.store, sha256, size)

    def dispatch(self, exchange_id: str) -> Exchange:
        """Send a queued exchange to its provider (reconciling an earlier attempt)."""
        return self._dispatch(exchange_id, self._loaded)

    def dispatch_outcome(self, exchange_id: str) -> Dispatched:
        """:meth:`dispatch` for a caller that needs only the outcome (a worker): the
        exchange, its history and signatures are not read back after the call."""
        return self._dispatch(exchange_id, self._outcome)

    def _loaded(self, conn: Connection, exchange_id: str, status: str | None) -> Exchange:
        return self.store.load_exchange(conn, exchange_id)

    def _outcome(self, conn: Connection, exchange_id: str, status: str | None) -> Dispatched:
        if status is None:  # not known here: read (the status alone)
            status = self.store.exchange_row(conn, exchange_id).status
        return Dispatched(exchange_id, status)

    def _dispatch(self, exchange_id: str, finish: Finish[T]) -> T:
        with self.store.transaction() as conn:
            # The lease, the attempt and the row in one statement (the row is locked by it).
            taken = leases.take_queued(conn, exchange_id, self.owner, self.lease_seconds)
            if taken is None:
                # Sent already, or another live worker holds it.
                return finish(conn, exchange_id, None)
            attempt = self.prepare(conn, ExchangeRow.of(taken))
        return self._deliver(attempt, finish)

    def prepare(self, conn: Connection, row: ExchangeRow) -> Attempt:
        """The attempt for an exchange just taken: content read, our signature kept."""
        document = Document.model_validate(row.document)
        request = self._request(
            conn,
            row.id,
            row.idempotency_key,
            self._counterparties.of(row.counterparty_key, row.counterparty),
            document,
            self._stored_content(conn, row.content_sha256, document.size),
            row.scenario,
            signed=True,
        )
        return Attempt(row.id, row.provider, request, row.attempts)

    def deliver(self, attempt: Attempt) -> Exchange:
        """The provider call for a recorded attempt, then the record of its outcome."""
        return self._deliver(attempt, self._loaded)

    def deliver_outcome(self, attempt: Attempt) -> Dispatched:
        """:meth:`deliver` without reading the exchange back (as :meth:`dispatch_outcome`)."""
        return self._deliver(attempt, self._outcome)

    def _deliver(self, attempt: Attempt, finish: Finish[T]) -> T:
        exchange_id, request, attempts = attempt.exchange_id, attempt.request, attempt.attempts
        name = attempt.provider
        try:
            adapter = self._adapter(name)
        except Exception:
            # Nothing reached the operator: the lease goes back, the attempt does not count.
            give_back(self.store, self.owner, exchange_id, attempts - 1)
            raise
        stale = time.monotonic() - attempt.leased_at > self.lease_seconds / 4
        if stale and not still_ours(self.store, self.owner, exchange_id, self.lease_seconds):
            # Paused past the lease, and another worker took the exchange: it sends.
            log.warning("exchange %s: lease lost before the call; not sending", exchange_id)
            with self.store.transaction() as conn:
                return finish(conn, exchange_id, None)
        keeper = LeaseKeeper(self.store, exchange_id, self.owner, self.lease_seconds)
        try:
            result: SendResult | None = None
            with keeper.running():  # renewed while the call runs; no request once lost
                if attempts > 1 and adapter.supports(Capability.FIND_SENT):
                    result = adapter.find_sent(request)
                    if result is not None:
                        log.info("exchange %s was already at %s; reconciled", exchange_id, name)
                if result is None:
                    result = adapter.send(request)
        except (LeaseLost, TransientError) as exc:
            if keeper.lost:  # another worker holds it now: its record, not ours
                log.warning("exchange %s: lease lost during the call: %s", exchange_id, exc)
                with self.store.transaction() as conn:
                    return finish(conn, exchange_id, None)
            with self.store.transaction() as conn:
                self.store.update_exchange(
                    conn, exchange_id, last_error=str(exc), lease_owner=None, lease_until=None
                )
                self.store.add_history(
                    conn, exchange_id, ExchangeStatus.QUEUED, f"send attempt failed: {exc}"
                )
                return finish(conn, exchange_id, ExchangeStatus.QUEUED)
        except ConfigurationError:
            # The operator may have been reached: the attempt counts (the next one
            # reconciles first), but the lease goes back for whoever is configured.
            give_back(self.store, self.owner, exchange_id, attempts)
            raise
        except ProviderError as exc:
            with self.store.transaction() as conn:
                self.writer.write(
                    conn,
                    exchange_id,
                    ExchangeStatus.FAILED,
                    failure_cause(name, exc, getattr(adapter, "context", None)),
                    event_key=f"{exchange_id}:failed:{attempts}",
                    reason=str(exc),
                    needs_attention=True,
                    last_error=str(exc),
                    lease_owner=None,
                    lease_until=None,
                )
                outcome = finish(conn, exchange_id, ExchangeStatus.FAILED)
            self.outbox.dispatch_events()
            return outcome
        with self.store.transaction() as conn:
            row = self.store.exchange_row(conn, exchange_id, for_update=True)
            status: str | None = row.status
            if row.status == ExchangeStatus.QUEUED:
                self.writer.write(
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
                early = self.writer.apply_early_events(conn, name, exchange_id, result.document_id)
                status = None if early else ExchangeStatus.SENT  # news may have moved it on
            outcome = finish(conn, exchange_id, status)
        self.outbox.dispatch_events()
        return outcome

    def send(self, intent: Intent) -> Exchange:
        """Record and deliver at once; an existing exchange finishes an interrupted send."""
        exchange = self.record(intent, conn=None, lease=True)
        if isinstance(exchange, Attempt):
            return self.deliver(exchange)
        if exchange.status == ExchangeStatus.QUEUED:
            # The same key sent at this moment by another process: its outcome is the answer.
            return after_holder(self.store, self.dispatch(exchange.id), self)
        return exchange

    def claim_queued(self, limit: int = 100) -> list[str]:
        """Lease up to ``limit`` queued exchanges that no live worker holds."""
        with self.store.transaction() as conn:
            return leases.claim_queued(conn, self.owner, self.lease_seconds, limit)

    def release(self, exchange_ids: list[str] | None = None) -> int:
        """Give back leases this owner holds (all, or the given exchanges)."""
        with self.store.transaction() as conn:
            return leases.release_exchanges(conn, self.owner, exchange_ids)


__all__ = [
    "INLINE_CONTENT",
    "Attempt",
    "Dispatched",
    "Intent",
    "Sending",
    "default_idempotency_key",
]
