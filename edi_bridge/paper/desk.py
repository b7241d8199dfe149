"""The paper route as a tracked exchange: :class:`PaperDesk` (``bridge.paper``).

A paper exchange lives in the same table as EDI ones (``channel = "paper"``)
and changes status only through the one transition writer
(:mod:`edi_bridge.transitions`), so history, backend events and callbacks work
as for EDI. The desk is built from the store, that writer and the outbox; the
Bridge builds it only when paper is used::

    prepared -> dispatched -> delivered -> scan_received -> signed
                      \\-> returned | lost  (needs attention; dispatch again)

Carrier tracking is read per shipment; each carrier operation is applied at
most once (its id is claimed in the same transaction that applies it), so a
repeated poll changes nothing twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import Connection

from .. import config
from ..deadlines import DEFAULT_ORIGINALS_DEADLINE_DAYS, Deadlines
from ..errors import (
    EdiBridgeError,
    NotFound,
    PollFailed,
    ProviderNotFound,
    UnknownProvider,
    ValidationError,
)
from ..lifecycle import PAPER_TROUBLE, Channel, EventKind, ExchangeStatus, is_late_news
from ..models import Counterparty, Document, Exchange, check_file_name
from ..retry import RetryPolicy
from ..routing import PAPER, RoutingPolicy
from ..store import ExchangeRow, Store, utcnow
from ..store.rows import new_exchange
from ..transitions import TransitionWriter
from .carrier import Carrier, CarrierContext, CarrierRegistry, ShipmentStatus, TrackingRecord
from .fallback import apply_fallbacks
from .inputs import check_pdf, scan_format
from .steps import already_done, nothing_to_do

log = logging.getLogger("edi_bridge.paper")
S = ExchangeStatus
_FROM_SHIPMENT = {
    ShipmentStatus.DELIVERED: S.DELIVERED,
    ShipmentStatus.RETURNED: S.RETURNED,
    ShipmentStatus.LOST: S.LOST,
}
MANUAL_STATUSES = (S.DELIVERED, S.RETURNED, S.LOST)
NO_SCAN_EMAIL = "paper.scan_email is not set: the cover letter does not say where to send the scan"


class Notifier(Protocol):
    """Hands recorded changes to the backend's callbacks (the workflow's outbox)."""

    def dispatch_events(self) -> int: ...


class PaperDesk:
    """Prepares, dispatches and tracks paper exchanges."""

    def __init__(
        self,
        store: Store,
        writer: TransitionWriter,
        outbox: Notifier,
        *,
        settings: Mapping[str, str] | None = None,
        carriers: CarrierRegistry | None = None,
        policy: RoutingPolicy | None = None,
        carrier_retry: RetryPolicy | None = None,
    ) -> None:
        from .carrier import default_carriers

        self.store = store
        self.writer = writer
        self.outbox = outbox
        self.carrier_retry = carrier_retry
        self._settings = dict(settings or {})
        self.carriers = carriers or default_carriers
        self.policy = policy or RoutingPolicy.from_settings(self._settings)
        values = config.PAPER.read(self._settings)
        days = values.get("originals_deadline_days") or str(DEFAULT_ORIGINALS_DEADLINE_DAYS)
        if not days.isdigit() or int(days) < 1:
            raise ValidationError("paper.originals_deadline_days", "must be a whole number >= 1")
        self.originals_deadline = dt.timedelta(days=int(days))
        self.sender_name = values.get("sender_name")
        self.sender_address = values.get("sender_address")
        self.scan_email = values.get("scan_email")
        self._instances: dict[str, Carrier] = {}

    def close(self) -> None:
        for carrier in self._instances.values():
            carrier.close()
        self._instances.clear()

    def carrier(self, name: str) -> Carrier:
        """The carrier adapter for ``name`` (built once per desk)."""
        if name not in self._instances:
            try:
                cls = self.carriers.get(name)
            except UnknownProvider as exc:
                raise ValidationError("carrier", str(exc)) from None
            values = config.declared_section(name, cls.settings_keys, self._settings)
            context = CarrierContext(config=values, retry=self.carrier_retry)
            self._instances[name] = cls(context)
        return self._instances[name]

    # -- preparing -------------------------------------------------------

    def prepare(
        self,
        counterparty: Counterparty,
        document: Document,
        *,
        idempotency_key: str,
        reason: str,
        previous_id: str | None = None,
        check_content: bool = True,
    ) -> Exchange:
        """Record a paper exchange in ``prepared`` (two copies to print).

        The document must be a readable PDF (the pack prints it); ``check_content=False``
        for a fallback from EDI, whose document was accepted already.
        """
        source = document.source
        if source is None:
            raise ValidationError("document", "has no content (use Document.from_path/from_bytes)")
        content = source if isinstance(source, bytes) else source.read_bytes()  # read once
        if check_content and hashlib.sha256(content).hexdigest() == document.sha256:
            check_pdf(content, "document")  # a changed file is refused by the store, as such
        exchange_id = "ex_" + secrets.token_hex(8)
        now = utcnow()
        with self.store.transaction() as conn:
            sha = self.store.put_blob(conn, content, expect_sha256=document.sha256)
            row = new_exchange(
                exchange_id,
                idempotency_key,
                channel=Channel.PAPER,
                provider=PAPER,
                counterparty=counterparty,
                document=document,
                content_sha256=sha,
                status=S.PREPARED,
                at=now,
            )
            row["reason"], row["previous_id"] = reason, previous_id
            self.store.insert_exchange(conn, **row)
            self.store.add_history(
                conn, exchange_id, S.PREPARED, f"send requested; routed to paper: {reason}"
            )
            self.store.add_event(
                conn,
                key=f"{exchange_id}:prepared",
                kind=EventKind.PREPARED,
                exchange_id=exchange_id,
                status=S.PREPARED,
                reason=reason,
            )
            if not self.scan_email:
                self.store.add_history(conn, exchange_id, S.PREPARED, NO_SCAN_EMAIL)
            exchange = self.store.load_exchange(conn, exchange_id)
        if not self.scan_email:
            log.warning("%s: %s", exchange_id, NO_SCAN_EMAIL, extra={"shown": True})
        self.outbox.dispatch_events()
        return exchange

    def _done(self, conn: Connection, exchange_id: str, target: str) -> Exchange | None:
        """The exchange, unchanged, when it has reached or passed ``target`` already."""
        row = self._paper_row(conn, exchange_id)
        if not already_done(row.status, target):
            return None
        log.info("%s", nothing_to_do(exchange_id, row.status))
        return self.store.load_exchange(conn, exchange_id)

    def _paper_row(self, conn: Connection, exchange_id: str) -> ExchangeRow:
        row = self.store.exchange_row(conn, exchange_id, for_update=True)
        if row.channel != Channel.PAPER:
            raise ValidationError("exchange_id", f"{exchange_id} is not a paper exchange")
        return row

    def print_pack(self, exchange_id: str, out: str | Path) -> Path:
        """Write the print pack PDF (cover letter, label, two copies) to ``out``."""
        from .printpack import PackSender, build_print_pack

        with self.store.transaction() as conn:
            self._paper_row(conn, exchange_id)
            exchange = self.store.load_exchange(conn, exchange_id)
        with self.store.exchange_content(exchange_id) as fh:
            content = fh.read()
        sender = PackSender(
            name=self.sender_name, address=self.sender_address, scan_email=self.scan_email
        )
        path = Path(out)
        pages = build_print_pack(exchange, content, path, sender=sender)
        with self.store.transaction() as conn:
            self.store.add_history(
                conn, exchange_id, exchange.status, f"print pack made ({pages} pages)"
            )
        return path

    # -- posting and tracking ----------------------------------------------

    def dispatch(self, exchange_id: str, carrier: str, tracking: str) -> Exchange:
        """Record that the copies left with ``carrier`` under ``tracking``."""
        adapter = self.carrier(carrier)
        number = adapter.check_tracking(tracking)
        with self.store.transaction() as conn:
            row = self._paper_row(conn, exchange_id)
            if row.status == S.DISPATCHED and row.provider_document_id != number:
                where = f"with {row.provider}, tracking {row.provider_document_id}"
                raise ValidationError("tracking", f"{exchange_id} is dispatched already {where}")
            if (done := self._done(conn, exchange_id, S.DISPATCHED)) is not None:
                return done
            other = self.store.exchange_id_for_document(conn, carrier, number)
            if other is not None and other != exchange_id:
                raise ValidationError("tracking", f"{number} is already used for {other}")
            ref = {"carrier": carrier, "tracking": number}
            self.writer.write(
                conn,
                exchange_id,
                S.DISPATCHED,
                f"dispatched with {carrier}, tracking {number}",
                event_key=f"{exchange_id}:dispatched:{carrier}:{number}",
                detail=dict(ref),
                provider=carrier,
                provider_document_id=number,
                provider_ref=ref,
                needs_attention=False,
            )
            exchange = self.store.load_exchange(conn, exchange_id)
        self.outbox.dispatch_events()
        return exchange

    def track(self, carriers: Iterable[str] | None = None) -> int:
        """Ask the carriers about every dispatched shipment; returns records applied."""
        wanted = set(carriers) if carriers is not None else None
        with self.store.transaction() as conn:
            shipments = []
            for exchange_id in self.store.exchange_ids(conn, status=S.DISPATCHED):
                row = self.store.exchange_row(conn, exchange_id)
                number = row.provider_document_id  # the tracking number, set by dispatch
                if row.channel != Channel.PAPER or number is None:
                    continue
                if wanted is None or row.provider in wanted:
                    shipments.append((exchange_id, row.provider, number))
        applied = 0
        failures: dict[str, str] = {}
        errors: dict[str, BaseException] = {}
        try:
            for exchange_id, name, number in shipments:
                # Each shipment on its own: one carrier down leaves the others tracked.
                try:
                    applied += self._track_one(exchange_id, name, number)
                except Exception as exc:
                    unit = f"carrier {name} {number}"
                    failures[unit], errors[unit] = PollFailed.reason(exc), exc
                    trace = not isinstance(exc, EdiBridgeError)
                    why, at = failures[unit], {"unit": unit, "exchange": exchange_id}
                    log.error("tracking %s failed: %s", unit, why, exc_info=trace, extra=at)
        finally:
            self.outbox.dispatch_events()
        if failures:
            raise PollFailed(failures, errors)
        return applied

    def _track_one(self, exchange_id: str, name: str, number: str) -> int:
        adapter = self.carrier(name)
        if not adapter.tracks:
            return 0
        try:
            records = adapter.track(number)
        except ProviderNotFound as exc:
            log.info("%s does not know %s yet: %s", name, number, exc)
            return 0
        applied = 0
        with self.store.transaction() as conn:
            for record in sorted(records, key=lambda r: r.at):
                applied += self._apply(conn, exchange_id, name, record)
        return applied

    def _apply(self, conn: Connection, exchange_id: str, name: str, record: TrackingRecord) -> int:
        if not self.store.claim_provider_event(
            conn, f"carrier:{name}", record.record_id, exchange_id
        ):
            return 0  # already applied
        row = self.store.exchange_row(conn, exchange_id, for_update=True)
        where = f" ({record.place})" if record.place else ""
        cause = f"{name}: {record.description}{where}"
        detail = {
            "carrier": name,
            "record_id": record.record_id,
            "shipment_status": str(record.status),
            "operation": record.description,
            "at": record.at.isoformat(),
            **({"place": record.place} if record.place else {}),
        }
        target = _FROM_SHIPMENT.get(record.status)
        if target is None or is_late_news(row.channel, row.status, target):
            # Progress news, or late news (delivered to the sender after a
            # return): keep it in the history, change nothing. An order the carrier
            # refuses changes no status either, but someone must act on it.
            self.store.add_history(conn, exchange_id, row.status, cause, detail)
            if record.status == ShipmentStatus.INVALID:
                self.store.update_exchange(conn, exchange_id, needs_attention=True)
            return 1
        trouble = target in PAPER_TROUBLE
        self.writer.write(
            conn,
            exchange_id,
            target,
            cause,
            event_key=f"{exchange_id}:{target}:{record.record_id}",
            reason=cause if trouble else None,
            detail=detail,
            needs_attention=trouble or bool(row.needs_attention),
        )
        return 1

    def mark(self, exchange_id: str, status: str, note: str | None = None) -> Exchange:
        """Set a shipment's status by hand (couriers, or a carrier that is silent)."""
        if status not in MANUAL_STATUSES:
            allowed = ", ".join(MANUAL_STATUSES)
            raise ValidationError("status", f"must be one of {allowed}")
        target = S(status)
        trouble = target in PAPER_TROUBLE
        cause = f"set by hand: {note}" if note else "set by hand"
        with self.store.transaction() as conn:
            if (done := self._done(conn, exchange_id, target)) is not None:
                return done
            self.writer.write(
                conn,
                exchange_id,
                target,
                cause,
                event_key=f"{exchange_id}:{target}:manual:{secrets.token_hex(4)}",
                reason=cause if trouble else None,
                detail={"by_hand": True, **({"note": note} if note else {})},
                needs_attention=trouble,
            )
            exchange = self.store.load_exchange(conn, exchange_id)
        self.outbox.dispatch_events()
        return exchange

    # -- the client's answer -----------------------------------------------

    def scan_received(self, exchange_id: str, content: bytes, file_name: str) -> Exchange:
        """A scan of the copy signed by the client: temporary activation is allowed."""
        check_file_name(file_name, "file")
        scan_format(content, "file")
        now = utcnow()
        due = (now + self.originals_deadline).date().isoformat()
        with self.store.transaction() as conn:
            if (done := self._done(conn, exchange_id, S.SCAN_RECEIVED)) is not None:
                return done
            sha = self.store.put_blob(conn, content)
            self.writer.write(
                conn,
                exchange_id,
                S.SCAN_RECEIVED,
                f"scan of the signed copy received; originals due by {due}",
                event_key=f"{exchange_id}:scan_received",
                detail={"temporary_activation": True, "scan_sha256": sha, "originals_due": due},
            )
            self.store.add_signature(conn, exchange_id, "scan", f"scan-{file_name}", content)
            exchange = self.store.load_exchange(conn, exchange_id)
        self.outbox.dispatch_events()
        return exchange

    def originals_received(
        self, exchange_id: str, content: bytes | None = None, file_name: str | None = None
    ) -> Exchange:
        """The signed original is back: the contract is concluded (``signed``)."""
        if content is not None:
            check_file_name(file_name or "", "file")
            scan_format(content, "file")
        with self.store.transaction() as conn:
            if (done := self._done(conn, exchange_id, S.SIGNED)) is not None:
                return done
            row = self._paper_row(conn, exchange_id)
            self.writer.write(
                conn,
                exchange_id,
                S.SIGNED,
                "signed original received",
                event_key=f"{exchange_id}:signed",
                detail={"originals": True},
                # Overdue originals no longer need anyone's attention.
                needs_attention=False if row.status == S.SCAN_RECEIVED else row.needs_attention,
            )
            if content is not None and file_name is not None:
                self.store.add_signature(
                    conn, exchange_id, "originals", f"originals-{file_name}", content
                )
            exchange = self.store.load_exchange(conn, exchange_id)
        self.outbox.dispatch_events()
        return exchange

    def check_overdue(self, now: dt.datetime | None = None) -> int:
        """Raise ``originals_overdue`` once per scan whose deadline has passed
        (the rule lives with the other deadlines in :mod:`edi_bridge.deadlines`)."""
        deadlines = Deadlines(self.store, self.writer, self.outbox, settings=self._settings)
        return deadlines.check(now, kinds={EventKind.ORIGINALS_OVERDUE})

    # -- fallbacks from EDI ------------------------------------------------

    def apply_fallbacks(self, now: dt.datetime | None = None) -> list[Exchange]:
        """Move EDI exchanges to paper as the policy says (failed, or silent N days)."""
        return apply_fallbacks(self.store, self.policy, self.prepare, now or utcnow())

    def poll(self, names: Iterable[str] | None = None) -> None:
        """What ``Bridge.poll`` does for paper: tracking, then (for a full poll) the
        EDI-to-paper fallbacks. Overdue originals come with the other deadlines."""
        failed = PollFailed({})
        try:
            self.track(names)
        except PollFailed as exc:
            failed = exc  # the other steps still run
        if names is None:
            try:
                self.apply_fallbacks()
            except Exception as exc:
                failed.failures["paper fallbacks"] = PollFailed.reason(exc)
                failed.errors["paper fallbacks"] = exc
                log.exception("paper fallbacks failed")
        if failed.failures:
            raise PollFailed(failed.failures, failed.errors)

    def exchange(self, exchange_id: str) -> Exchange:
        with self.store.transaction() as conn:
            exchange = self.store.load_exchange(conn, exchange_id)
        if exchange.channel != Channel.PAPER:
            raise NotFound(f"{exchange_id} is not a paper exchange")
        return exchange


__all__ = ["DEFAULT_ORIGINALS_DEADLINE_DAYS", "MANUAL_STATUSES", "Notifier", "PaperDesk"]
