"""Diadoc's Docflow API (V3), ``POST /V3/GetDocflows``, in the model of :mod:`.proto`.

Facts from Diadoc's published proto definitions (``Docflow/DocflowApi.proto``,
``Docflow/DocflowApiV3.proto``, ``Docflow/DocumentWithDocflowV3.proto``,
``Docflow/DocflowV3.proto``, ``Docflow/AttachmentV3.proto``, ``Docflow/Attachment.proto``,
``Docflow/DocumentInfoV3.proto``, ``Docflow/LastEvent.proto``, ``DocumentId.proto``,
``Timestamp.proto``, ``FullVersion.proto``, ``DocumentDirection.proto``) and the method's page
(``http/GetDocflows_V3``): the request is a ``GetDocflowBatchRequest`` of at most 100
``GetDocflowRequest`` (one per document: ``DocumentId`` = message id + entity id), the answer
a ``GetDocflowBatchResponseV3`` listing ``DocumentWithDocflowV3``.

``DocflowV3`` has **no** ``IsFinished`` of its own (the obsolete V2 ``Docflow`` had one):
each part (``SenderTitle``, ``Confirmation``, ``RecipientReceipt``, ``RecipientResponse``,
``SenderReceipt``, ``AmendmentRequest``, ``Revocation``...) carries its own ``IsFinished``.

Only the fields this package reads or the fake answers are listed; the parts left out
(``Resolution``, ``ResolutionEntities``, ``OuterDocflows``, ``OuterDocflowEntities``,
``TtGisFixation``, ``RoamingNotification``, signature verification and МЧД details,
``DocumentInfoV3``'s letter/draft/template infos, ``CustomData``, ``Origin``) are ignored
by the client's tolerant reading. The package ``Diadoc.Api.Proto.Docflow`` has its own
``Entity`` and ``Attachment``; they are ``DocflowEntity`` and ``DocflowAttachment`` here
(model names only: JSON carries no type names). ``Timestamp.Ticks`` is ``sfixed64`` in the
proto, a number in JSON like the ``int64`` fields.
"""

from __future__ import annotations

from .proto import MessageModel, _message, _names

BATCH_LIMIT = 100  # GetDocflowBatchRequest: "at most 100 requests" (the method's page)

ENUMS = {
    "SenderSignatureStatus": _names(
        """
        UnknownSenderSignatureStatus WaitingForSenderSignature SenderSignatureUnchecked
        SenderSignatureCheckedAndValid SenderSignatureCheckedAndInvalid
        """
    ),
    "DocumentDirection": _names("UnknownDocumentDirection Inbound Outbound Internal"),
}

_MODELS = (
    # -- request -----------------------------------------------------------------
    _message("GetDocflowBatchRequest", "Requests:GetDocflowRequest*"),
    _message(
        "GetDocflowRequest",
        "DocumentId:DocumentId! LastEventId:string InjectEntityContent:bool",
    ),
    _message("DocumentId", "MessageId:string! EntityId:string!"),
    # -- answer ------------------------------------------------------------------
    _message("GetDocflowBatchResponseV3", "Documents:DocumentWithDocflowV3*"),
    _message(
        "DocumentWithDocflowV3",
        """
        DocumentId:DocumentId! LastEvent:LastEvent! DocumentInfo:DocumentInfoV3!
        Docflow:DocflowV3!
        """,
    ),
    _message("LastEvent", "EventId:string! Timestamp:Timestamp!"),
    _message("Timestamp", "Ticks:int64!"),
    _message(
        "DocumentInfoV3",
        """
        FullVersion:FullVersion! MessageType:MessageType! WorkflowId:int32!
        Participants:DocumentParticipants! DocumentDirection:DocumentDirection!
        DepartmentId:string! CustomDocumentId:string Metadata:MetadataItem*
        DocumentLinks:DocumentLinks! PacketInfo:PacketInfo! IsRead:bool! IsDeleted:bool!
        IsInvitation:bool! EditingSettingId:string
        """,
    ),
    _message("FullVersion", "TypeNamedId:string! Function:string! Version:string!"),
    _message(
        "DocumentParticipants",
        """
        Sender:DocumentParticipant! Proxy:DocumentParticipant Recipient:DocumentParticipant
        IsInternal:bool! IsCrossBorder:bool!
        """,
    ),
    _message("DocumentParticipant", "BoxId:string! DepartmentId:string IsRoaming:bool!"),
    _message("DocumentLinks", "InitialIds:DocumentId* SubordinateIds:DocumentId*"),
    _message("PacketInfo", "LockMode:LockMode! PacketId:string AddedAt:Timestamp"),
    _message(
        "DocflowV3",
        """
        SenderTitle:SenderTitleDocflow! Confirmation:ConfirmationDocflow
        ProxyResponse:ParticipantResponseDocflow RecipientReceipt:ReceiptDocflowV3
        RecipientResponse:ParticipantResponseDocflow AmendmentRequest:AmendmentRequestDocflow
        Revocation:RevocationDocflowV3 SenderReceipt:ReceiptDocflowV3
        DocflowStatus:DocflowStatusV3!
        """,
    ),
    _message(
        "SenderTitleDocflow",
        """
        IsFinished:bool! Attachment:SignedAttachmentV3! SentAt:Timestamp DeliveredAt:Timestamp
        SenderSignatureStatus:SenderSignatureStatus!
        """,
    ),
    _message(
        "ConfirmationDocflow",
        """
        IsFinished:bool! ConfirmationAttachment:SignedAttachmentV3 ConfirmedAt:Timestamp
        Receipt:ReceiptDocflowV3
        """,
    ),
    _message(
        "ParticipantResponseDocflow",
        """
        IsFinished:bool! Signature:SignatureV3 Title:SignedAttachmentV3
        Rejection:SignatureRejectionDocflow SentAt:Timestamp DeliveredAt:Timestamp
        ResponseStatus:RecipientResponseStatus! Confirmation:ConfirmationDocflow
        """,
    ),
    _message(
        "SignatureRejectionDocflow",
        """
        SignatureRejection:SignedAttachmentV3! IsFormal:bool! DeliveredAt:Timestamp
        PlainText:string
        """,
    ),
    _message(
        "AmendmentRequestDocflow",
        """
        IsFinished:bool! AmendmentRequest:SignedAttachmentV3 SentAt:Timestamp
        DeliveredAt:Timestamp Receipt:ReceiptDocflowV3 AmendmentFlags:int32! PlainText:string
        ConfirmationDocflow:ConfirmationDocflow
        """,
    ),
    _message(
        "RevocationDocflowV3",
        """
        IsFinished:bool! RevocationRequest:RevocationRequestDocflow!
        RevocationResponse:RevocationResponseDocflow InitiatorBoxId:string!
        RevocationStatus:RevocationStatus!
        """,
    ),
    _message(
        "RevocationRequestDocflow",
        """
        RevocationRequest:SignedAttachmentV3! SentAt:Timestamp DeliveredAt:Timestamp
        PlainText:string
        """,
    ),
    _message(
        "RevocationResponseDocflow",
        "RecipientSignature:SignatureV3 SignatureRejection:SignatureRejectionDocflow",
    ),
    _message(
        "ReceiptDocflowV3",
        """
        IsFinished:bool! ReceiptAttachment:SignedAttachmentV3 SentAt:Timestamp
        DeliveredAt:Timestamp Confirmation:ConfirmationDocflow Status:GeneralReceiptStatus!
        """,
    ),
    _message(
        "SignedAttachmentV3",
        """
        Attachment:DocflowAttachment! Signature:SignatureV3 Comment:DocflowEntity
        ContentTypeId:string!
        """,
    ),
    _message(
        "SignatureV3",
        """
        Cms:DocflowEntity! CadesT:DocflowEntity SignerBoxId:string! SignerDepartmentId:string!
        IsValid:bool! DeliveredAt:Timestamp
        """,
    ),
    _message(
        "DocflowAttachment",
        "Entity:DocflowEntity AttachmentFilename:string DisplayFilename:string",
    ),
    _message("DocflowEntity", "EntityId:string CreationTimestamp:Timestamp Content:Content"),
)
MODELS: dict[str, MessageModel] = {m.name: m for m in _MODELS}

__all__ = ["BATCH_LIMIT", "ENUMS", "MODELS"]
