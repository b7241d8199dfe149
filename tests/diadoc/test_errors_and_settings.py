"""Diadoc answers mapped to the error tree; settings from keys and environment."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from edi_bridge_providers.diadoc import HOSTS, DiadocProvider, DiadocSettings, map_error
from edi_bridge_providers.diadoc.client import DiadocClient
from edi_bridge_providers.diadoc.fake import DiadocFake

from edi_bridge import config
from edi_bridge.errors import (
    AuthError,
    ConfigurationError,
    Conflict,
    Forbidden,
    PaymentRequired,
    ProviderError,
    ProviderNotFound,
    RateLimited,
    RejectedRequest,
    TransientError,
)
from edi_bridge.fakes.server import FakeServer, Faults

from .conftest import send_request


def _response(
    status: int, code: str | None = None, retry_after: str | None = None
) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = "Ошибка: token=abc123 не принят".encode()
    resp.encoding = "utf-8"
    if code:
        resp.headers["X-Diadoc-ErrorCode"] = code
    if retry_after:
        resp.headers["Retry-After"] = retry_after
    resp.request = requests.Request(
        "POST", "https://diadoc-api.kontur.ru/V3/PostMessage?x=1"
    ).prepare()
    return resp


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, RejectedRequest),
        (401, AuthError),
        (402, PaymentRequired),
        (403, Forbidden),
        (404, ProviderNotFound),
        (409, Conflict),
        (413, RejectedRequest),
        (429, RateLimited),
        (500, TransientError),
        (503, TransientError),
    ],
)
def test_error_mapping_table(status: int, expected: type[ProviderError]) -> None:
    error = map_error(_response(status, "DiadocApi.Something", "3"))
    assert type(error) is expected
    assert error.code == "DiadocApi.Something"
    assert error.provider == "diadoc"
    assert "/V3/PostMessage" in str(error)
    assert "abc123" not in str(error)  # secret-looking text is masked
    if expected is RateLimited:
        assert isinstance(error, RateLimited)
        assert error.retry_after == 3.0


def test_forbidden_box_over_http_keeps_the_error_code(
    adapter: DiadocProvider, fake: DiadocFake
) -> None:
    with pytest.raises(Forbidden) as caught:
        adapter.client.new_events("someone-else@diadoc.ru", None)
    assert caught.value.code == "DiadocApi.Forbidden"
    assert fake.calls("/V8/GetNewEvents") == 1  # 4xx: not retried


def test_429_and_5xx_are_retried_honouring_retry_after(
    adapter: DiadocProvider, fake: DiadocFake, faults: Faults, tmp_path: Path
) -> None:
    request = send_request(fake, tmp_path, "polite")
    adapter.recipient_box(request.counterparty)
    faults.retry_after = 0.2
    faults.force("429", "503", "drop")
    adapter.send(request)
    assert faults.injected == {"429": 1, "503": 1, "drop": 1}
    assert fake.message_count() == 1


def test_settings_come_from_environment_variables() -> None:
    env = {
        "EDI_BRIDGE_DIADOC_HOST": "staging",
        "EDI_BRIDGE_DIADOC_API_CLIENT_ID": "client-1",
        "EDI_BRIDGE_DIADOC_LOGIN": "user@example.ru",
        "EDI_BRIDGE_DIADOC_PASSWORD": "s3cret-pass",
        "EDI_BRIDGE_DIADOC_RATE": "50",
    }
    settings = DiadocSettings.from_config(config.section("diadoc", environ=env))
    assert settings.base_url == HOSTS["staging"]
    assert settings.auth == "password"
    assert settings.transport.rate == 50.0
    assert settings.transport.max_connections == 4
    assert "s3cret-pass" not in repr(settings)
    explicit = {"diadoc.host": "production"}
    assert (
        DiadocSettings.from_config(config.section("diadoc", explicit, environ=env)).base_url
        == HOSTS["production"]
    )


def test_missing_credentials_name_the_keys_and_variables() -> None:
    with pytest.raises(ConfigurationError) as caught:
        DiadocSettings.from_config({"login": "user"})
    assert "diadoc.password" in str(caught.value)
    assert "EDI_BRIDGE_DIADOC_API_CLIENT_ID" in str(caught.value)
    with pytest.raises(ConfigurationError, match="token_url"):
        DiadocSettings.from_config({"auth": "oidc", "client_id": "x", "client_secret": "y"})
    with pytest.raises(ConfigurationError, match=r"diadoc\.host"):
        DiadocSettings.from_config(
            {"host": "test", "api_client_id": "a", "login": "b", "password": "c"}
        )


def test_tls_verification_cannot_be_turned_off_for_real_hosts(server: FakeServer) -> None:
    base = {"api_client_id": "a", "login": "b", "password": "c", "tls_verify": "false"}
    with pytest.raises(ConfigurationError, match="TLS verification"):
        DiadocClient(DiadocSettings.from_config({**base, "host": "production"}))
    loopback = DiadocClient(DiadocSettings.from_config({**base, "base_url": server.url}))
    assert loopback.http.session.verify is False
    bundle = DiadocSettings.from_config({**base, "tls_verify": "/etc/ssl/ca.pem"})
    assert bundle.transport.tls_verify == "/etc/ssl/ca.pem"
