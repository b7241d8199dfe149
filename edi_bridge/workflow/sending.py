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
import dataclasses
import hashlib
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
from .causes import failure_cause
from .content import MemoryContent, StoredContent, document_source
from .keeper import LeaseKeeper
from .outbox import Outbox

if TYPE_CHECKING:
    from ..paper import PaperDesk

log = logging.getLogger("edi_bridge")

# Content up to this size is held in memory for a send (signed and sent from one
# copy); larger content streams from the store in chunks.
INLINE_CONTENT = 8 << 20


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
class Intent:
    """What the caller asked to send, before it is recorded."""

    counterparty: Counterparty
    document: Document
    key: str | None
    provider: str | None
    scenario: str | None
    previous_id: str | None = None


def default_idempotency_key(counterparty: Counterparty, document: Document) -> str:
    """One intent = this document to this counterparty."""
    raw = f"{counterparty.key}|{document.kind}|{document.number}|{document.sha256}"
    return "auto-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


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
        found = self._recorded(intent, key, conn)
        if found is not None:
            return found
        try:
            return self._record_new(intent, key, conn, lease)
        except DuplicateRecord:
            # Another process recorded the same key between our look-up and our insert:
            # the promise is that asking twice gives the one exchange, so return it.
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

    def _record_new(
        self, intent: Intent, key: str, conn: Connection | None, lease: bool
    ) -> Exchange | Attempt:
        counterparty, document, scenario = intent.counterparty, intent.document, intent.scenario
        decision = self._route(counterparty, intent.provider)
        if decision.channel == Channel.PAPER:
            if scenario is not None:
                raise ValidationError("scenario", "the paper route plays no scenarios")
            return self._paper().prepare(
                counterparty,
                document,
                idempotency_key=key,
                reason=decision.reason,
                previous_id=intent.previous_id,
            )
        name, why = decision.provider, decision.reason
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
            self.store.insert_exchange(tx, **row)
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
        with self.store.transaction() as conn:
            # The lease, the attempt and the row in one statement (the row is locked by it).
            taken = leases.take_queued(conn, exchange_id, self.owner, self.lease_seconds)
            if taken is None:
                # Sent already, or another live worker holds it.
                return self.store.load_exchange(conn, exchange_id)
            attempt = self._prepare(conn, ExchangeRow.of(taken))
        return self.deliver(attempt)

    def dispatch_next(self, claimed: Callable[[], object] | None = None) -> Exchange | None:
        """Claim the oldest queued exchange no live worker holds and send it; None
        when there is none. The claim is the first statement of the transaction that
        prepares the send (no transaction of its own); should preparing fail, the
        exchange stays leased to us, as a claimed one would, and the error is raised.
        ``claimed`` is called once that transaction committed, before the call."""
        taken_id: str | None = None
        try:
            with self.store.transaction() as conn:
                taken = leases.take_next_queued(conn, self.owner, self.lease_seconds)
                if taken is None:
                    return None
                taken_id = str(taken.id)
                attempt = self._prepare(conn, ExchangeRow.of(taken))
        except Exception:
            if taken_id is not None:
                with contextlib.suppress(Exception), self.store.transaction() as conn:
                    leases.take_exchange(conn, taken_id, self.owner, self.lease_seconds)
            raise
        if claimed is not None:
            claimed()
        return self.deliver(attempt)

    def _prepare(self, conn: Connection, row: ExchangeRow) -> Attempt:
        """The attempt for an exchange just taken: its content read, our signature
        kept (or reused)."""
        document = Document.model_validate(row.document)
        request = self._request(
            conn,
            row.id,
            row.idempotency_key,
            Counterparty.model_validate(row.counterparty),
            document,
            self._stored_content(conn, row.content_sha256, document.size),
            row.scenario,
            signed=True,
        )
        return Attempt(row.id, row.provider, request, row.attempts)

    def deliver(self, attempt: Attempt) -> Exchange:
        """The provider call for a recorded attempt, then the record of its outcome."""
        exchange_id, request, attempts = attempt.exchange_id, attempt.request, attempt.attempts
        name = attempt.provider
        try:
            adapter = self._adapter(name)
        except Exception:
            # Nothing reached the operator: the lease goes back, the attempt does not count.
            self._give_back(exchange_id, attempts - 1)
            raise
        stale = time.monotonic() - attempt.leased_at > self.lease_seconds / 4
        if stale and not self._still_ours(exchange_id):
            # Paused past the lease, and another worker took the exchange: it sends.
            log.warning("exchange %s: lease lost before the call; not sending", exchange_id)
            with self.store.transaction() as conn:
                return self.store.load_exchange(conn, exchange_id)
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
                    return self.store.load_exchange(conn, exchange_id)
            with self.store.transaction() as conn:
                self.store.update_exchange(
                    conn, exchange_id, last_error=str(exc), lease_owner=None, lease_until=None
                )
                self.store.add_history(
                    conn, exchange_id, ExchangeStatus.QUEUED, f"send attempt failed: {exc}"
                )
                return self.store.load_exchange(conn, exchange_id)
        except ConfigurationError:
            # The operator may have been reached: the attempt counts (the next one
            # reconciles first), but the lease goes back for whoever is configured.
            self._give_back(exchange_id, attempts)
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
                exchange = self.store.load_exchange(conn, exchange_id)
            self.outbox.dispatch_events()
            return exchange
        with self.store.transaction() as conn:
            row = self.store.exchange_row(conn, exchange_id, for_update=True)
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
                self.writer.apply_early_events(conn, name, exchange_id, result.document_id)
            exchange = self.store.load_exchange(conn, exchange_id)
        self.outbox.dispatch_events()
        return exchange

    def _give_back(self, exchange_id: str, attempts: int) -> None:
        with self.store.transaction() as conn:
            leases.release_exchanges(conn, self.owner, [exchange_id])
            self.store.update_exchange(conn, exchange_id, attempts=max(attempts, 0))

    def _still_ours(self, exchange_id: str) -> bool:
        """Checked right before the provider call: queued, and the lease is (still) ours."""
        with self.store.transaction() as conn:
            row = self.store.exchange_row(conn, exchange_id, for_update=True)
            return row.status == ExchangeStatus.QUEUED and leases.take_exchange(
                conn, exchange_id, self.owner, self.lease_seconds
            )

    def send(self, intent: Intent) -> Exchange:
        """Record and deliver at once; an existing exchange finishes an interrupted send."""
        exchange = self.record(intent, conn=None, lease=True)
        if isinstance(exchange, Attempt):
            return self.deliver(exchange)
        if exchange.status == ExchangeStatus.QUEUED:
            return self.dispatch(exchange.id)
        return exchange

    def claim_queued(self, limit: int = 100) -> list[str]:
        """Lease up to ``limit`` queued exchanges that no live worker holds."""
        with self.store.transaction() as conn:
            return leases.claim_queued(conn, self.owner, self.lease_seconds, limit)

    def release(self, exchange_ids: list[str] | None = None) -> int:
        """Give back leases this owner holds (all, or the given exchanges)."""
        with self.store.transaction() as conn:
            return leases.release_exchanges(conn, self.owner, exchange_ids)


__all__ = ["INLINE_CONTENT", "Attempt", "Intent", "Sending", "default_idempotency_key"]
