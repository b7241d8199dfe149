"""Building Diadoc's MessageToPost JSON from a :class:`SendRequest`.

A contract goes as ``TypeNamedId: "Contract"`` (a bilateral type: the
recipient is always asked to sign) with metadata FileName, DocumentNumber,
DocumentDate (dd.MM.yyyy), ContractType and ContractPrice when known; other
kinds go as ``"Nonformalized"`` with ``NeedRecipientSignature``. Our detached
signature travels in ``SignedContent.Signature``; the content either inline
(``Content``) or, when large, by its shelf name (``NameOnShelf``). Our МЧД,
when configured, travels in ``SignedContent.PowerOfAttorney``
(``PowerOfAttorneyToPost``): ``FullId{RegistrationNumber, IssuerInn}`` by
reference, or ``Contents`` (the МЧД file and its signature) by content, with
``UseDefault: false`` (a required field in Diadoc's proto).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from edi_bridge.errors import ProviderError
from edi_bridge.models import DocumentKind
from edi_bridge.provider import SendRequest, SendResult
from edi_bridge.signing import OurPowerOfAttorney

CONTRACT = "Contract"
NONFORMALIZED = "Nonformalized"
UPD = "UniversalTransferDocument"
# Diadoc's name of each УПД format version.
UPD_VERSIONS = {"5.03": "utd970_05_03_01"}


def operation_id(idempotency_key: str) -> str:
    """Diadoc's ``operationId`` for a send: the same key always gives the same id."""
    return "edib-" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]


def custom_document_id(idempotency_key: str) -> str:
    """Our id for the document at Diadoc, to find it again after a crash."""
    return "edib-" + hashlib.sha256(b"doc|" + idempotency_key.encode("utf-8")).hexdigest()[:40]


def file_extension(file_name: str) -> str:
    return PurePosixPath(file_name).suffix or ".bin"


def type_named_id(request: SendRequest) -> str:
    if request.formalized is not None and request.formalized.kind == "upd":
        return UPD
    return CONTRACT if request.document.kind == DocumentKind.CONTRACT else NONFORMALIZED


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def power_of_attorney_to_post(poa: OurPowerOfAttorney) -> dict[str, Any]:
    """Diadoc's ``PowerOfAttorneyToPost`` for our МЧД: exactly one option set."""
    if poa.by_reference:
        full_id = {"RegistrationNumber": poa.registration_number, "IssuerInn": poa.issuer_inn}
        if poa.representative_inn:
            # Newer Diadoc docs list RepresentativeInn in FullId as well.
            full_id["RepresentativeInn"] = poa.representative_inn
        return {"UseDefault": False, "FullId": full_id}
    content = {
        "Content": {"Content": _b64(poa.content())},
        "Signature": {"Content": _b64(poa.signature())},
    }
    return {"UseDefault": False, "Contents": [content]}


def build_message(
    request: SendRequest,
    *,
    from_box: str,
    to_box: str,
    contract_type: str,
    name_on_shelf: str | None = None,
) -> dict[str, Any]:
    document = request.document
    signed: dict[str, Any] = {"Signature": base64.b64encode(request.signature).decode("ascii")}
    if name_on_shelf is not None:
        signed["NameOnShelf"] = name_on_shelf
    else:
        signed["Content"] = base64.b64encode(request.content.read_all()).decode("ascii")
    if request.power_of_attorney is not None:
        signed["PowerOfAttorney"] = power_of_attorney_to_post(request.power_of_attorney)
    type_id = type_named_id(request)
    metadata = [
        {"Key": "FileName", "Value": document.file_name},
        {"Key": "DocumentNumber", "Value": document.number},
        {"Key": "DocumentDate", "Value": document.date.strftime("%d.%m.%Y")},
    ]
    if type_id == CONTRACT:
        metadata.append({"Key": "ContractType", "Value": contract_type})
        if document.price is not None:
            metadata.append({"Key": "ContractPrice", "Value": document.price})
    attachment: dict[str, Any] = {
        "TypeNamedId": type_id,
        "SignedContent": signed,
        "Metadata": metadata,
        "CustomDocumentId": custom_document_id(request.idempotency_key),
        "NeedRecipientSignature": request.need_recipient_signature,
    }
    # Formalized documents (УПД: UniversalTransferDocument) name their function
    # (СЧФДОП, ДОП) and Diadoc's name of their format version (utd970_05_03_01).
    formal = request.formalized
    if formal is not None:
        if formal.function:
            attachment["Function"] = formal.function
        version = UPD_VERSIONS.get(formal.format_version)
        if version:
            attachment["Version"] = version
    return {"FromBoxId": from_box, "ToBoxId": to_box, "DocumentAttachments": [attachment]}


def send_result(message: Mapping[str, Any], from_box: str, to_box: str) -> SendResult:
    """Where PostMessage put our document (its message and entity ids)."""
    message_id = str(message.get("MessageId") or "")
    documents = [
        e
        for e in message.get("Entities") or []
        if e.get("EntityType") == "Attachment" and not e.get("ParentEntityId")
    ]
    if not message_id or not documents:
        raise ProviderError("PostMessage answered without the document", provider="diadoc")
    entity_id = str(documents[0]["EntityId"])
    return SendResult(
        ref={
            "box_id": from_box,
            "to_box_id": to_box,
            "message_id": message_id,
            "entity_id": entity_id,
        },
        document_id=f"{message_id}:{entity_id}",
        raw={"MessageId": message_id, "EntityId": entity_id},
    )


__all__ = [
    "CONTRACT",
    "NONFORMALIZED",
    "UPD",
    "UPD_VERSIONS",
    "build_message",
    "custom_document_id",
    "file_extension",
    "operation_id",
    "power_of_attorney_to_post",
    "send_result",
    "type_named_id",
]
