"""Diadoc box events (GetNewEvents V8) normalized into :class:`ProviderEvent`.

Only what the counterparty did to a document *we* sent matters here:

* a ``Receipt``/``InvoiceReceipt`` attachment (or a UniversalMessage with code
  1999) on our document: **delivered**;
* a ``Signature`` entity on our document from another box: **signed**, with
  its bytes; on a УПД, the buyer's title with its signature (``titles``): **signed**,
  with the title and what it says;
* ``XmlSignatureRejection``, the older ``SignatureRequestRejection`` or a
  UniversalMessage with code 3999 on our document: **rejected**, with the
  reason text read from its content;
* a counterparty's ``RevocationRequest``: **revocation_requested**, with its text and XML;
  under *our* request its signature: **revoked**, a rejection: **revocation_rejected**.

A normalized event's id is ``<EventId>:<EntityId>``: stable across repeats of
the same box event, distinct for the entities of one patch. The document id is
``<MessageId>:<EntityId of our document>``, as the adapter returns on send.
"""

from __future__ import annotations

import binascii
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from edi_bridge.errors import TransientError
from edi_bridge.provider import (
    BUYER_TITLE,
    EventFile,
    ProviderEvent,
    ProviderEventKind,
    UnreadableEvent,
)
from edi_bridge.signing.authority import OperatorPoaStatus, diadoc_status

from .feed_signed import ParentOf, our_request_answered, signed_files
from .feed_text import reason_text, universal_code
from .paging import next_cursor
from .titles import TITLE_TYPES, title_parts

DELIVERY_TYPES = frozenset({"Receipt", "InvoiceReceipt"})
REJECTION_TYPES = frozenset({"XmlSignatureRejection", "SignatureRequestRejection"})
UNIVERSAL = "UniversalMessage"
REVOCATION = "RevocationRequest"
UNIVERSAL_REJECTION = "3999"
UNIVERSAL_RECEIPT = "1999"
_REFUSALS = frozenset({ProviderEventKind.REJECTED, ProviderEventKind.REVOCATION_REJECTED})
_NO_REASON = "rejected without a reason"
_EPOCH_TICKS = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
_timedelta = dt.timedelta

ContentLoader = Callable[[str, str], bytes]
"""(message id, entity id) -> entity content, for entities sent without it."""


def ticks_to_datetime(ticks: Any) -> dt.datetime | None:
    """.NET ticks (100 ns since 0001-01-01 UTC), as Diadoc's timestamps are."""
    try:
        value = int(ticks)
    except (TypeError, ValueError):
        return None
    if value <= 0:
        return None
    return _EPOCH_TICKS + _timedelta(0, 0, value // 10)  # (days, seconds, µs): positional


def datetime_to_ticks(when: dt.datetime) -> int:
    delta = when.astimezone(dt.UTC) - _EPOCH_TICKS
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def entity_content(entity: Mapping[str, Any]) -> bytes | None:
    content = entity.get("Content")
    data = content.get("Data") if isinstance(content, Mapping) else None
    if not data:
        return None
    try:
        # Strict: any character outside the alphabet, or misplaced padding, is refused
        # (as base64.b64decode(validate=True), without its regular expression over the
        # text, which cost more than the decoding of a signature).
        return binascii.a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError):
        return None


def _author(entity: Mapping[str, Any], entities: Sequence[Mapping[str, Any]]) -> str | None:
    """The box that made an attachment: the signer of its signature in the same batch."""
    if entity.get("EntityType") == "Signature":
        return entity.get("SignerBoxId")
    for other in entities:
        if other.get("EntityType") == "Signature" and other.get("ParentEntityId") == entity.get(
            "EntityId"
        ):
            signer = other.get("SignerBoxId")
            return str(signer) if signer else None
    return None


def signer_authority(
    entity: Mapping[str, Any], load_poa: Callable[[str, str], bytes] | None
) -> tuple[tuple[bytes, ...], OperatorPoaStatus | None]:
    """The МЧД a signature was made under (``PowerOfAttorneyInfo``) and Diadoc's status."""
    info = entity.get("PowerOfAttorneyInfo")
    if not isinstance(info, Mapping):
        return (), None
    status = info.get("Status")
    operator = None
    if isinstance(status, Mapping) and status.get("StatusNamedId"):
        text = str(status.get("StatusText") or "") or None
        operator = diadoc_status(str(status["StatusNamedId"]), text)
    full = info.get("FullId")
    if load_poa is None or not isinstance(full, Mapping) or not full.get("RegistrationNumber"):
        return (), operator
    number, inn = str(full["RegistrationNumber"]), str(full.get("IssuerInn") or "")
    return (load_poa(number, inn),), operator


def normalize(
    box_event: Mapping[str, Any],
    our_box: str,
    load_content: ContentLoader,
    *,
    our_documents: Callable[[str, str], bool] | None = None,
    load_poa: Callable[[str, str], bytes] | None = None,
    parent_of: ParentOf | None = None,
) -> list[ProviderEvent]:
    """The normalized events in one box event (often none); ``our_documents`` (message id,
    entity id) narrows them to the documents it accepts (default: all)."""
    body = box_event.get("Patch") or box_event.get("Message")
    # ``type(...) is dict`` first: an ABC's isinstance costs more, and JSON gives dicts.
    if type(body) is not dict and not isinstance(body, Mapping):
        return []
    event_id = str(box_event.get("EventId") or "")
    message_id = str(body.get("MessageId") or box_event.get("MessageId") or "")
    if not event_id or not message_id:
        return []
    # A BoxEvent has no time of its own: the Message's or Patch's TimestampTicks is it.
    at = ticks_to_datetime(body.get("TimestampTicks")) or dt.datetime.now(dt.UTC)
    entities: list[Mapping[str, Any]] = [
        e for e in body.get("Entities") or () if type(e) is dict or isinstance(e, Mapping)
    ]
    # Entities whose parent arrives in the same batch belong to that newcomer
    # (the signature under a receipt), not to our document.
    local_ids = {e.get("EntityId") for e in entities}
    out: list[ProviderEvent] = []
    for entity in entities:
        parent = entity.get("ParentEntityId")
        entity_id = entity.get("EntityId")
        if not parent or not entity_id or parent in local_ids:
            continue
        author = _author(entity, entities)
        if author == our_box:
            continue  # our own signatures and documents
        etype = entity.get("EntityType")
        atype = entity.get("AttachmentType")
        answers = None
        if etype == "Signature" or atype in REJECTION_TYPES:
            answers = our_request_answered(parent_of, message_id, str(parent), our_box)
            if answers is None:
                continue
            parent = answers[1]
        if our_documents is not None and not our_documents(message_id, str(parent)):
            continue
        kind: ProviderEventKind | None = None
        reason: str | None = None
        signature: bytes | None = None
        powers: tuple[bytes, ...] = ()
        operator: OperatorPoaStatus | None = None
        files: tuple[EventFile, ...] = ()
        title: tuple[bytes, bytes, dict[str, Any], Mapping[str, Any]] | None = None

        def content(entity: Mapping[str, Any] = entity) -> bytes:
            found = entity_content(entity)
            if found is None:
                found = load_content(message_id, str(entity["EntityId"]))
            return found

        if etype == "Signature" and answers and answers[0]:
            kind = ProviderEventKind.REVOKED  # the counterparty signed our revocation request
        elif etype == "Signature":
            if author is None:
                continue
            kind, signature = ProviderEventKind.SIGNED, content()
            powers, operator = signer_authority(entity, load_poa)
        elif etype != "Attachment":
            continue
        elif atype in TITLE_TYPES and author is not None:
            title = title_parts(entity, entities, content)
            if title is not None:
                kind, signature = ProviderEventKind.SIGNED, title[0]
                powers, operator = signer_authority(title[3], load_poa)
        elif atype in DELIVERY_TYPES:
            kind = ProviderEventKind.DELIVERED
        elif atype in REJECTION_TYPES:
            # The reason is read from the signed XML, which is kept with the exchange.
            ours = bool(answers and answers[0])
            kind = ProviderEventKind.REVOCATION_REJECTED if ours else ProviderEventKind.REJECTED
            data = content()
            reason = reason_text(data)
            role = "revocation_rejection" if ours else "rejection"
            files = signed_files(role, entity, entities, data, content)
        elif atype == REVOCATION:
            data = content()
            kind, reason = ProviderEventKind.REVOCATION_REQUESTED, reason_text(data)
            files = signed_files("revocation_request", entity, entities, data, content)
        elif atype == UNIVERSAL:
            data = content()
            code = universal_code(data)
            if code == UNIVERSAL_REJECTION:
                kind, reason = ProviderEventKind.REJECTED, reason_text(data)
            elif code == UNIVERSAL_RECEIPT:
                kind = ProviderEventKind.DELIVERED
        if kind is None:
            continue
        out.append(
            ProviderEvent(
                event_id=f"{event_id}:{entity_id}",
                kind=kind,
                document_id=f"{message_id}:{parent}",
                at=at,
                reason=reason or (_NO_REASON if kind in _REFUSALS else None),
                signature=signature,
                raw={
                    "EventId": event_id,
                    "IndexKey": box_event.get("IndexKey"),
                    "MessageId": message_id,
                    "EntityId": entity_id,
                    "EntityType": etype,
                    "AttachmentType": atype,
                },
                powers_of_attorney=powers,
                operator_status=operator,
                files=files
                if title is None
                else (EventFile(BUYER_TITLE, "buyer-title.xml", title[1], summary=title[2]),),
            )
        )
    return out


def read_box_event(
    box_event: Mapping[str, Any],
    our_box: str,
    load: ContentLoader,
    *,
    load_poa: Callable[[str, str], bytes] | None = None,
    parent_of: ParentOf | None = None,
) -> tuple[list[ProviderEvent], list[UnreadableEvent]]:
    """:func:`normalize`, with a box event that cannot be read reported, not raised
    (the feed quarantines it and moves on); an outage still raises."""
    try:
        return normalize(box_event, our_box, load, load_poa=load_poa, parent_of=parent_of), []
    except TransientError:
        raise
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}"
        return [], [UnreadableEvent(str(box_event.get("EventId") or ""), why, dict(box_event))]


__all__ = [
    "ContentLoader",
    "datetime_to_ticks",
    "next_cursor",
    "normalize",
    "reason_text",
    "signer_authority",
    "ticks_to_datetime",
    "universal_code",
]
