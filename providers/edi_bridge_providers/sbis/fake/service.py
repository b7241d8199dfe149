"""The SBIS fake's service stages (служебные этапы): the receipt SBIS asks of us after a send.

With the option ``receipts=1`` a sent document gets the operator's confirmation of the
sending date (a service attachment) and a service stage of ours: a receipt (извещение о
получении) on that confirmation, to sign. As SBIS (sources in docs/sbis.md):
``СБИС.ИнформацияОСлужебныхЭтапах`` counts them (``ЧислоНеобработанныхЭтапов``),
``СБИС.СписокСлужебныхЭтапов`` lists the documents with the stage and the action to perform,
``ПодготовитьДействие`` generates the receipt to sign, ``ВыполнитьДействие`` takes it signed.

The fake's own (*unconfirmed*): the option itself (whether SBIS asks a receipt of the sender
of an informal contract), the stage's name «Служебный», the action's name «Обработать
служебное» (as public clients spell it), the files' names and content, and an unsigned
operator's confirmation.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

from ..service import M_SERVICE_INFO, M_SERVICE_LIST
from ..wire import NO, YES, as_dict, format_datetime
from .cms import stage_signature

if TYPE_CHECKING:
    from .world import Attachment, Document, World

STAGE_SERVICE = "Служебный"
ACTION_SERVICE = "Обработать служебное"


@dataclasses.dataclass
class ServiceStage:
    id: str
    confirmation: Attachment
    pending: Attachment | None = None
    done: bool = False


def _xml(tag: str, **attrs: str) -> bytes:
    body = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
    return f'<?xml version="1.0" encoding="utf-8"?>\n<{tag} {body}/>\n'.encode()


def on_sent(world: World, doc: Document) -> None:
    """The operator confirms the sending date; our receipt on it becomes due."""
    from .world import Attachment

    if not world.receipts:
        return
    when = format_datetime(world.now())
    data = _xml("ПодтверждениеДатыОтправки", Документ=doc.id, ДатаВремя=when)
    name = f"Подтверждение_даты_отправки_{doc.id}.xml"
    confirmation = Attachment(str(uuid.uuid4()), name, data, service=True, to_sign=False)
    doc.attachments.append(confirmation)
    doc.service_stages.append(ServiceStage(str(uuid.uuid4()), confirmation))


def open_stages(world: World, doc_id: str | None) -> list[tuple[Document, ServiceStage]]:
    docs = [world.documents[doc_id]] if doc_id in world.documents else []
    if not doc_id:
        docs = list(world.documents.values())
    return [(d, s) for d in docs for s in d.service_stages if not s.done]


def _doc_id(params: dict[str, Any]) -> str | None:
    flt = as_dict(params.get("Фильтр"))
    return str(flt.get("ИдентификаторДокумента") or "") or None


def info(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """``СБИС.ИнформацияОСлужебныхЭтапах``."""
    return {"ЧислоНеобработанныхЭтапов": str(len(open_stages(world, _doc_id(params))))}


def stage_view(stage: ServiceStage) -> dict[str, Any]:
    action = {"Название": ACTION_SERVICE, "ТребуетПодписания": YES, "ТребуетКомментария": NO}
    return {"Идентификатор": stage.id, "Название": STAGE_SERVICE, "Действие": [action]}


def listing(world: World, base: str, params: dict[str, Any]) -> dict[str, Any]:
    """``СБИС.СписокСлужебныхЭтапов``: each document with its open stage."""
    from .views import document_view

    entries = []
    for doc, stage in open_stages(world, _doc_id(params)):
        entry = document_view(world, base, doc, events=[])
        entry["Этап"] = [stage_view(stage)]
        entries.append(entry)
    return {"Документ": entries, "Навигация": {"ЕстьЕще": NO}}


def _stage(doc: Document, stage_in: dict[str, Any]) -> ServiceStage:
    from .world import FakeError

    wanted = stage_in.get("Идентификатор")
    for stage in doc.service_stages:
        if not stage.done and wanted in (None, "", stage.id):
            return stage
    raise FakeError("Этап не найден", f"Служебный этап {wanted} не найден или обработан")


def prepare(world: World, doc: Document, stage_in: dict[str, Any]) -> list[Attachment]:
    """The receipt on the operator's confirmation, generated for us to sign."""
    from .world import Attachment

    stage = _stage(doc, stage_in)
    if stage.pending is None:
        data = _xml(
            "ИзвещениеОПолучении",
            Документ=stage.confirmation.name,
            Получатель=world.our_inn,
            ДатаВремя=format_datetime(world.now()),
        )
        name = f"Извещение_о_получении_{stage.confirmation.id}.xml"
        stage.pending = Attachment(str(uuid.uuid4()), name, data, service=True, to_sign=False)
    return [stage.pending]


def execute(world: World, doc: Document, stage_in: dict[str, Any]) -> None:
    """Our signed receipt: kept as a service attachment; the stage is processed."""
    from .world import FakeError, Signature

    stage = _stage(doc, stage_in)
    receipt = stage.pending
    if receipt is None:
        raise FakeError("Действие не подготовлено", "Сначала СБИС.ПодготовитьДействие")
    data, thumb, _name = stage_signature(stage_in, receipt.id, receipt.name, receipt.data)
    receipt.signatures.append(Signature(f"{receipt.name}.sig", data, world.our_inn, "", thumb))
    doc.attachments.append(receipt)
    stage.done, stage.pending = True, None


__all__ = [
    "ACTION_SERVICE",
    "M_SERVICE_INFO",
    "M_SERVICE_LIST",
    "ServiceStage",
    "execute",
    "info",
    "listing",
    "on_sent",
    "prepare",
]
