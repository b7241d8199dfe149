"""A typed model of the Diadoc messages this package sends and reads.

Field names, required fields and enum spellings follow Diadoc's published proto2
definitions (``proto/Events/DiadocMessage-GetApi.proto``, ``DiadocMessage-PostApi.proto``,
``Documents/Document.proto``, ``Documents/DocumentList.proto``, ``Organization.proto``,
``DocflowStatusV3.proto``, ``LockMode.proto``, ``TotalCountType.proto``, ``Content.proto``).
Only the fields that matter here are listed for the larger messages; a field not listed
is reported as unknown by :func:`differences`, so the fake cannot invent one. In JSON
(Diadoc's ``application/json`` mode) a ``bytes`` field is base64 text, an enum is its
name, a message is an object and a repeated field a list.

The checks that read bodies against this model are in :mod:`.conformance`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

SCALARS = frozenset({"string", "bool", "int32", "int64", "bytes"})


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    type: str  # a scalar, an enum or a message name
    required: bool = False
    repeated: bool = False


@dataclasses.dataclass(frozen=True)
class MessageModel:
    name: str
    fields: Mapping[str, Field]


def _message(name: str, specs: str) -> MessageModel:
    """Fields as ``Name:type`` words; a trailing ``!`` marks required, ``*`` repeated."""
    fields: dict[str, Field] = {}
    for spec in specs.split():
        field, _, kind = spec.partition(":")
        required, repeated = kind.endswith("!"), kind.endswith("*")
        fields[field] = Field(field, kind.rstrip("!*"), required, repeated)
    return MessageModel(name, fields)


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


ENUMS: dict[str, frozenset[str]] = {
    "EntityType": _names("UnknownEntityType Attachment Signature"),
    # The attachment types this package meets; the proto lists about seventy.
    "AttachmentType": _names(
        """
        UnknownAttachmentType Nonformalized Invoice InvoiceReceipt InvoiceConfirmation
        SignatureRequestRejection
        XmlAcceptanceCertificate Receipt XmlSignatureRejection RevocationRequest Contract
        SupplementaryAgreement UniversalTransferDocument UniversalTransferDocumentBuyerTitle
        UniversalCorrectionDocument Title UniversalMessage
        """
    ),
    "MessageType": _names("Unknown Letter Draft Template"),
    "LockMode": _names("Unknown None Send Full"),
    "TotalCountType": _names("UnknownCountType Equal GreaterThanOrEqual"),
    "GeneralReceiptStatus": _names(
        """
        GeneralReceiptStatusUnknown GeneralReceiptStatusNotAcceptable HaveToCreateReceipt
        WaitingForReceipt Finished
        """
    ),
    "RecipientResponseStatus": _names(
        """
        RecipientResponseStatusUnknown RecipientResponseStatusNotAcceptable
        WaitingForRecipientSignature WithRecipientSignature
        RecipientSignatureRequestRejected InvalidRecipientSignature
        WithRecipientPartiallySignature
        """
    ),
    "RevocationStatus": _names(
        """
        UnknownRevocationStatus RevocationStatusNone RevocationIsRequestedByMe
        RequestsMyRevocation RevocationAccepted RevocationRejected
        """
    ),
    "Sociability": _names("AllOrganizations CounteragentsOnly"),
    "OrganizationType": _names("UnknownOrganizationType Individual Juridical PhysicalPerson"),
    "ReadyForEpdStatus": _names("UnknownEpdStatus UndefinedEpdStatus Ready NotReady"),
    "Severity": _names("UnknownSeverity Info Success Warning Error"),
    "PowerOfAttorneyValidationStatusNamedId": _names(
        "UnknownStatus CanNotBeValidated IsValid IsNotValid ValidationError"
    ),
}

_MODELS = (
    # -- read: GetNewEvents (V8), GetMessage (V6), GetDocumentsByCustomId ---------
    _message("BoxEventList", "Events:BoxEvent* TotalCount:int32 TotalCountType:TotalCountType!"),
    _message("BoxEvent", "EventId:string! Message:Message Patch:MessagePatch IndexKey:string"),
    _message(
        "Message",
        """
        MessageId:string! TimestampTicks:int64! LastPatchTimestampTicks:int64!
        FromBoxId:string! FromTitle:string! ToBoxId:string ToTitle:string Entities:Entity*
        IsDraft:bool DraftIsLocked:bool DraftIsRecycled:bool IsDeleted:bool IsTest:bool
        IsInternal:bool IsProxified:bool PacketIsLocked:bool LockMode:LockMode!
        MessageType:MessageType! IsReusable:bool
        """,
    ),
    _message(
        "MessagePatch",
        """
        MessageId:string! TimestampTicks:int64! Entities:Entity* ForDraft:bool
        MessageIsDeleted:bool MessageIsDelivered:bool DeliveredPatchId:string
        PatchId:string! MessageType:MessageType!
        """,
    ),
    _message(
        "Entity",
        """
        EntityType:EntityType EntityId:string! AuthorUserId:string ParentEntityId:string
        Content:Content AttachmentType:AttachmentType FileName:string
        NeedRecipientSignature:bool SignerBoxId:string DocumentInfo:Document
        RawCreationDate:int64 NeedReceipt:bool PacketId:string IsApprovementSignature:bool
        IsEncryptedContent:bool AttachmentVersion:string Labels:string* Version:string
        ContentTypeId:string PowerOfAttorneyInfo:PowerOfAttorneyInfo
        """,
    ),
    _message("Content", "Size:int32! Data:bytes"),
    # -- the МЧД on a signature (PowersOfAttorney/PowerOfAttorney*.proto) ---------------
    _message(
        "PowerOfAttorneyInfo",
        "FullId:PowerOfAttorneyFullId! Status:PowerOfAttorneyValidationStatus",
    ),
    _message(
        "PowerOfAttorneyFullId",
        "RegistrationNumber:string! IssuerInn:string! RepresentativeInn:string",
    ),
    _message(
        "PowerOfAttorneyValidationStatus",
        """
        Severity:Severity StatusNamedId:PowerOfAttorneyValidationStatusNamedId
        StatusText:string Errors:PowerOfAttorneyValidationError*
        """,
    ),
    _message("PowerOfAttorneyValidationError", "Code:string! Text:string!"),
    _message(
        "PowerOfAttorneyToPost",
        """
        FullId:PowerOfAttorneyFullId UseDefault:bool! Content:PowerOfAttorneySignedContent
        SendAsFile:bool Contents:PowerOfAttorneySignedContent*
        """,
    ),
    _message("PowerOfAttorneySignedContent", "Content:Content_v3! Signature:Content_v3!"),
    # PrevalidatePowerOfAttorney (boxId, registrationNumber, issuerInn in the query).
    _message(
        "PowerOfAttorneyPrevalidateRequest",
        "ConfidantCertificate:ConfidantCertificateToPrevalidate!",
    ),
    _message("ConfidantCertificateToPrevalidate", "Thumbprint:string Content:Content_v3"),
    _message(
        "PowerOfAttorneyPrevalidateResult", "PrevalidateStatus:PowerOfAttorneyValidationStatus!"
    ),
    _message("Content_v3", "Content:bytes NameOnShelf:string"),
    _message(
        "Document",
        """
        IndexKey:string MessageId:string! EntityId:string! CreationTimestampTicks:int64!
        CounteragentBoxId:string Content:Content FileName:string DocumentDate:string
        DocumentNumber:string IsDeleted:bool IsTest:bool CustomDocumentId:string
        RevocationStatus:RevocationStatus SendTimestampTicks:int64
        DeliveryTimestampTicks:int64 PacketId:string LastModificationTimestampTicks:int64
        IsRead:bool TypeNamedId:string! Function:string! WorkflowId:int32! Title:string!
        Metadata:MetadataItem* RecipientReceiptMetadata:RecipientReceiptMetadata!
        ConfirmationMetadata:ConfirmationMetadata!
        RecipientResponseStatus:RecipientResponseStatus!
        AmendmentRequestMetadata:AmendmentRequestMetadata! LockMode:LockMode!
        SenderReceiptMetadata:SenderReceiptMetadata! Version:string!
        DocflowStatus:DocflowStatusV3!
        """,
    ),
    _message(
        "RecipientReceiptMetadata",
        """
        ReceiptStatus:GeneralReceiptStatus! ConfirmationMetadata:ConfirmationMetadata
        """,
    ),
    _message("SenderReceiptMetadata", "ReceiptStatus:GeneralReceiptStatus!"),
    _message("ConfirmationMetadata", "ReceiptStatus:GeneralReceiptStatus! DateTimeTicks:int64!"),
    _message(
        "AmendmentRequestMetadata",
        """
        AmendmentFlags:int32! ReceiptStatus:GeneralReceiptStatus!
        """,
    ),
    _message(
        "DocflowStatusV3",
        """
        PrimaryStatus:DocflowStatusModelV3! SecondaryStatus:DocflowStatusModelV3
        """,
    ),
    _message("DocflowStatusModelV3", "Severity:string StatusText:string"),
    _message("DocumentList", "TotalCount:int32! Documents:Document* HasMoreResults:bool"),
    _message("MetadataItem", "Key:string! Value:string!"),
    # -- organizations -----------------------------------------------------------
    _message("OrganizationList", "Organizations:Organization*"),
    _message(
        "Organization",
        """
        OrgId:string! Inn:string! Kpp:string FullName:string! ShortName:string Boxes:Box*
        Ogrn:string FnsParticipantId:string IsRoaming:bool Sociability:Sociability!
        OrganizationType:OrganizationType! ReadyForEpdStatus:ReadyForEpdStatus!
        """,
    ),
    _message("Box", "BoxId:string! BoxIdGuid:string! Title:string!"),
    # -- sent: PostMessage (V3), PostMessagePatch (V4) -----------------------------
    _message(
        "MessageToPost",
        """
        FromBoxId:string! ToBoxId:string ToDepartmentId:string IsDraft:bool IsInternal:bool
        FromDepartmentId:string DelaySend:bool DocumentAttachments:DocumentAttachment*
        LockMode:LockMode
        """,
    ),
    _message(
        "DocumentAttachment",
        """
        SignedContent:SignedContent! Comment:string NeedRecipientSignature:bool
        CustomDocumentId:string NeedReceipt:bool TypeNamedId:string! Function:string
        Version:string Metadata:MetadataItem* WorkflowId:int32 IsEncrypted:bool
        EditingSettingId:string
        """,
    ),
    _message(
        "SignedContent",
        """
        Content:bytes Signature:bytes NameOnShelf:string SignWithTestSignature:bool
        SignatureNameOnShelf:string PowerOfAttorney:PowerOfAttorneyToPost
        """,
    ),
    _message(
        "MessagePatchToPost",
        """
        BoxId:string! MessageId:string! Receipts:ReceiptAttachment*
        Signatures:DocumentSignature* RevocationRequests:RevocationRequestAttachment*
        XmlSignatureRejections:XmlSignatureRejectionAttachment*
        RecipientTitles:RecipientTitleAttachment*
        """,
    ),
    # V4/PostMessagePatch takes MessagePatchToPostV2: the parts used here are listed.
    _message(
        "MessagePatchToPostV2",
        """
        BoxId:string! MessageId:string! Receipts:ReceiptAttachment*
        Signatures:DocumentSignature* RevocationRequests:RevocationRequestAttachment*
        XmlSignatureRejections:XmlSignatureRejectionAttachment*
        """,
    ),
    _message(
        "ReceiptGenerationRequestV2", "MessageId:string! AttachmentId:string! SignerContent:bytes!"
    ),
    _message(
        "ReceiptAttachment",
        """
        ParentEntityId:string! SignedContent:SignedContent! Labels:string*
        """,
    ),
    _message(
        "DocumentSignature",
        """
        ParentEntityId:string! Signature:bytes SignWithTestSignature:bool
        IsApprovementSignature:bool SignatureNameOnShelf:string PatchedContentId:string
        Labels:string* PowerOfAttorney:PowerOfAttorneyToPost
        """,
    ),
    _message(
        "RevocationRequestAttachment",
        """
        ParentEntityId:string! SignedContent:SignedContent! Labels:string*
        """,
    ),
    _message(
        "XmlSignatureRejectionAttachment",
        """
        ParentEntityId:string! SignedContent:SignedContent! Labels:string*
        """,
    ),
    _message(
        "RecipientTitleAttachment",
        """
        ParentEntityId:string! SignedContent:SignedContent! Labels:string*
        """,
    ),
)
MODELS: dict[str, MessageModel] = {m.name: m for m in _MODELS}


__all__ = ["ENUMS", "MODELS", "SCALARS", "Field", "MessageModel"]
