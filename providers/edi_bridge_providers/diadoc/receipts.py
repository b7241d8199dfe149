"""Receipts (ИОП) Diadoc asks of us, generated, signed and sent while the feed is read.

Diadoc asks the sender of a УПД with an invoice function (СЧФ, СЧФДОП) for a receipt on the
operator's ``InvoiceConfirmation``; that attachment arriving on a document of ours is the
cue. The receipt XML comes from ``POST /V2/GenerateReceiptXml`` (ReceiptGenerationRequestV2),
is signed with the adapter's signer (a detached CMS) and goes back in
``POST /V4/PostMessagePatch`` as ``Receipts[{ParentEntityId, SignedContent}]``. The
``operationId`` is derived from the confirmation's id, so a repeated box event (a known
Diadoc fault) or a retry sends nothing twice. When our signer is an employee, the receipt's
``SignedContent.PowerOfAttorney`` carries our МЧД (:func:`.ourpoa.signature_power_of_attorney`).
Receipts on documents we *received* follow
the same path once inbound documents are read.

*Unconfirmed:* the layout of ``SignerContent`` (the signer's details for the XML) is not
published as a schema here; we send a small XML naming the signer from the certificate.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import quoteattr

from asn1crypto import x509

from edi_bridge.errors import Conflict, ProviderNotFound, RejectedRequest, ValidationError
from edi_bridge.provider import ProviderContext
from edi_bridge.signing import Signer
from edi_bridge.signing.identity import identity_from_certificate

from .client import DiadocClient
from .conformance import build
from .ourpoa import signature_power_of_attorney

CONFIRMATION = "InvoiceConfirmation"
log = logging.getLogger("edi_bridge.diadoc")


def receipt_operation_id(parent_entity_id: str) -> str:
    return "edib-rcpt-" + hashlib.sha256(parent_entity_id.encode()).hexdigest()[:32]


def wanted(body: Mapping[str, Any], our_box: str) -> list[str]:
    """Entity ids in a Message/Patch that need our receipt (operator confirmations)."""
    entities = [e for e in body.get("Entities") or [] if isinstance(e, Mapping)]
    have = {
        e.get("ParentEntityId")
        for e in entities
        if e.get("AttachmentType") == "Receipt" and _signed_by(e, entities, our_box)
    }
    return [
        str(e["EntityId"])
        for e in entities
        if e.get("AttachmentType") == CONFIRMATION and e.get("EntityId") not in have
    ]


def pending(message: Mapping[str, Any], box: str, entity_id: str) -> list[dict[str, str]]:
    """The receipts Diadoc still expects from us on our document ``entity_id``: each
    operator's confirmation under it that has no receipt signed by our box yet."""
    due = set(wanted(message, box))
    return [
        {
            "entity_id": str(e["EntityId"]),
            "answers": str(e.get("AttachmentType")),
            "file_name": str(e.get("FileName") or ""),
        }
        for e in message.get("Entities") or []
        if isinstance(e, Mapping)
        and e.get("EntityId") in due
        and e.get("ParentEntityId") == entity_id
    ]


def _asks(entities: Any) -> bool:
    """Whether any entity is an operator's confirmation (a loop: no generator per event)."""
    for e in entities or ():
        if (type(e) is dict or isinstance(e, Mapping)) and e.get("AttachmentType") == CONFIRMATION:
            return True
    return False


def _signed_by(entity: Mapping[str, Any], entities: Sequence[Mapping[str, Any]], box: str) -> bool:
    return any(
        s.get("EntityType") == "Signature"
        and s.get("ParentEntityId") == entity.get("EntityId")
        and s.get("SignerBoxId") == box
        for s in entities
    )


def signer_content(signer: Signer) -> bytes:
    """The signer's details for GenerateReceiptXml (layout unconfirmed, see above)."""
    identity = identity_from_certificate(x509.Certificate.load(signer.certificate))
    return f"<Signer Name={quoteattr(identity.full_name or '')}/>".encode()


def send_receipt(
    client: DiadocClient,
    signer: Signer,
    box: str,
    message_id: str,
    parent: str,
    power_of_attorney: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Generate, sign and post one receipt; ``power_of_attorney``: our PowerOfAttorneyToPost."""
    request = build(
        "ReceiptGenerationRequestV2",
        MessageId=message_id,
        AttachmentId=parent,
        SignerContent=base64.b64encode(signer_content(signer)).decode("ascii"),
    )
    xml = client.generate_receipt_xml(box, request)
    signed = build(
        "SignedContent",
        Content=base64.b64encode(xml).decode("ascii"),
        Signature=base64.b64encode(signer.sign(xml)).decode("ascii"),
        # An employee's receipt carries our МЧД like the document did.
        **({"PowerOfAttorney": dict(power_of_attorney)} if power_of_attorney else {}),
    )
    patch = build(
        "MessagePatchToPostV2",
        BoxId=box,
        MessageId=message_id,
        Receipts=[build("ReceiptAttachment", ParentEntityId=parent, SignedContent=signed)],
    )
    return client.post_message_patch(patch, receipt_operation_id(parent))


def answer(
    client: DiadocClient, context: ProviderContext, box: str, box_event: Mapping[str, Any]
) -> int:
    """Send the receipts one box event asks of us; returns how many were sent."""
    body = box_event.get("Patch") or box_event.get("Message")
    if not isinstance(body, Mapping) or not body.get("MessageId"):
        return 0
    if not _asks(body.get("Entities")):
        return 0  # most box events: nothing asks a receipt of us (this runs for each one)
    sent = 0
    signer = context.signer
    for parent in wanted(body, box):
        if signer is None:
            log.warning("diadoc: a receipt is due on %s but no signer is configured", parent)
            continue
        try:
            poa = signature_power_of_attorney(context)
        except ValidationError as exc:
            # Our МЧД cannot be right: Diadoc would refuse the receipt; say why, send none.
            log.warning("diadoc: the receipt on %s is not sent: %s", parent, exc)
            continue
        try:
            send_receipt(client, signer, box, str(body["MessageId"]), parent, poa)
        except (RejectedRequest, ProviderNotFound, Conflict) as exc:
            # Refused for good: one bad receipt never stops the feed (transient errors
            # propagate, so the cursor stays and the next poll tries again).
            log.warning("diadoc: the receipt on %s was refused: %s", parent, exc)
            continue
        sent += 1
    return sent


__all__ = [
    "CONFIRMATION",
    "answer",
    "pending",
    "receipt_operation_id",
    "send_receipt",
    "wanted",
]
