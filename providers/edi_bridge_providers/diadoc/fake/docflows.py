"""``POST /V3/GetDocflows`` at the fake: the documents' flows, from the same messages,
entities and ``DocumentInfo`` that ``GetMessage`` answers with.

What a part of ``DocflowV3`` says is read off the message (fields as in
:mod:`..proto_docflow`): ``RecipientResponse`` from ``RecipientResponseStatus`` (with the
counterparty's signature, title or rejection), ``RecipientReceipt`` from
``RecipientReceiptMetadata``, ``Confirmation`` (the operator's ``InvoiceConfirmation``) with
the sender's receipt on it from ``SenderReceiptMetadata`` (the fake keeps that receipt's
status there), ``Revocation`` from ``RevocationStatus`` and the request's entity.

*Unconfirmed* (the fake's own choices, not published by Diadoc): a document that cannot be
found is left out of ``Documents`` (a draft was, diadocsdk-csharp issue 786) and the answer
is ``404`` only when none of the requested documents is found (the method's page: "no
documents with these ids in the box"), with ``X-Diadoc-ErrorCode`` ``DiadocApi.NotFound``;
the moment ``SenderTitle.IsFinished`` turns true (here: once sent); ``DepartmentId`` of the
head department (here: the empty GUID); ``ContentTypeId`` of an entity without one (empty).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..conformance import build, differences
from ..proto_docflow import BATCH_LIMIT
from .validate import ApiError, bad
from .world import World

HEAD_DEPARTMENT = "00000000-0000-0000-0000-000000000000"
CONTENT_BUDGET = 1_048_576  # bytes of Content.Data in one answer (the method's page)
RESPONSE_DUE = ("WaitingForRecipientSignature", "WithRecipientPartiallySignature")
RECEIPT_DONE = ("Finished", "GeneralReceiptStatusNotAcceptable")
REVOCATION_DONE = ("RevocationAccepted", "RevocationRejected")


def answer(world: World, box: str, body: Any) -> dict[str, Any]:
    """The GetDocflowBatchResponseV3 for ``body`` (a GetDocflowBatchRequest)."""
    found = differences(body, "GetDocflowBatchRequest", strict=False)
    if found:
        raise bad("; ".join(found[:3]))
    requests = body.get("Requests") or []
    if len(requests) > BATCH_LIMIT:
        raise bad(f"Requests: at most {BATCH_LIMIT} documents in one request")
    budget = [CONTENT_BUDGET]
    documents = []
    for request in requests:
        ids = request["DocumentId"]
        message = world.messages.get(ids["MessageId"])
        if message is None or box not in (message["FromBoxId"], message["ToBoxId"]):
            continue
        entity = _by_id(message, ids["EntityId"])
        if entity is None or not isinstance(entity.get("DocumentInfo"), Mapping):
            continue
        inject = budget if request.get("InjectEntityContent") else None
        documents.append(_document(world, box, message, entity, inject))
    if requests and not documents:
        raise ApiError(404, "DiadocApi.NotFound", "no documents with these ids in the box")
    return build("GetDocflowBatchResponseV3", Documents=documents)


def _by_id(message: Mapping[str, Any], entity_id: str | None) -> dict[str, Any] | None:
    return next((e for e in message["Entities"] if e["EntityId"] == entity_id), None)


def _children(message: Mapping[str, Any], parent: str, kind: str) -> list[dict[str, Any]]:
    return [
        e
        for e in message["Entities"]
        if e.get("ParentEntityId") == parent
        and (e.get("AttachmentType") == kind or e.get("EntityType") == kind)
    ]


def _ticks(value: Any) -> dict[str, Any] | None:
    return build("Timestamp", Ticks=int(value)) if value else None


def _entity(entity: Mapping[str, Any], inject: list[int] | None) -> dict[str, Any]:
    content = {"Size": entity["Content"]["Size"]}
    data = entity["Content"].get("Data")
    if inject is not None and data and inject[0] >= len(data) * 3 // 4:
        inject[0] -= len(data) * 3 // 4  # past the budget, content is left for GetEntityContent
        content["Data"] = data
    return build(
        "DocflowEntity",
        EntityId=entity["EntityId"],
        CreationTimestamp=_ticks(entity.get("RawCreationDate")),
        Content=content,
    )


def _signature(entity: Mapping[str, Any], inject: list[int] | None) -> dict[str, Any]:
    return build(
        "SignatureV3",
        Cms=_entity(entity, inject),
        SignerBoxId=entity.get("SignerBoxId") or "",
        SignerDepartmentId=HEAD_DEPARTMENT,
        IsValid=True,
    )


def _signed(
    message: Mapping[str, Any], entity: Mapping[str, Any], inject: list[int] | None
) -> dict[str, Any]:
    signatures = _children(message, entity["EntityId"], "Signature")
    return build(
        "SignedAttachmentV3",
        Attachment=build(
            "DocflowAttachment",
            Entity=_entity(entity, inject),
            AttachmentFilename=entity.get("FileName"),
        ),
        Signature=_signature(signatures[0], inject) if signatures else None,
        ContentTypeId=entity.get("ContentTypeId") or "",
    )


def _receipt(
    message: Mapping[str, Any], parent: str, status: str, by: str, inject: list[int] | None
) -> dict[str, Any]:
    """A ReceiptDocflowV3: the receipt (signed by box ``by``) under ``parent``, if any."""
    made = [
        r
        for r in _children(message, parent, "Receipt")
        if any(s.get("SignerBoxId") == by for s in _children(message, r["EntityId"], "Signature"))
    ]
    return build(
        "ReceiptDocflowV3",
        IsFinished=status in RECEIPT_DONE,
        ReceiptAttachment=_signed(message, made[0], inject) if made else None,
        Status=status,
    )


def _document(
    world: World,
    box: str,
    message: Mapping[str, Any],
    entity: Mapping[str, Any],
    inject: list[int] | None,
) -> dict[str, Any]:
    info, doc_id = entity["DocumentInfo"], entity["EntityId"]
    sender, recipient = message["FromBoxId"], message["ToBoxId"]
    event_id, ticks = world.last_events.get(
        (box, message["MessageId"]), ("", message["LastPatchTimestampTicks"])
    )
    return build(
        "DocumentWithDocflowV3",
        DocumentId=build("DocumentId", MessageId=message["MessageId"], EntityId=doc_id),
        LastEvent=build("LastEvent", EventId=event_id, Timestamp=_ticks(ticks)),
        DocumentInfo=build(
            "DocumentInfoV3",
            FullVersion=build(
                "FullVersion",
                TypeNamedId=info["TypeNamedId"],
                Function=info["Function"],
                Version=info["Version"],
            ),
            MessageType=message["MessageType"],
            WorkflowId=info["WorkflowId"],
            Participants=build(
                "DocumentParticipants",
                Sender=build("DocumentParticipant", BoxId=sender, IsRoaming=False),
                Recipient=build("DocumentParticipant", BoxId=recipient, IsRoaming=False),
                IsInternal=False,
                IsCrossBorder=False,
            ),
            DocumentDirection="Outbound" if box == sender else "Inbound",
            DepartmentId=HEAD_DEPARTMENT,
            CustomDocumentId=info.get("CustomDocumentId"),
            Metadata=info.get("Metadata"),
            DocumentLinks=build("DocumentLinks"),
            PacketInfo=build("PacketInfo", LockMode=info["LockMode"]),
            IsRead=bool(info.get("IsRead")),
            IsDeleted=bool(info.get("IsDeleted")),
            IsInvitation=False,
        ),
        Docflow=_docflow(message, entity, inject),
    )


def _docflow(
    message: Mapping[str, Any], entity: Mapping[str, Any], inject: list[int] | None
) -> dict[str, Any]:
    info, doc_id = entity["DocumentInfo"], entity["EntityId"]
    sender, recipient = message["FromBoxId"], message["ToBoxId"]
    parts: dict[str, Any] = {}
    response = info["RecipientResponseStatus"]
    if response != "RecipientResponseStatusNotAcceptable":
        theirs = [
            s for s in _children(message, doc_id, "Signature") if s.get("SignerBoxId") == recipient
        ]
        rejections = _children(message, doc_id, "XmlSignatureRejection")
        titles = _children(message, doc_id, "Title")
        parts["RecipientResponse"] = build(
            "ParticipantResponseDocflow",
            IsFinished=response not in RESPONSE_DUE,
            Signature=_signature(theirs[0], inject) if theirs else None,
            Title=_signed(message, titles[0], inject) if titles else None,
            Rejection=build(
                "SignatureRejectionDocflow",
                SignatureRejection=_signed(message, rejections[0], inject),
                IsFormal=False,
            )
            if rejections
            else None,
            ResponseStatus=response,
        )
    status = info["RecipientReceiptMetadata"]["ReceiptStatus"]
    parts["RecipientReceipt"] = _receipt(message, doc_id, status, recipient, inject)
    for confirmation in _children(message, doc_id, "InvoiceConfirmation")[:1]:
        status = info["SenderReceiptMetadata"]["ReceiptStatus"]
        receipt = _receipt(message, confirmation["EntityId"], status, sender, inject)
        parts["Confirmation"] = build(
            "ConfirmationDocflow",
            IsFinished=receipt["IsFinished"],
            ConfirmationAttachment=_signed(message, confirmation, inject),
            ConfirmedAt=_ticks(confirmation.get("RawCreationDate")),
            Receipt=receipt,
        )
    revocation = info.get("RevocationStatus")
    for request in _children(message, doc_id, "RevocationRequest")[-1:]:
        signed = _signed(message, request, inject)
        parts["Revocation"] = build(
            "RevocationDocflowV3",
            IsFinished=revocation in REVOCATION_DONE,
            RevocationRequest=build("RevocationRequestDocflow", RevocationRequest=signed),
            InitiatorBoxId=(signed.get("Signature") or {}).get("SignerBoxId") or "",
            RevocationStatus=revocation or "UnknownRevocationStatus",
        )
    return build(
        "DocflowV3",
        SenderTitle=build(
            "SenderTitleDocflow",
            IsFinished=True,
            Attachment=_signed(message, entity, inject),
            SentAt=_ticks(info.get("SendTimestampTicks")),
            SenderSignatureStatus="SenderSignatureCheckedAndValid",
        ),
        DocflowStatus=info["DocflowStatus"],
        **parts,
    )


__all__ = ["answer"]
