"""The Diadoc provider: sends for signature, reads the box feed, fetches files back."""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from edi_bridge.errors import ProviderNotFound, ValidationError
from edi_bridge.models import Counterparty, Document
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
    UnreadableEvent,
)

from . import docflow, ourpoa, receipts, revocation
from .client import EVENTS_PAGE, DiadocClient
from .conformance import build
from .feed import DELIVERY_TYPES, entity_content, next_cursor, normalize, read_box_event
from .revocation import ParentLookup, discover_box
from .settings import KEYS, DiadocSettings
from .wire import build_message, custom_document_id, file_extension, operation_id, send_result

STREAM_ABOVE = 8 * 1024 * 1024  # documents larger than this are fetched as a stream
MAX_PAGES_PER_CALL = 50  # pages of events with nothing for us, read in one poll() call


class DiadocProvider(Provider):
    """Kontur.Diadoc over its HTTP API (JSON)."""

    name = "diadoc"
    operator = "diadoc"
    settings_keys: ClassVar[frozenset[str] | None] = KEYS
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

    def __init__(self, context: ProviderContext, *, client: DiadocClient | None = None) -> None:
        super().__init__(context)
        self.settings = client.settings if client else DiadocSettings.from_config(context.config)
        self.client = client or DiadocClient(self.settings)
        self._box_id = self.settings.box_id
        self._routes: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self._awaiting: frozenset[str] = frozenset()  # messages with an open revocation
        self.document_flow_interval = self.settings.docflow_interval  # seconds between asks

    def __repr__(self) -> str:
        return f"<DiadocProvider {self.settings.base_url} box={self._box_id or '?'}>"

    def close(self) -> None:
        self.client.close()

    def ping(self) -> None:
        """Authenticated and cheap: our organizations (GetMyOrganizations), no feed page."""
        self.client.my_organizations()

    # -- boxes -----------------------------------------------------------

    @property
    def box_id(self) -> str:
        """Our box: configured, or the one box of our organization (GetMyOrganizations)."""
        with self._lock:
            if self._box_id is None:
                self._box_id = discover_box(self.client, self.settings.inn)
            return self._box_id

    @property
    def cursor_scope(self) -> str:
        return f"diadoc:{self.box_id}"

    def recipient_box(self, counterparty: Counterparty) -> str | None:
        """The counterparty's box by INN/KPP (GetOrganizationsByInnKpp), cached."""
        key = counterparty.key
        with self._lock:
            if key in self._routes:
                return self._routes[key]
        box: str | None = None
        for org in self.client.organizations_by_inn_kpp(counterparty.inn, counterparty.kpp):
            boxes = [b for b in org.get("Boxes") or [] if b.get("BoxId")]
            if boxes:
                box = str(boxes[0]["BoxId"])
                break
        with self._lock:
            self._routes[key] = box
        return box

    def can_receive(self, counterparty: Counterparty) -> bool:
        return self.recipient_box(counterparty) is not None

    # -- sending ---------------------------------------------------------

    def check(self, counterparty: Counterparty, document: Document) -> None:
        """Refuse, before anything is stored or uploaded, a document Diadoc cannot take."""
        self._check_size(document.size)

    def _check_size(self, size: int) -> None:
        limit = self.settings.max_document_size
        if size > limit:
            raise ValidationError(
                "document.size",
                f"Diadoc accepts at most {limit / 2**20:g} MB per document "
                f"(diadoc.max_document_size); this one has {size} bytes",
            )

    def send(self, request: SendRequest) -> SendResult:
        # Also checked by the Bridge before storing; this guards direct use.
        self._check_size(request.content.size)
        to_box = self.recipient_box(request.counterparty)
        if to_box is None:
            cp = request.counterparty
            raise ProviderNotFound(
                f"no Diadoc box for INN {cp.inn}" + (f" KPP {cp.kpp}" if cp.kpp else ""),
                provider="diadoc",
            )
        from_box = self.box_id
        shelf_name: str | None = None
        if request.content.size > self.settings.shelf_threshold:
            shelf_name = self.client.shelf_upload(
                request.content, file_extension(request.document.file_name)
            )
        message = build_message(
            request,
            from_box=from_box,
            to_box=to_box,
            contract_type=self.settings.contract_type,
            name_on_shelf=shelf_name,
        )
        # Checked against the proto model: a misspelled field fails here, not at Diadoc.
        message = build("MessageToPost", **message)
        if request.power_of_attorney is not None and self.settings.prevalidate_power_of_attorney:
            ourpoa.prevalidate(self.client, from_box, request.power_of_attorney, request.signature)
        answer = self.client.post_message(message, operation_id(request.idempotency_key))
        return send_result(answer, from_box, to_box)

    def find_sent(self, request: SendRequest) -> SendResult | None:
        box = self.box_id
        found = self.client.documents_by_custom_id(box, custom_document_id(request.idempotency_key))
        for doc in found:
            message_id, entity_id = doc.get("MessageId"), doc.get("EntityId")
            if message_id and entity_id:
                return SendResult(
                    ref={
                        "box_id": box,
                        "to_box_id": str(doc.get("CounteragentBoxId") or ""),
                        "message_id": str(message_id),
                        "entity_id": str(entity_id),
                    },
                    document_id=f"{message_id}:{entity_id}",
                    raw={"MessageId": message_id, "EntityId": entity_id},
                )
        return None

    # -- events ----------------------------------------------------------

    def poll(self, cursor: str | None) -> EventPage:
        """Read pages of 100 until one has news for us or the feed is exhausted."""
        box = self.box_id

        def load(message_id: str, entity_id: str) -> bytes:
            return self.client.entity_content(box, message_id, entity_id)

        load_poa = self.client.power_of_attorney_content
        parents = ParentLookup(self.client, box, self._awaiting)  # what an answer answers

        events: list[ProviderEvent] = []
        unreadable: list[UnreadableEvent] = []
        full = False
        for _ in range(MAX_PAGES_PER_CALL):
            data = self.client.new_events(box, cursor, EVENTS_PAGE)
            batch = [e for e in data.get("Events") or [] if isinstance(e, Mapping)]
            full = len(batch) >= EVENTS_PAGE
            for box_event in batch:
                read, bad = read_box_event(
                    box_event, box, load, load_poa=load_poa, parent_of=parents
                )
                events.extend(read)
                unreadable.extend(bad)
                # Receipts Diadoc asks of us go before the cursor moves past their cue.
                receipts.answer(self.client, self.context, box, box_event)
            keys = [str(e["IndexKey"]) for e in batch if e.get("IndexKey")]
            cursor = next_cursor(keys, cursor, full)
            if events or unreadable or not full:
                break
        return EventPage(events, cursor, has_more=full, unreadable=unreadable)

    def read_event(self, raw: Mapping[str, Any]) -> list[ProviderEvent]:
        """A quarantined box event read again (its content loaded anew)."""
        box, client = self.box_id, self.client
        load = functools.partial(client.entity_content, box)
        parents = ParentLookup(client, box, self._awaiting)
        return normalize(
            raw, box, load, load_poa=client.power_of_attorney_content, parent_of=parents
        )

    # -- revocation (see .revocation) ------------------------------------

    def awaiting_revocation(self, refs: Sequence[Mapping[str, str]]) -> None:
        self._awaiting = frozenset(r["message_id"] for r in refs if r.get("message_id"))

    def request_revocation(self, request: RevocationRequest) -> None:
        revocation.request_revocation(self.client, self.box_id, request)

    def accept_revocation(self, request: RevocationRequest) -> None:
        revocation.answer_revocation(self.client, self.box_id, request, accept=True)

    def reject_revocation(self, request: RevocationRequest) -> None:
        revocation.answer_revocation(self.client, self.box_id, request, accept=False)

    # -- fetching --------------------------------------------------------

    def pending_receipts(self, ref: Mapping[str, str]) -> list[dict[str, str]]:
        """Receipts Diadoc still expects from us on this document (``receipts.pending``)."""
        box = ref.get("box_id") or self.box_id
        message = self.client.get_message(box, ref["message_id"])
        return receipts.pending(message, box, ref["entity_id"])

    def document_flows(self, refs: Sequence[Mapping[str, str]], answer: bool = True) -> list[Any]:
        """Each flow's state or error, from GetDocflows batches; our due receipts sent first."""
        return docflow.follow(self.client, self.context if answer else None, self.box_id, refs)

    def document_flow(self, ref: Mapping[str, str], answer: bool = True) -> dict[str, Any]:
        return docflow.one(self.document_flows([ref], answer))

    def fetch(self, ref: Mapping[str, str]) -> list[FetchedFile]:
        box = ref.get("box_id") or self.box_id
        message_id, entity_id = ref["message_id"], ref["entity_id"]
        message = self.client.get_message(box, message_id, original_signature=True)
        entities = [e for e in message.get("Entities") or [] if isinstance(e, Mapping)]
        document = next((e for e in entities if e.get("EntityId") == entity_id), None)
        if document is None:
            raise ProviderNotFound(
                f"message {message_id} has no entity {entity_id}", provider="diadoc"
            )
        name = str(document.get("FileName") or f"{entity_id}.bin")

        def content(entity: Mapping[str, Any]) -> bytes:
            found = entity_content(entity)
            if found is None:
                found = self.client.entity_content(box, message_id, str(entity["EntityId"]))
            return found

        size = (document.get("Content") or {}).get("Size")
        if entity_content(document) is None and isinstance(size, int) and size > STREAM_ABOVE:
            # Read while it is written out: a large document never sits in memory whole.
            files = [
                FetchedFile(
                    "document",
                    name,
                    b"",
                    stream=functools.partial(
                        self.client.entity_content_chunks, box, message_id, entity_id
                    ),
                )
            ]
        else:
            files = [FetchedFile("document", name, content(document))]
        receipts = 0
        for entity in entities:
            if entity.get("ParentEntityId") != entity_id:
                continue
            if entity.get("EntityType") == "Signature":
                if entity.get("SignerBoxId") == box:
                    files.append(FetchedFile("our_signature", f"{name}.sig", content(entity)))
                else:
                    files.append(
                        FetchedFile(
                            "counterparty_signature", f"{name}.counterparty.sig", content(entity)
                        )
                    )
            elif entity.get("AttachmentType") in DELIVERY_TYPES:
                receipts += 1
                ext = entity.get("FileName") and file_extension(str(entity["FileName"]))
                files.append(
                    FetchedFile(
                        "receipt", f"{name}.receipt-{receipts}{ext or '.xml'}", content(entity)
                    )
                )
        return files


__all__ = ["DiadocProvider"]
