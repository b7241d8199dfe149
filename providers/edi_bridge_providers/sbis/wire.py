"""SBIS wire vocabulary: method names, headers, dates and small helpers.

SBIS speaks JSON-RPC 2.0 with Russian method and field names. The helpers
here are shared by the adapter and the fake so that both spell them the same.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

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
    "as_dict",
    "as_list",
    "attachment_uuid",
    "document_uuid",
    "format_date",
    "format_datetime",
    "parse_datetime",
    "rpc_request",
]
