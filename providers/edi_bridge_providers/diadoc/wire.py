"""Building Diadoc's MessageToPost JSON from a :class:`SendRequest`.

A contract goes as ``TypeNamedId: "Contract"`` (a bilateral type: the
recipient is always asked to sign) with metadata FileName, DocumentNumber,
DocumentDate (dd.MM.yyyy), ContractType and ContractPrice when known; other
kinds go as ``"Nonformalized"`` with ``NeedRecipientSignature``. Our detached
signature travels in ``SignedContent.Signature``; the content either inline
(``Content``) or, when large, by its shelf name (``NameOnShelf``).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import PurePosixPath
from typing import Any

from edi_bridge.models import DocumentKind
from edi_bridge.provider import SendRequest

CONTRACT = "Contract"
NONFORMALIZED = "Nonformalized"


def operation_id(idempotency_key: str) -> str:
    """Diadoc's ``operationId`` for a send: the same key always gives the same id."""
    return "edib-" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]


def custom_document_id(idempotency_key: str) -> str:
    """Our id for the document at Diadoc, to find it again after a crash."""
    return "edib-" + hashlib.sha256(b"doc|" + idempotency_key.encode("utf-8")).hexdigest()[:40]


def file_extension(file_name: str) -> str:
    return PurePosixPath(file_name).suffix or ".bin"


def type_named_id(request: SendRequest) -> str:
    override = request.options.get("type_named_id")
    if override:
        return override
    return CONTRACT if request.document.kind == DocumentKind.CONTRACT else NONFORMALIZED


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
    type_id = type_named_id(request)
    metadata = [
        {"Key": "FileName", "Value": document.file_name},
        {"Key": "DocumentNumber", "Value": document.number},
        {"Key": "DocumentDate", "Value": document.date.strftime("%d.%m.%Y")},
    ]
    if type_id == CONTRACT:
        metadata.append(
            {"Key": "ContractType", "Value": request.options.get("contract_type", contract_type)}
        )
        if document.price is not None:
            metadata.append({"Key": "ContractPrice", "Value": document.price})
    attachment: dict[str, Any] = {
        "TypeNamedId": type_id,
        "SignedContent": signed,
        "Metadata": metadata,
        "CustomDocumentId": custom_document_id(request.idempotency_key),
        "NeedRecipientSignature": request.options.get("need_recipient_signature", "true")
        != "false",
    }
    # Formalized documents (УПД: UniversalTransferDocument) name their function
    # (СЧФДОП, ДОП) and format version (utd970_05_03_01).
    for option, field in (("function", "Function"), ("version", "Version")):
        if request.options.get(option):
            attachment[field] = request.options[option]
    comment = request.options.get("comment")
    if comment:
        attachment["Comment"] = comment[:5000]
    return {"FromBoxId": from_box, "ToBoxId": to_box, "DocumentAttachments": [attachment]}


__all__ = [
    "CONTRACT",
    "NONFORMALIZED",
    "build_message",
    "custom_document_id",
    "file_extension",
    "operation_id",
    "type_named_id",
]
