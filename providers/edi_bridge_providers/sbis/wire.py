"""SBIS wire vocabulary: method names, headers, dates and small helpers.

SBIS speaks JSON-RPC 2.0 with Russian method and field names. The helpers
here are shared by the adapter and the fake so that both spell them the same.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from edi_bridge.provider import SendResult

if TYPE_CHECKING:
    from edi_bridge.models import Document

AUTH_PATH = "/auth/service/"
OAUTH_PATH = "/oauth/service/"
SERVICE_PATH = "/service/?srv=1"
CONTENT_TYPE = "application/json-rpc;charset=utf-8"
SESSION_HEADER = "X-SBISSessionID"
TOKEN_HEADER = "X-SBISAccessToken"  # noqa: S105 - a header name

M_AUTH = "СБИС.Аутентифицировать"
M_WRITE = "СБИС.ЗаписатьДокумент"
M_PREPARE = "СБИС.ПодготовитьДействие"
M_EXECUTE = "СБИС.ВыполнитьДействие"
M_READ = "СБИС.ПрочитатьДокумент"
M_CHANGES = "СБИС.СписокИзменений"
M_PARTY = "СБИС.ИнформацияОКонтрагенте"

STAGE_SEND = "Отправка"
ACTION_SEND = "Отправить"
DETACHED = "Отсоединенная"
YES = "Да"
NO = "Нет"

# Codes that mean "the session is gone; authenticate again".
SESSION_CODES = frozenset({401, -32001})

_ID_NAMESPACE = uuid.UUID("6f1c3e0a-5b7d-5e55-9a3c-2be0ed1b7d9e")

DATE_FORMAT = "%d.%m.%Y"
DATETIME_FORMAT = "%d.%m.%Y %H.%M.%S"
MSK = dt.timezone(dt.timedelta(hours=3), "MSK")
"""SBIS writes local Moscow time without an offset."""


def document_uuid(idempotency_key: str) -> str:
    """The SBIS document Идентификатор for one intent (stable across retries)."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"document:{idempotency_key}"))


def attachment_uuid(document_id: str, index: int = 0) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"attachment:{document_id}:{index}"))


def as_list(value: Any) -> list[Any]:
    """SBIS clients send ``Этап``/``Действие``/``Подпись`` as an object or an array."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def as_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def format_date(value: dt.date) -> str:
    return value.strftime(DATE_FORMAT)


def format_datetime(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(MSK)
    return value.strftime(DATETIME_FORMAT)


def parse_datetime(text: str) -> dt.datetime:
    """``17.04.2015 13.19.57`` (optionally with ``.ffffff`` or colons) as aware MSK time."""
    value = text.strip().replace(":", ".")
    date_part, _, time_part = value.partition(" ")
    pieces = (time_part or "00.00.00").split(".")
    hours, minutes, seconds = (int(p) for p in [*pieces, "0", "0", "0"][:3])
    micro = int((pieces[3] + "000000")[:6]) if len(pieces) > 3 and pieces[3] else 0
    day = dt.datetime.strptime(date_part, DATE_FORMAT)
    return day.replace(hour=hours, minute=minutes, second=seconds, microsecond=micro, tzinfo=MSK)


def rpc_request(method: str, params: Mapping[str, Any], request_id: int = 0) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": method, "params": dict(params), "id": request_id}


# -- request and answer bodies of the adapter's calls ------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def party(inn: str, kpp: str | None, name: str, full_name: str | None = None) -> dict[str, Any]:
    """``СвЮЛ`` for an organisation (10-digit INN), ``СвФЛ`` for a person."""
    if len(inn) == 10:
        return {"СвЮЛ": {"ИНН": inn, "КПП": kpp or "", "Название": name}}
    parts = (full_name or name).replace("ИП ", "").split()
    person: dict[str, Any] = {"ИНН": inn}
    for key, value in zip(("Фамилия", "Имя", "Отчество"), parts, strict=False):
        person[key] = value
    return {"СвФЛ": person}


def party_member(inn: str, kpp: str | None, is_organisation: bool) -> dict[str, Any]:
    """``Участник`` of ``СБИС.ИнформацияОКонтрагенте``."""
    if is_organisation:
        return {"СвЮЛ": {"ИНН": inn, "КПП": kpp or ""}}
    return {"СвФЛ": {"ИНН": inn}}


def prepare_params(doc_id: str, thumbprint: str) -> dict[str, Any]:
    """``СБИС.ПодготовитьДействие``: which files to sign to send."""
    return {
        "Документ": {
            "Идентификатор": doc_id,
            "Этап": {
                "Название": STAGE_SEND,
                "Действие": {"Название": ACTION_SEND, "Сертификат": {"Отпечаток": thumbprint}},
            },
        }
    }


def execute_params(
    doc_id: str, stage_id: str, thumbprint: str, signed: list[dict[str, Any]]
) -> dict[str, Any]:
    """``СБИС.ВыполнитьДействие``: send, with our detached signatures."""
    return {
        "Документ": {
            "Идентификатор": doc_id,
            "Этап": [
                {
                    "Идентификатор": stage_id,
                    "Название": STAGE_SEND,
                    "Действие": [
                        {"Название": ACTION_SEND, "Сертификат": [{"Отпечаток": thumbprint}]}
                    ],
                    "Вложение": signed,
                }
            ],
        }
    }


def signed_attachment(attachment_id: Any, name: str, signature: bytes) -> dict[str, Any]:
    return {
        "Идентификатор": attachment_id,
        "Подпись": [
            {"Тип": DETACHED, "Файл": {"Имя": f"{name}.sig", "ДвоичныеДанные": b64(signature)}}
        ],
    }


def send_stage(prepared: Mapping[str, Any]) -> dict[str, Any] | None:
    """The "Отправка" stage of a prepared action (or the only one there is)."""
    stages = [as_dict(s) for s in as_list(prepared.get("Этап"))]
    for stage in stages:
        if stage.get("Название") == STAGE_SEND:
            return stage
    return stages[0] if stages else None


def awaits_sending(document: Mapping[str, Any]) -> bool:
    """The "Отправка" stage is still ours to do."""
    return any(
        as_dict(stage).get("Название") == STAGE_SEND for stage in as_list(document.get("Этап"))
    )


@dataclasses.dataclass(frozen=True)
class SbisRoute:
    """A counterparty's box as ``СБИС.ИнформацияОКонтрагенте`` reports it."""

    operator_id: str
    participant_id: str
    roaming: bool
    state: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def routes_of(result: Mapping[str, Any]) -> list[SbisRoute]:
    routes = []
    for item in as_list(result.get("Идентификатор")):
        box = as_dict(item)
        participant = str(box.get("ИдентификаторУчастника") or "")
        if participant:
            routes.append(
                SbisRoute(
                    operator_id=str(as_dict(box.get("Оператор")).get("Идентификатор") or ""),
                    participant_id=participant,
                    roaming=str(box.get("Роуминг", "")).lower() in ("да", "true", "1"),
                    state=as_dict(box.get("СостояниеПодключения")),
                )
            )
    return routes


def document_body(
    doc_id: str,
    doc_type: str,
    document: Document,
    content: bytes,
    ours: Mapping[str, Any],
    theirs: Mapping[str, Any],
    regulation: str | None = None,
) -> dict[str, Any]:
    """``Документ`` of ``СБИС.ЗаписатьДокумент``: the document with its one file."""
    body: dict[str, Any] = {
        "Идентификатор": doc_id,
        "Тип": doc_type,
        "Дата": format_date(document.date),
        "Номер": document.number,
        "НашаОрганизация": dict(ours),
        "Контрагент": dict(theirs),
        "Вложение": [
            {
                "Идентификатор": attachment_uuid(doc_id),
                "Файл": {"Имя": document.file_name, "ДвоичныеДанные": b64(content)},
            }
        ],
    }
    if regulation:
        body["Регламент"] = {"Название": regulation}
    return body


def sent_result(doc_id: str, document: Mapping[str, Any]) -> SendResult:
    link = str(document.get("СсылкаДляКонтрагент") or "")
    ref = {"document_id": doc_id, **({"link": link} if link else {})}
    return SendResult(
        ref=ref, document_id=doc_id, raw={"state": as_dict(document.get("Состояние"))}
    )


__all__ = [
    "ACTION_SEND",
    "AUTH_PATH",
    "CONTENT_TYPE",
    "DETACHED",
    "MSK",
    "M_AUTH",
    "M_CHANGES",
    "M_EXECUTE",
    "M_PARTY",
    "M_PREPARE",
    "M_READ",
    "M_WRITE",
    "NO",
    "OAUTH_PATH",
    "SERVICE_PATH",
    "SESSION_CODES",
    "SESSION_HEADER",
    "STAGE_SEND",
    "TOKEN_HEADER",
    "YES",
    "SbisRoute",
    "as_dict",
    "as_list",
    "attachment_uuid",
    "awaits_sending",
    "b64",
    "document_body",
    "document_uuid",
    "execute_params",
    "format_date",
    "format_datetime",
    "parse_datetime",
    "party",
    "party_member",
    "prepare_params",
    "routes_of",
    "rpc_request",
    "send_stage",
    "sent_result",
    "signed_attachment",
]
