"""SBIS error answers mapped into the library's error tree."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from edi_bridge_providers.sbis.errors import SessionExpired, error_from_body, error_from_payload

from edi_bridge import Bridge, ExchangeStatus
from edi_bridge.errors import (
    Conflict,
    Forbidden,
    PaymentRequired,
    ProviderNotFound,
    RateLimited,
    RejectedRequest,
    TransientError,
)
from edi_bridge.testing import sample_contract

from .conftest import SbisWorld
from .helpers import party


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (401, {"code": -32001, "message": "Сессия истекла"}, SessionExpired),
        (200, {"code": 401, "message": "Unauthorized"}, SessionExpired),
        (500, {"code": -32001, "message": "нет сессии"}, SessionExpired),
        (500, {"code": -32000, "message": "Документ не найден"}, ProviderNotFound),
        (500, {"code": -32000, "message": "Неверный тип документа"}, RejectedRequest),
        (500, {"code": -32603, "message": "Internal error"}, TransientError),
        (400, {"code": -32602, "message": "Неверные параметры"}, RejectedRequest),
        (403, {"code": -32000, "message": "Нет прав"}, Forbidden),
        (402, "Нет лицензии на API", PaymentRequired),
        (409, "Документ уже существует", Conflict),
        (429, "Слишком много запросов", RateLimited),
        (503, "Сервис недоступен", TransientError),
        (500, "Internal Server Error", TransientError),
        (400, "Bad Request", RejectedRequest),
    ],
)
def test_error_answers_map_by_code_and_status(
    status: int, error: Any, expected: type[Exception]
) -> None:
    mapped = error_from_payload(status, error)
    assert type(mapped) is expected
    assert mapped.provider == "sbis"
    assert mapped.status == status


def test_plain_string_error_body_keeps_its_text() -> None:
    body = json.dumps({"error": "Превышен лимит запросов"}, ensure_ascii=False).encode()
    mapped = error_from_body(403, body)
    assert isinstance(mapped, Forbidden)
    assert "Превышен лимит запросов" in str(mapped)


def test_bare_text_error_body_is_mapped_too() -> None:
    mapped = error_from_body(404, b"Not Found")
    assert isinstance(mapped, ProviderNotFound)
    assert "Not Found" in str(mapped)


def test_error_text_with_a_secret_is_masked() -> None:
    mapped = error_from_payload(
        400, {"code": -32602, "message": "bad", "details": "password=hunter2"}
    )
    assert "hunter2" not in str(mapped)


def test_json_rpc_details_are_joined_to_the_message() -> None:
    mapped = error_from_payload(
        500, {"code": -32000, "message": "Ошибка", "details": "Вложение: нет файла"}
    )
    assert str(mapped).endswith("Ошибка: Вложение: нет файла")
    assert mapped.code == "-32000"


def test_refused_write_fails_the_exchange_with_sbis_text(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    # An organisation the account does not have: SBIS refuses the document.
    bridge = open_bridge(server, settings={"our_inn": "7736050003", "our_kpp": "773601001"})
    exchange = bridge.send(
        party("sign", fake), sample_contract("C-org"), idempotency_key="org", provider="sbis"
    )
    assert exchange.status == ExchangeStatus.FAILED
    assert "Организация не найдена" in (exchange.reason or "")
    assert fake.rpc_log.count("СБИС.ЗаписатьДокумент") == 1  # a refusal is not retried
