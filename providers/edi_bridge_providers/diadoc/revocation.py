"""Annulling a signed document in Diadoc, both ways.

* We ask: ``POST /V2/GenerateRevocationRequestXml`` (``RevocationRequestInfo``: the comment
  and our certificate) gives the revocation request (предложение об аннулировании, format
  1.02); we sign it and post it in ``PostMessagePatch`` as ``RevocationRequests``.
* We accept the counterparty's request: our signature under its ``RevocationRequest``
  attachment, in ``PostMessagePatch`` as ``Signatures``.
* We refuse it: ``POST /V2/GenerateSignatureRejectionXml`` on the request's entity gives the
  refusal (уведомление об уточнении); signed, it goes as ``XmlSignatureRejections``.

Our МЧД, when configured, travels with each signature (``PowerOfAttorneyToPost``). Each patch
carries an ``operationId`` derived from the Bridge's operation key, so a repeated call is one
patch at Diadoc.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from edi_bridge.errors import ConfigurationError, Conflict
from edi_bridge.provider import RevocationRequest

from .client import DiadocClient
from .conformance import build
from .feed import REJECTION_TYPES, REVOCATION, entity_content
from .receipts import signer_content
from .wire import power_of_attorney_to_post

Entity = Mapping[str, Any]


def patch_operation_id(operation_key: str) -> str:
    return "edib-rev-" + hashlib.sha256(operation_key.encode()).hexdigest()[:32]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _signed(request: RevocationRequest, content: bytes) -> dict[str, Any]:
    poa = request.power_of_attorney
    return build(
        "SignedContent",
        Content=_b64(content),
        Signature=_b64(request.signer.sign(content)),
        PowerOfAttorney=power_of_attorney_to_post(poa) if poa is not None else None,
    )


def _children(entities: Sequence[Entity], parent: str) -> list[Entity]:
    return [e for e in entities if e.get("ParentEntityId") == parent]


def _author(entities: Sequence[Entity], entity_id: str) -> str | None:
    for child in _children(entities, entity_id):
        if child.get("EntityType") == "Signature":
            return str(child.get("SignerBoxId") or "") or None
    return None


def counterparty_request(
    entities: Sequence[Entity], our_box: str, document: str
) -> tuple[Entity | None, str | None]:
    """The latest revocation request the counterparty made on ``document``, and our answer
    to it so far (``accept``, ``reject`` or None)."""
    requests = [
        e
        for e in _children(entities, document)
        if e.get("AttachmentType") == REVOCATION
        and _author(entities, str(e["EntityId"])) != our_box
    ]
    if not requests:
        return None, None
    latest = requests[-1]
    answer = None
    for child in _children(entities, str(latest["EntityId"])):
        if child.get("EntityType") == "Signature" and child.get("SignerBoxId") == our_box:
            answer = "accept"
        elif (
            child.get("AttachmentType") in REJECTION_TYPES
            and _author(entities, str(child["EntityId"])) == our_box
        ):
            answer = "reject"
    return latest, answer


class ParentLookup:
    """The entity a new signature or rejection hangs under, with its author, read from
    ``GetMessage`` once per message per poll: a counterparty's signature under *our*
    revocation request accepts it, where one under our document signs the document. Only
    messages with an open revocation request are looked up (the Bridge names them before
    each poll, :meth:`Provider.awaiting_revocation`), so plain signing costs no call."""

    def __init__(self, client: DiadocClient, box: str, watched: frozenset[str]) -> None:
        self.client = client
        self.box = box
        self.watched = watched  # messages with an open revocation request (the Bridge's)
        self._messages: dict[str, list[Entity]] = {}

    def __call__(self, message_id: str, entity_id: str) -> tuple[Entity, str | None] | None:
        if message_id not in self.watched:
            return None  # no request open: a signature there signs the document
        if message_id not in self._messages:
            message = self.client.get_message(self.box, message_id)
            found = [e for e in message.get("Entities") or [] if isinstance(e, Mapping)]
            self._messages[message_id] = found
        entities = self._messages[message_id]
        entity = next((e for e in entities if e.get("EntityId") == entity_id), None)
        return None if entity is None else (entity, _author(entities, entity_id))


def discover_box(client: DiadocClient, inn: str | None) -> str:
    """Our box: the one box of our organization (GetMyOrganizations), by INN if given."""
    orgs = client.my_organizations()
    if inn:
        orgs = [o for o in orgs if o.get("Inn") == inn]
    boxes = [str(b["BoxId"]) for o in orgs for b in o.get("Boxes") or [] if b.get("BoxId")]
    if len(boxes) != 1:
        found = ", ".join(boxes) or "none"
        raise ConfigurationError(
            f"diadoc: cannot choose our box (found: {found}); set diadoc.box_id "
            "(EDI_BRIDGE_DIADOC_BOX_ID) or diadoc.inn"
        )
    return boxes[0]


def request_revocation(client: DiadocClient, box: str, request: RevocationRequest) -> None:
    message_id, entity_id = request.ref["message_id"], request.ref["entity_id"]
    info = build(
        "RevocationRequestInfo",
        Comment=request.reason,
        Signer=build("Signer", SignerCertificate=_b64(request.signer.certificate)),
    )
    xml = client.generate_revocation_request_xml(box, message_id, entity_id, info)
    attachment = build(
        "RevocationRequestAttachment", ParentEntityId=entity_id, SignedContent=_signed(request, xml)
    )
    patch = build(
        "MessagePatchToPostV2", BoxId=box, MessageId=message_id, RevocationRequests=[attachment]
    )
    client.post_message_patch(patch, patch_operation_id(request.operation_key))


def answer_revocation(
    client: DiadocClient, box: str, request: RevocationRequest, *, accept: bool
) -> None:
    """Sign (accept) or refuse the counterparty's pending revocation request."""
    message_id, entity_id = request.ref["message_id"], request.ref["entity_id"]
    message = client.get_message(box, message_id)
    entities = [e for e in message.get("Entities") or [] if isinstance(e, Mapping)]
    found, answered = counterparty_request(entities, box, entity_id)
    verb = "accept" if accept else "reject"
    if found is None:
        raise Conflict(
            "no revocation request from the counterparty on this document", provider="diadoc"
        )
    if answered == verb:
        return  # answered already (a retry): nothing is posted twice
    if answered is not None:
        raise Conflict(
            f"the revocation request was already answered ({answered})", provider="diadoc"
        )
    target = str(found["EntityId"])
    parts: dict[str, Any]
    if accept:
        content = entity_content(found) or client.entity_content(box, message_id, target)
        poa = request.power_of_attorney
        signature = build(
            "DocumentSignature",
            ParentEntityId=target,
            Signature=_b64(request.signer.sign(content)),
            PowerOfAttorney=power_of_attorney_to_post(poa) if poa is not None else None,
        )
        parts = {"Signatures": [signature]}
    else:
        generation = build(
            "SignatureRejectionGenerationRequestV2",
            ErrorMessage=request.reason,
            MessageId=message_id,
            AttachmentId=target,
            SignerContent=_b64(signer_content(request.signer)),
        )
        xml = client.generate_signature_rejection_xml(box, generation)
        rejection = build(
            "XmlSignatureRejectionAttachment",
            ParentEntityId=target,
            SignedContent=_signed(request, xml),
        )
        parts = {"XmlSignatureRejections": [rejection]}
    patch = build("MessagePatchToPostV2", BoxId=box, MessageId=message_id, **parts)
    client.post_message_patch(patch, patch_operation_id(request.operation_key))


__all__ = [
    "ParentLookup",
    "answer_revocation",
    "counterparty_request",
    "discover_box",
    "patch_operation_id",
    "request_revocation",
]
