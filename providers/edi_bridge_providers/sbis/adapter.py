"""The SBIS (Saby) provider: contracts out for signature, changes back.

Send is three calls: ``СБИС.ЗаписатьДокумент`` (the document with its file), ``СБИС.
ПодготовитьДействие`` (SBIS says which files to sign for "Отправка") and ``СБИС.
ВыполнитьДействие`` (our detached signatures). The document's ``Идентификатор`` is a UUID
from the idempotency key, so a retried send finds the document it already made.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from edi_bridge.errors import (
    ProviderNotFound,
    RejectedRequest,
    SignatureError,
    TransientError,
    ValidationError,
)
from edi_bridge.models import Counterparty, Document, DocumentKind
from edi_bridge.provider import (
    Capability,
    EventPage,
    FetchedFile,
    Provider,
    ProviderContext,
    ProviderEvent,
    RevocationRequest,
    SendRequest,
    SendResult,
)
from edi_bridge.signing.verify import parse_signature

from . import service
from .client import SbisClient, SbisPing
from .feed import Cursor, RawEvent, changes_filter, dedupe_sorted, events_of, has_more, stored_files
from .reading import EventReader, der
from .revocation import Annulments
from .settings import KEYS, SbisSettings
from .stage import file_bytes, perform_send_stage
from .wire import (
    M_CHANGES,
    M_PARTY,
    M_READ,
    M_WRITE,
    SbisRoute,
    as_dict,
    as_list,
    awaits_sending,
    document_body,
    document_uuid,
    party,
    party_member,
    routes_of,
    sent_result,
)

log = logging.getLogger("edi_bridge.sbis")
MAX_ATTACHMENT = 73 * 1024 * 1024  # SBIS refuses larger attachments
DEFAULT_TYPES = {DocumentKind.CONTRACT.value: "ДоговорИсх"}


class SbisProvider(SbisPing, Provider):
    """SBIS over its JSON-RPC API."""

    name = "sbis"
    operator = "sbis"
    settings_keys: ClassVar[frozenset[str] | None] = KEYS
    carries_power_of_attorney = False  # how SBIS takes our МЧД is unconfirmed (docs/sbis.md)
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.SEND,
            Capability.EVENTS,
            Capability.FETCH,
            Capability.ROUTES,
            Capability.FIND_SENT,
            Capability.REVOCATION,
        }
    )

    def __init__(self, context: ProviderContext, client: SbisClient | None = None) -> None:
        super().__init__(context)
        self.settings = SbisSettings.from_config(context.config)
        self.client = client or SbisClient(self.settings)
        self.reader = EventReader(self.client, self.settings.our_inn)
        thumbprint = self.settings.certificate_thumbprint
        self.annulments = Annulments(self.client, self._read, thumbprint)
        self.document_flow_interval = self.settings.docflow_interval  # seconds between asks

    def __repr__(self) -> str:
        return f"<SbisProvider {self.settings.base_url} inn={self.settings.our_inn}>"

    @property
    def cursor_scope(self) -> str:
        return f"sbis:{self.settings.our_inn}"

    # -- sending ---------------------------------------------------------

    def _doc_type(self, kind: str) -> str:
        doc_type = self.settings.doc_types.get(kind) or DEFAULT_TYPES.get(kind)
        if not doc_type:
            raise ValidationError(
                "document.kind",
                f"sbis has no document type for {str(kind)!r}; set sbis.doc_type_{kind}",
            )
        return doc_type

    def _thumbprint(self, our_signature: bytes) -> str:
        if self.settings.certificate_thumbprint:
            return self.settings.certificate_thumbprint
        signer = self.context.signer
        if signer is not None:
            cert = signer.certificate
        else:
            try:
                cert = parse_signature(our_signature).certificates[0].dump()
            except (SignatureError, IndexError):
                raise SignatureError("our signature carries no certificate") from None
        return hashlib.sha1(cert).hexdigest().upper()  # noqa: S324 - SBIS's thumbprint is SHA-1

    def _document(self, request: SendRequest, doc_id: str, doc_type: str) -> dict[str, Any]:
        s, cp = self.settings, request.counterparty
        return document_body(
            doc_id,
            doc_type,
            request.document,
            request.content.read_all(),
            ours=party(s.our_inn, s.our_kpp, s.our_name),
            theirs=party(cp.inn, cp.kpp, cp.name, cp.signatory.full_name),
            regulation=s.regulation,
        )

    def _read(self, doc_id: str) -> dict[str, Any] | None:
        try:
            return as_dict(self.client.call(M_READ, {"Документ": {"Идентификатор": doc_id}}))
        except ProviderNotFound:
            return None

    def check(self, counterparty: Counterparty, document: Document) -> None:
        self._doc_type(str(document.kind))
        if document.size > MAX_ATTACHMENT:
            raise ValidationError("document.size", "sbis takes attachments up to 73 MB")

    def send(self, request: SendRequest) -> SendResult:
        self.check(request.counterparty, request.document)
        doc_type = self._doc_type(str(request.document.kind))
        thumbprint = self._thumbprint(request.signature)
        doc_id = document_uuid(request.idempotency_key)
        existing = self._read(doc_id)
        if existing is not None and not awaits_sending(existing):
            log.info("sbis: document %s was already sent; not sending again", doc_id)
            return sent_result(doc_id, existing)
        try:
            if existing is None:
                # Same Идентификатор on a retry: SBIS updates, it does not duplicate.
                self.client.call(M_WRITE, {"Документ": self._document(request, doc_id, doc_type)})
            signer = self.context.signer
            done = perform_send_stage(self.client, signer, self._read, doc_id, thumbprint, request)
        except (RejectedRequest, TransientError):
            # "Документ уже отправлен" to a repeated write, a stage done already, a lost
            # answer: an earlier attempt (ours, or a worker's paused past its lease) may
            # have sent it. The operator's state decides, never the refusal.
            after = self._read(doc_id)
            if after is None or awaits_sending(after):
                raise
            log.info("sbis: document %s is sent already; reconciled", doc_id)
            return sent_result(doc_id, after)
        return sent_result(doc_id, as_dict(done))

    def find_sent(self, request: SendRequest) -> SendResult | None:
        doc_id = document_uuid(request.idempotency_key)
        existing = self._read(doc_id)
        if existing is None or awaits_sending(existing):
            return None  # not there, or written but not sent: send() finishes it
        return sent_result(doc_id, existing)

    # -- changes ---------------------------------------------------------

    def poll(self, cursor: str | None) -> EventPage:
        after = Cursor.load(cursor)
        raw: list[RawEvent] = []
        more = False
        for page in range(self.settings.max_pages):
            query = changes_filter(
                after, self.settings.changes_since, page, self.settings.page_size
            )
            result = as_dict(self.client.call(M_CHANGES, query))
            raw.extend(events_of(as_list(result.get("Документ"))))
            more = has_more(result)
            if not more:
                break
        ordered = dedupe_sorted(raw, after)
        events, unreadable = self.reader.page(ordered)  # an outage raises (see .reading)
        last = ordered[-1] if ordered else None
        next_cursor = Cursor(last.event_id, last.at_text).dump() if last else cursor
        return EventPage(events, next_cursor, has_more=more, unreadable=unreadable)

    def read_event(self, raw: Mapping[str, Any]) -> list[ProviderEvent]:
        """A quarantined event's ``Документ`` entry read again."""
        return self.reader.again(raw)

    # -- annulment (see .revocation) -------------------------------------

    def awaiting_revocation(self, refs: Sequence[Mapping[str, str]]) -> None:
        self.reader.watched = frozenset(r["document_id"] for r in refs if r.get("document_id"))

    def request_revocation(self, request: RevocationRequest) -> None:
        self.annulments.request(request)

    def accept_revocation(self, request: RevocationRequest) -> None:
        self.annulments.answer(request, accept=True)

    def reject_revocation(self, request: RevocationRequest) -> None:
        self.annulments.answer(request, accept=False)

    # -- the flow after the signature: service stages (see .service) -----

    def pending_receipts(self, ref: Mapping[str, str]) -> list[dict[str, str]]:
        return service.pending(self.client, ref)

    def document_flow(self, ref: Mapping[str, str], answer: bool = True) -> dict[str, Any]:
        """Finished when SBIS lists no service stage of ours; ``answer``: process them first
        (not while our signer needs an МЧД, which SBIS cannot carry yet: docs/sbis.md)."""
        poa = self.context.power_of_attorney
        signer = None if poa is not None and poa() is not None else self.context.signer
        thumbprint = self.settings.certificate_thumbprint
        return service.follow(self.client, signer, thumbprint, ref, answer)

    # -- reading back ----------------------------------------------------

    def fetch(self, ref: Mapping[str, str]) -> list[FetchedFile]:
        doc_id = ref.get("document_id")
        if not doc_id:
            raise ValidationError("provider_ref.document_id", "required to fetch from sbis")
        document = self._read(doc_id)
        if document is None:
            raise ProviderNotFound(f"document {doc_id} is not at sbis", provider="sbis")
        files = []
        for role, name, file, is_signature in stored_files(document, self.settings.our_inn):
            data = file_bytes(self.client, file)
            files.append(FetchedFile(role, name, der(data) if is_signature else data))
        return files

    # -- routes ----------------------------------------------------------

    def routes(self, counterparty: Counterparty) -> list[SbisRoute]:
        member = party_member(counterparty.inn, counterparty.kpp, counterparty.is_organisation)
        try:
            result = self.client.call(
                M_PARTY, {"Участник": member, "ДопПоля": "СписокИдентификаторов"}
            )
        except ProviderNotFound:
            return []
        return routes_of(as_dict(result))

    def can_receive(self, counterparty: Counterparty) -> bool:
        return bool(self.routes(counterparty))

    def close(self) -> None:
        self.client.close()


__all__ = ["SbisProvider", "SbisRoute"]
