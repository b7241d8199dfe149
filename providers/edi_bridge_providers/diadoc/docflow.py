"""Whether Diadoc's document flow of one of our documents is finished, read from GetMessage.

Diadoc's full answer is ``DocflowV3.IsFinished`` ("the document flow is finished and needs
no further action"), returned by ``POST /V3/GetDocflows``. This package reads the same
state from the ``Document`` it already receives in ``GetMessage`` (``Entity.DocumentInfo``):

* ``RecipientResponseStatus`` ``WaitingForRecipientSignature`` or
  ``WithRecipientPartiallySignature``: the recipient's signature is still due;
* each receipt metadata (``SenderReceiptMetadata``, ``RecipientReceiptMetadata``,
  ``ConfirmationMetadata``, ``AmendmentRequestMetadata``) whose ``GeneralReceiptStatus`` is
  ``HaveToCreateReceipt`` (we must sign a receipt) or ``WaitingForReceipt`` (the
  counterparty's receipt is awaited); ``Finished`` and ``GeneralReceiptStatusNotAcceptable``
  need nothing more (meanings as Diadoc's GeneralReceiptStatus documents them).

The flow counts as finished when none of these is due. *Unconfirmed:* that this reading
equals ``DocflowV3.IsFinished`` in every workflow (Diadoc does not publish the rule behind
``IsFinished``); GetDocflows is not called here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edi_bridge.errors import ProviderNotFound

from . import receipts

RESPONSE_DUE = frozenset({"WaitingForRecipientSignature", "WithRecipientPartiallySignature"})
RECEIPT_PARTS = (
    ("SenderReceiptMetadata", "the receipt on the recipient's title"),
    ("RecipientReceiptMetadata", "the recipient's receipt"),
    ("ConfirmationMetadata", "the receipt on the operator's confirmation"),
    ("AmendmentRequestMetadata", "the receipt on the amendment request"),
)
OURS, THEIRS = "HaveToCreateReceipt", "WaitingForReceipt"


def document_info(message: Mapping[str, Any], entity_id: str) -> Mapping[str, Any]:
    for entity in message.get("Entities") or []:
        if isinstance(entity, Mapping) and entity.get("EntityId") == entity_id:
            info = entity.get("DocumentInfo")
            if isinstance(info, Mapping):
                return info
            break
    raise ProviderNotFound(
        f"message {message.get('MessageId')} has no document {entity_id}", provider="diadoc"
    )


def state(message: Mapping[str, Any], box: str, entity_id: str) -> dict[str, Any]:
    """``{"finished": bool, "waiting_for": [...]}``: what the flow still waits for, each
    ``{"party": "us"|"counterparty", "what": text}``; our receipts due also in
    ``pending_receipts`` (as :func:`.receipts.pending` lists them)."""
    info = document_info(message, entity_id)
    waiting: list[dict[str, str]] = []
    if info.get("RecipientResponseStatus") in RESPONSE_DUE:
        waiting.append({"party": "counterparty", "what": "the recipient's signature"})
    for field, what in RECEIPT_PARTS:
        part = info.get(field)
        status = part.get("ReceiptStatus") if isinstance(part, Mapping) else None
        if status == OURS:
            waiting.append({"party": "us", "what": what})
        elif status == THEIRS:
            waiting.append({"party": "counterparty", "what": what})
    due = receipts.pending(message, box, entity_id)
    return {"finished": not waiting and not due, "waiting_for": waiting, "pending_receipts": due}


def follow(client: Any, context: Any | None, box: str, ref: Mapping[str, str]) -> dict[str, Any]:
    """The flow's state, after sending (with a ``context``) the receipts still due from us:
    one refused or missed while the feed was read is made here, on a later poll, by the
    same :func:`.receipts.answer` (idempotent on its operationId)."""
    if not ref.get("message_id") or not ref.get("entity_id"):
        raise ProviderNotFound("no Diadoc message/entity id in this reference", provider="diadoc")
    message = client.get_message(box, ref["message_id"])
    found = state(message, box, ref["entity_id"])
    if (
        context is not None
        and found["pending_receipts"]
        and receipts.answer(client, context, box, {"Message": message})
    ):
        found = state(client.get_message(box, ref["message_id"]), box, ref["entity_id"])
    return found


__all__ = ["RECEIPT_PARTS", "RESPONSE_DUE", "document_info", "follow", "state"]
