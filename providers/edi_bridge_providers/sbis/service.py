"""Service stages (служебные этапы): the receipts SBIS expects from us on a document.

Confirmed (sources in docs/sbis.md): a document flow includes service documents, such as the
receipts (извещения о получении) the regulation asks of each side. ``СБИС.СписокСлужебныхЭтапов``
lists the documents with a service stage to process, each naming the action to perform;
``СБИС.ПодготовитьДействие`` generates the service documents and names the ones to sign;
``СБИС.ВыполнитьДействие`` takes them signed (sbis.ru/help/integration/extsdk2/event_handling).
SBIS's own published 1C processing does it per document: ``СБИС.ИнформацияОСлужебныхЭтапах``
with ``Фильтр{ИдентификаторДокумента, ДопПоля: "ЭтапВернутьВсеСертификаты"}`` gives
``ЧислоНеобработанныхЭтапов``; when it is above zero, ``СБИС.СписокСлужебныхЭтапов`` with the
same filter lists them, and each listed document's first stage and first action are prepared
and executed (saby-integration/vo2_core, ``ОбработатьСлужебныеДокументыПоПакету``).

*Unconfirmed*: that no unprocessed service stage of ours means SBIS's flow is finished (what
the counterparty still owes is not reported by these calls).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from edi_bridge.errors import ValidationError
from edi_bridge.signing import Signer

from .client import SbisClient
from .revocation import perform
from .wire import as_dict, as_list

M_SERVICE_INFO = "СБИС.ИнформацияОСлужебныхЭтапах"
M_SERVICE_LIST = "СБИС.СписокСлужебныхЭтапов"


def service_filter(doc_id: str) -> dict[str, Any]:
    return {"Фильтр": {"ИдентификаторДокумента": doc_id, "ДопПоля": "ЭтапВернутьВсеСертификаты"}}


def _doc_id(ref: Mapping[str, str]) -> str:
    doc_id = str(ref.get("document_id") or "")
    if not doc_id:
        raise ValidationError("provider_ref.document_id", "required to ask sbis about the flow")
    return doc_id


def unprocessed(client: SbisClient, doc_id: str) -> int:
    """How many service stages of ours SBIS still lists for the document."""
    answer = as_dict(client.call(M_SERVICE_INFO, service_filter(doc_id)))
    try:
        return int(str(answer.get("ЧислоНеобработанныхЭтапов") or 0))
    except ValueError:
        return 0


def listed(client: SbisClient, doc_id: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(stage, action)`` of each service stage SBIS lists for the document."""
    out = []
    for item in as_list(
        as_dict(client.call(M_SERVICE_LIST, service_filter(doc_id))).get("Документ")
    ):
        entry = as_dict(item)
        if str(entry.get("Идентификатор") or doc_id) != doc_id:
            continue
        stages = [as_dict(s) for s in as_list(entry.get("Этап"))]
        actions = [as_dict(a) for a in as_list(stages[0].get("Действие"))] if stages else []
        if actions:
            out.append((stages[0], actions[0]))
    return out


def pending(client: SbisClient, ref: Mapping[str, str]) -> list[dict[str, str]]:
    """The receipts (service stages) SBIS still expects from us on the document."""
    doc_id = _doc_id(ref)
    if unprocessed(client, doc_id) <= 0:
        return []
    return [
        {
            "answers": str(stage.get("Название") or "a service stage"),
            "file_name": "",
            "action": str(action.get("Название") or ""),
            "stage": str(stage.get("Идентификатор") or ""),
        }
        for stage, action in listed(client, doc_id)
    ]


def follow(
    client: SbisClient,
    signer: Signer | None,
    thumbprint: str | None,
    ref: Mapping[str, str],
    answer: bool,
) -> dict[str, Any]:
    """The flow's state, after processing (``answer`` and a signer) the stages due from us."""
    doc_id = _doc_id(ref)
    due = pending(client, ref)
    if due and answer and signer is not None:
        thumb = thumbprint or hashlib.sha1(signer.certificate).hexdigest().upper()  # noqa: S324
        for stage, action in listed(client, doc_id):
            name = str(action.get("Название") or "")
            perform(client, doc_id, stage, name, thumb, signer, None)
        due = pending(client, ref)
    return {"finished": not due, "waiting_for": [], "pending_receipts": due}


__all__ = ["M_SERVICE_INFO", "M_SERVICE_LIST", "follow", "listed", "pending", "unprocessed"]
