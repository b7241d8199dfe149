"""Signing in to SBIS: sessions, service tokens, one re-authentication, masked secrets."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from edi_bridge_providers.sbis import SbisClient, SbisProvider, SbisSettings
from edi_bridge_providers.sbis.fake import SbisFake

from edi_bridge import Bridge
from edi_bridge.errors import AuthError, ConfigurationError, ValidationError
from edi_bridge.fakes.server import FakeOptions, FakeServer
from edi_bridge.provider import ProviderContext
from edi_bridge.testing import sample_counterparty

from .conftest import SbisWorld, settings_for


def _provider(server: FakeServer, **extra: str) -> SbisProvider:
    keys = {k.removeprefix("sbis."): v for k, v in settings_for(server, **extra).items()}
    return SbisProvider(ProviderContext(config=keys))


@pytest.mark.parametrize("mode", ["rpc", "string"])
def test_expired_session_is_renewed_once_and_the_call_succeeds(
    start_fake: Callable[..., SbisWorld], mode: str
) -> None:
    fake, server = start_fake(expire_mode=mode)
    provider = _provider(server)
    cp = sample_counterparty("auth-renew")
    assert provider.can_receive(cp)
    fake.expire_credentials()
    assert provider.can_receive(cp)
    assert provider.client.sign_ins == 2
    provider.close()


def test_session_refused_again_after_one_renewal_raises_auth_error(
    start_fake: Callable[..., SbisWorld],
) -> None:
    fake, server = start_fake(expire_every="1")  # every call finds its session dead
    provider = _provider(server)
    with pytest.raises(AuthError, match="after signing in again"):
        provider.routes(sample_counterparty("auth-dead"))
    assert provider.client.sign_ins == 2  # one sign-in, one renewal, no loop
    assert fake.rpc_log.count("СБИС.ИнформацияОКонтрагенте") == 2
    provider.close()


def test_service_token_is_sent_as_access_token_header(
    start_fake: Callable[..., SbisWorld],
) -> None:
    fake, server = start_fake()
    s = fake.options
    provider = _provider(
        server,
        login="",
        password="",
        app_client_id=s["app_client_id"],
        app_secret=s["app_secret"],
        secret_key=s["secret_key"],
    )
    assert provider.settings.auth_mode == "service"
    assert provider.can_receive(sample_counterparty("token"))
    assert "СБИС.Аутентифицировать" not in fake.rpc_log
    assert provider.client.http.session.headers.get("X-SBISSessionID") is None
    fake.expire_credentials()
    assert provider.can_receive(sample_counterparty("token"))
    assert provider.client.sign_ins == 2
    provider.close()


def test_wrong_service_secret_is_an_auth_error_without_the_secret(
    start_fake: Callable[..., SbisWorld],
) -> None:
    fake, server = start_fake()
    s = fake.options
    provider = _provider(
        server,
        login="",
        password="",
        app_client_id=s["app_client_id"],
        app_secret="wrong-app-secret-123",
        secret_key=s["secret_key"],
    )
    with pytest.raises(AuthError) as info:
        provider.can_receive(sample_counterparty("token-bad"))
    assert "wrong-app-secret-123" not in str(info.value)
    assert s["secret_key"] not in str(info.value)


def test_wrong_password_is_an_auth_error_without_the_password(
    start_fake: Callable[..., SbisWorld],
) -> None:
    _fake, server = start_fake()
    provider = _provider(server, password="Sup3r-Secret-Pw")
    with pytest.raises(AuthError) as info:
        provider.can_receive(sample_counterparty("pw-bad"))
    assert "Sup3r-Secret-Pw" not in str(info.value)
    assert "Sup3r-Secret-Pw" not in repr(info.value)


def test_secrets_stay_out_of_reprs_logs_and_recordings(
    sbis: SbisWorld,
    open_bridge: Callable[..., Bridge],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    fake, _server = sbis
    password = fake.options["password"]
    record = tmp_path / "record.jsonl"
    recorded = FakeServer(fake, record=record).start()
    try:
        bridge = open_bridge(recorded)
        provider = bridge.provider("sbis")
        assert isinstance(provider, SbisProvider)
        caplog.set_level(logging.DEBUG)
        cp = sample_counterparty("masked")
        fake.add_counterparty(cp, "sign")
        from edi_bridge.testing import sample_contract

        bridge.send(cp, sample_contract("C-masked"), idempotency_key="masked", provider="sbis")
        sessions = set(fake.world.credentials)
        texts = [
            repr(provider),
            repr(provider.settings),
            repr(provider.client),
            caplog.text,
            record.read_text(encoding="utf-8"),
        ]
    finally:
        recorded.stop()
    assert sessions
    for text in texts:
        assert password not in text
    # The recording shows the fake's own answers (a session id is what sign-in returns);
    # what the library itself prints never carries it.
    for text in texts[:4]:
        for sid in sessions:
            assert sid not in text


def test_settings_name_the_missing_or_bad_key() -> None:
    base = {"our_inn": "7707083893", "our_kpp": "773601001", "our_name": "ООО «Поставщик»"}
    with pytest.raises(ConfigurationError, match=r"sbis\.login"):
        SbisSettings.from_config(base)
    with pytest.raises(ValidationError, match=r"sbis\.our_inn"):
        SbisSettings.from_config({**base, "login": "a", "password": "b", "our_inn": "123"})
    with pytest.raises(ConfigurationError, match="TLS"):
        SbisSettings.from_config({**base, "login": "a", "password": "b", "verify": "0"})


def test_tls_off_is_allowed_only_for_loopback() -> None:
    base = {
        "our_inn": "7707083893",
        "our_kpp": "773601001",
        "our_name": "ООО «Поставщик»",
        "login": "a",
        "password": "b",
        "verify": "false",
    }
    local = SbisSettings.from_config({**base, "base_url": "https://127.0.0.1:8443"})
    assert local.transport.tls_verify is False
    client = SbisClient(local)
    assert client.http.session.verify is False
    with pytest.raises(ConfigurationError):
        SbisSettings.from_config({**base, "base_url": "https://fix-online.sbis.ru"})


def test_fake_options_choose_credentials() -> None:
    fake = SbisFake(FakeOptions(extra={"login": "other", "our_inn": "7707083893"}))
    assert fake.exports("http://127.0.0.1:1")["EDI_BRIDGE_SBIS_LOGIN"] == "other"
