"""How the SBIS fake shows its documents on the wire (``Документ`` objects)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from ..wire import ACTION_SEND, NO, STAGE_SEND, YES, format_datetime
from . import annulment
from .world import STATES, Attachment, Document, Event, Signature, World


def file_view(world: World, base: str, name: str, data: bytes) -> dict[str, Any]:
    return {
        "Имя": name,
        # The fake's own choice of hash (base64 SHA-256); SBIS's algorithm is not published.
        "Хеш": base64.b64encode(hashlib.sha256(data).digest()).decode("ascii"),
        "Ссылка": f"{base}/disk/{world.link(data)}",
    }


def signature_view(world: World, base: str, sig: Signature) -> dict[str, Any]:
    return {
        "Тип": "Отсоединенная",
        "Файл": file_view(world, base, sig.file_name, sig.data),
        "Сертификат": {"ИНН": sig.inn, "ФИО": sig.fio, "Отпечаток": sig.thumbprint},
    }


def attachment_view(world: World, base: str, att: Attachment) -> dict[str, Any]:
    return {
        "Идентификатор": att.id,
        "Название": att.name,
        "Служебный": YES if att.service else NO,
        "Направление": "Входящий" if att.service else "Исходящий",
        "Файл": file_view(world, base, att.name, att.data),
        "Подпись": [signature_view(world, base, s) for s in att.signatures],
    }


def state_view(doc: Document) -> dict[str, str]:
    code, name = STATES[doc.state]
    return {"Код": code, "Название": name, "Описание": name}


def event_view(world: World, base: str, doc: Document, event: Event) -> dict[str, Any]:
    return {
        "Идентификатор": event.id,
        "Название": event.name,
        "ДатаВремя": format_datetime(event.at),
        "Комментарий": event.comment,
        "Вложение": [
            attachment_view(world, base, a) for a in doc.attachments if a.id in event.attachment_ids
        ],
    }


def stage_view(world: World, base: str, doc: Document, with_files: bool) -> dict[str, Any]:
    stage: dict[str, Any] = {
        "Идентификатор": doc.stage_id,
        "Название": STAGE_SEND,
        "Действие": [{"Название": ACTION_SEND}],
    }
    if with_files:
        stage["Вложение"] = [
            {
                "Идентификатор": a.id,
                "Файл": file_view(world, base, a.name, a.data),
            }
            for a in doc.attachments
            if a.to_sign and not a.service
        ]
    return stage


def prepared_view(
    world: World, base: str, doc: Document, files: list[Attachment]
) -> dict[str, Any]:
    """The answer to preparing an annulment stage: the stage with the files to sign."""
    view = document_view(world, base, doc)
    stage = dict(annulment.stages(doc)[0])
    stage["Вложение"] = [
        {"Идентификатор": a.id, "Файл": file_view(world, base, a.name, a.data)} for a in files
    ]
    view["Этап"] = [stage]
    return view


def document_view(
    world: World, base: str, doc: Document, *, events: list[Event] | None = None
) -> dict[str, Any]:
    shown = events if events is not None else [e for e in world.events if e.document_id == doc.id]
    return {
        "Идентификатор": doc.id,
        "Тип": doc.type,
        "Номер": doc.number,
        "Дата": doc.date,
        "Направление": "Исходящий",
        "НашаОрганизация": doc.ours,
        "Контрагент": doc.party,
        "Состояние": state_view(doc),
        "Этап": annulment.stages(doc)
        if doc.sent
        else [stage_view(world, base, doc, with_files=False)],
        "Вложение": [attachment_view(world, base, a) for a in doc.attachments],
        "Событие": [event_view(world, base, doc, e) for e in shown],
        "СсылкаДляКонтрагент": f"{base}/shared/{doc.id}",
    }


__all__ = [
    "attachment_view",
    "document_view",
    "event_view",
    "file_view",
    "prepared_view",
    "stage_view",
]
