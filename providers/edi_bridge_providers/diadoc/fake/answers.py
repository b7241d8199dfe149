"""The fake's answer bodies, each built through the proto model (:mod:`..proto`).

Building through :func:`..conformance.build` makes an invented or
misspelled field, or a missing required one, fail in the fake itself rather than in a
client that later meets the real operator.
"""

from __future__ import annotations

import uuid
from typing import Any
from xml.sax.saxutils import escape

from ..conformance import build

# A bilateral document waiting for the recipient, in the DocflowStatusV3 wording
# (the status texts are the fake's own; Diadoc's exact texts are not published as a list).
WAITING = {"Severity": "Info", "StatusText": "Ожидается подпись получателя"}
DOCFLOW_TEXTS = {
    "WaitingForRecipientSignature": WAITING,
    "WithRecipientSignature": {"Severity": "Success", "StatusText": "Подписан контрагентом"},
    "RecipientSignatureRequestRejected": {
        "Severity": "Error",
        "StatusText": "Контрагент отказал в подписи",
    },
}


def organization(
    *, org_id: str, inn: str, kpp: str, name: str, box: dict[str, Any] | None, fns_id: str
) -> dict[str, Any]:
    return build(
        "Organization",
        OrgId=org_id,
        Inn=inn,
        Kpp=kpp,
        FullName=name,
        ShortName=name,
        Boxes=[build("Box", **box)] if box else [],
        FnsParticipantId=fns_id,
        IsRoaming=False,
        Sociability="AllOrganizations",
        OrganizationType="Juridical" if len(inn) == 10 else "Individual",
        ReadyForEpdStatus="UndefinedEpdStatus",
    )


def organization_list(orgs: list[dict[str, Any]]) -> dict[str, Any]:
    return build("OrganizationList", Organizations=orgs)


def _receipt(status: str) -> dict[str, Any]:
    return build("SenderReceiptMetadata", ReceiptStatus=status)


def document_info(
    *,
    message_id: str,
    entity_id: str,
    ticks: int,
    type_named_id: str,
    function: str,
    version: str,
    title: str,
    counterparty_box: str,
    meta: dict[str, str],
    custom_id: str,
    need_signature: bool,
) -> dict[str, Any]:
    """Our outbound document as the sender sees it right after sending."""
    response = (
        "WaitingForRecipientSignature"
        if need_signature
        else ("RecipientResponseStatusNotAcceptable")
    )
    return build(
        "Document",
        MessageId=message_id,
        EntityId=entity_id,
        CreationTimestampTicks=ticks,
        SendTimestampTicks=ticks,
        CounteragentBoxId=counterparty_box,
        FileName=meta["FileName"],
        DocumentNumber=meta.get("DocumentNumber", ""),
        DocumentDate=meta.get("DocumentDate", ""),
        CustomDocumentId=custom_id,
        TypeNamedId=type_named_id,
        Function=function,
        Version=version,
        # 0 is the fake's only workflow; real boxes name theirs in GetWorkflowsSettings.
        WorkflowId=0,
        Title=title,
        Metadata=[build("MetadataItem", Key=k, Value=v) for k, v in meta.items()],
        RecipientReceiptMetadata=build(
            "RecipientReceiptMetadata", ReceiptStatus="WaitingForReceipt"
        ),
        SenderReceiptMetadata=_receipt("GeneralReceiptStatusNotAcceptable"),
        ConfirmationMetadata=build(
            "ConfirmationMetadata",
            ReceiptStatus="GeneralReceiptStatusNotAcceptable",
            DateTimeTicks=0,
        ),
        AmendmentRequestMetadata=build(
            "AmendmentRequestMetadata",
            AmendmentFlags=0,
            ReceiptStatus="GeneralReceiptStatusNotAcceptable",
        ),
        RecipientResponseStatus=response,
        RevocationStatus="RevocationStatusNone",
        LockMode="None",
        DocflowStatus=build(
            "DocflowStatusV3", PrimaryStatus=build("DocflowStatusModelV3", **WAITING)
        ),
    )


def respond(info: dict[str, Any], status: str, ticks: int) -> None:
    """The counterparty answered: the document's statuses move (checked by the model)."""
    info["RecipientResponseStatus"] = status
    info["RecipientReceiptMetadata"] = {"ReceiptStatus": "Finished"}
    info["LastModificationTimestampTicks"] = ticks
    info["DocflowStatus"] = {"PrimaryStatus": DOCFLOW_TEXTS.get(status, WAITING)}
    build("Document", **info)


def revocation_requested(info: dict[str, Any], ticks: int) -> None:
    info["RevocationStatus"] = "RequestsMyRevocation"
    info["LastModificationTimestampTicks"] = ticks
    build("Document", **info)


def entity(**fields: Any) -> dict[str, Any]:
    return build("Entity", **fields)


def message(**fields: Any) -> dict[str, Any]:
    return build("Message", MessageType="Letter", LockMode="None", **fields)


def patch(*, message_id: str, patch_id: str, ticks: int, entities: list[Any]) -> dict[str, Any]:
    return build(
        "MessagePatch",
        MessageId=message_id,
        PatchId=patch_id,
        TimestampTicks=ticks,
        Entities=entities,
        MessageType="Letter",
    )


def box_event(*, event_id: str, index_key: str, **body: Any) -> dict[str, Any]:
    return build("BoxEvent", EventId=event_id, IndexKey=index_key, **body)


def box_event_list(events: list[Any], total: int) -> dict[str, Any]:
    # The fake always knows the exact count of what is left.
    return build("BoxEventList", Events=events, TotalCount=total, TotalCountType="Equal")


def document_list(documents: list[Any]) -> dict[str, Any]:
    return build("DocumentList", TotalCount=len(documents), Documents=documents)


def fns_xml(kind: str, section: str, fields: dict[str, str]) -> bytes:
    """A small document in the FNS style (the fake's stand-in for the real formats)."""
    inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items())
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Файл ИдФайл="DP_{kind}_{uuid.uuid4().hex}">'
        f"<Документ><{section}>{inner}</{section}></Документ></Файл>"
    ).encode()


__all__ = [
    "box_event",
    "box_event_list",
    "document_info",
    "document_list",
    "entity",
    "fns_xml",
    "message",
    "organization",
    "organization_list",
    "patch",
    "respond",
    "revocation_requested",
]
