"""Whether Diadoc's document flow of our documents is finished, read from GetDocflows (V3).

``POST /V3/GetDocflows`` answers up to 100 documents in one request (:mod:`.proto_docflow`);
the flows are asked in batches of that size. ``DocflowV3`` states no "finished" of the whole
flow: each part says ``IsFinished`` for itself. The flow counts as finished when:

* the recipient's response (``RecipientResponse.ResponseStatus``) is not still due
  (``WaitingForRecipientSignature``, ``WithRecipientPartiallySignature``);
* no receipt is due (``Status`` of ``RecipientReceipt``, ``SenderReceipt``,
  ``Confirmation.Receipt``, ``AmendmentRequest.Receipt``): ``HaveToCreateReceipt`` is ours to
  sign, ``WaitingForReceipt`` the counterparty's (GeneralReceiptStatus as Diadoc documents it);
* and no part among ``SenderTitle``, ``Confirmation``, ``RecipientReceipt``,
  ``RecipientResponse``, ``SenderReceipt``, ``AmendmentRequest``, ``ProxyResponse`` says
  ``IsFinished: false`` (waiting for the operator, when no status above names the party).

*Unconfirmed:* that this equals the flow Diadoc's own interface shows as finished in every
workflow (Diadoc does not publish one rule); how GetDocflows answers ids it cannot find: read
here as Diadoc's page and issue reports suggest (a document not found is left out of
``Documents``; ``404`` when none is found), so a document missing from the answer, or a 404 for
its batch, is "not found" for that document only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from edi_bridge.errors import EdiBridgeError, ProviderError, ProviderNotFound

from . import receipts
from .conformance import require
from .proto_docflow import BATCH_LIMIT

RESPONSE_DUE = frozenset({"WaitingForRecipientSignature", "WithRecipientPartiallySignature"})
RECEIPT_PARTS = (
    (("SenderReceipt",), "the receipt on the recipient's title"),
    (("RecipientReceipt",), "the recipient's receipt"),
    (("Confirmation", "Receipt"), "the receipt on the operator's confirmation"),
    (("AmendmentRequest", "Receipt"), "the receipt on the amendment request"),
)
PARTS = (
    "SenderTitle",
    "Confirmation",
    "RecipientReceipt",
    "RecipientResponse",
    "SenderReceipt",
    "AmendmentRequest",
    "ProxyResponse",
)
OURS, THEIRS = "HaveToCreateReceipt", "WaitingForReceipt"
Outcome = dict[str, Any] | EdiBridgeError


def _part(flow: Mapping[str, Any], path: Sequence[str]) -> Mapping[str, Any]:
    node: Any = flow
    for name in path:
        node = node.get(name) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def state(document: Mapping[str, Any]) -> dict[str, Any]:
    """``{"finished", "waiting_for", "pending_receipts"}`` of one DocumentWithDocflowV3:
    each wait ``{"party": "us"|"counterparty"|"operator", "what": text}``; our receipts due
    as ``{"entity_id", "answers", "file_name"}`` (the operator's confirmation they answer)."""
    flow = document["Docflow"]
    waiting: list[dict[str, str]] = []
    named: set[str] = set()
    if _part(flow, ("RecipientResponse",)).get("ResponseStatus") in RESPONSE_DUE:
        waiting.append({"party": "counterparty", "what": "the recipient's signature"})
        named.add("RecipientResponse")
    for path, what in RECEIPT_PARTS:
        status = _part(flow, path).get("Status")
        if status in (OURS, THEIRS):
            waiting.append({"party": "us" if status == OURS else "counterparty", "what": what})
            named.add(path[0])
    for name in PARTS:
        if name not in named and _part(flow, (name,)).get("IsFinished") is False:
            waiting.append({"party": "operator", "what": f"{name} not finished"})
    due = []
    confirmation = _part(flow, ("Confirmation",))
    if _part(confirmation, ("Receipt",)).get("Status") == OURS:
        attachment = _part(confirmation, ("ConfirmationAttachment", "Attachment"))
        due.append(
            {
                "entity_id": str(_part(attachment, ("Entity",)).get("EntityId") or ""),
                # DocflowV3 names no AttachmentType: the confirmation that asks a receipt
                # of the sender is the operator's InvoiceConfirmation (.receipts).
                "answers": receipts.CONFIRMATION,
                "file_name": str(attachment.get("AttachmentFilename") or ""),
            }
        )
    return {"finished": not waiting, "waiting_for": waiting, "pending_receipts": due}


def _documents(answer: Any) -> dict[tuple[str, str], Mapping[str, Any] | ProviderError]:
    """The answer's documents by (message id, entity id); one that does not fit the model
    is that document's error, not the batch's."""
    documents = answer.get("Documents") if isinstance(answer, Mapping) else None
    if not isinstance(documents if documents is not None else [], list):
        raise ProviderError(
            "Diadoc answered GetDocflows without a Documents list", provider="diadoc", status=None
        )
    found: dict[tuple[str, str], Mapping[str, Any] | ProviderError] = {}
    for document in documents or []:
        ids = document.get("DocumentId") if isinstance(document, Mapping) else None
        if not isinstance(ids, Mapping):
            continue  # whose it is cannot be told: its request ends "not in the answer"
        key = (str(ids.get("MessageId")), str(ids.get("EntityId")))
        try:
            found[key] = require(document, "DocumentWithDocflowV3")
        except ProviderError as exc:
            found[key] = exc
    return found


def _batch(client: Any, box: str, ids: list[tuple[str, str]]) -> list[Outcome]:
    try:
        found = _documents(client.docflows(box, ids))
    except ProviderNotFound:
        found = {}  # 404: none of these documents is in the box (see above)
    except EdiBridgeError as exc:
        return [exc] * len(ids)  # an outage or a garbled answer: each one's outcome
    outcomes: list[Outcome] = []
    for message_id, entity_id in ids:
        document = found.get((message_id, entity_id))
        if document is None:
            outcomes.append(
                ProviderNotFound(
                    f"GetDocflows has no document {message_id}:{entity_id} in this box",
                    provider="diadoc",
                )
            )
        elif isinstance(document, EdiBridgeError):
            outcomes.append(document)
        else:
            outcomes.append(state(document))
    return outcomes


def follow(
    client: Any, context: Any | None, box: str, refs: Sequence[Mapping[str, str]]
) -> list[Outcome]:
    """Each flow's state, or why it was not read, in the order of ``refs``. With a
    ``context``, the receipts still due from us are sent first (one refused or missed while
    the feed was read): by the same :func:`.receipts.answer`, idempotent on its operationId."""
    outcomes: list[Outcome | None] = [None] * len(refs)
    asked: list[tuple[int, str, str]] = []
    for i, ref in enumerate(refs):
        if ref.get("message_id") and ref.get("entity_id"):
            asked.append((i, ref["message_id"], ref["entity_id"]))
        else:
            outcomes[i] = ProviderNotFound(
                "no Diadoc message/entity id in this reference", provider="diadoc"
            )
    for start in range(0, len(asked), BATCH_LIMIT):
        chunk = asked[start : start + BATCH_LIMIT]
        read = _batch(client, box, [(m, e) for _i, m, e in chunk])
        for (i, message_id, entity_id), outcome in zip(chunk, read, strict=True):
            if context is not None and isinstance(outcome, dict) and outcome["pending_receipts"]:
                outcome = _answer_receipts(client, context, box, message_id, entity_id, outcome)
            outcomes[i] = outcome
    return [o for o in outcomes if o is not None]


def one(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The state of the one flow asked, or its error raised."""
    [found] = outcomes
    if isinstance(found, EdiBridgeError):
        raise found
    return found


def _answer_receipts(
    client: Any, context: Any, box: str, message_id: str, entity_id: str, found: Outcome
) -> Outcome:
    try:
        message = client.get_message(box, message_id)
        if receipts.answer(client, context, box, {"Message": message}):
            return _batch(client, box, [(message_id, entity_id)])[0]
    except EdiBridgeError as exc:
        return exc
    return found


__all__ = ["PARTS", "RECEIPT_PARTS", "RESPONSE_DUE", "follow", "one", "state"]
