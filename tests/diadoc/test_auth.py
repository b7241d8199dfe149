"""Authentication against the fake: DiadocAuth tokens, OIDC bearers, secrets masked."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
import requests
from edi_bridge_providers.diadoc import DiadocSettings
from edi_bridge_providers.diadoc.fake import DiadocFake

from edi_bridge import Bridge
from edi_bridge.errors import AuthError, NotSent
from edi_bridge.fakes.server import FakeServer
from edi_bridge.testing import sample_contract, sample_counterparty

from .conftest import make_adapter, send_request, settings_for


def test_expired_token_costs_one_reauthentication_and_no_failed_send(
    fake: DiadocFake, server: FakeServer, tmp_path: Path
) -> None:
    adapter = make_adapter(server)
    adapter.send(send_request(fake, tmp_path, "auth-1"))
    assert fake.sign_ins == 1
    fake.expire_credentials()  # the token dies mid-run
    adapter.send(send_request(fake, tmp_path, "auth-2"))
    assert fake.sign_ins == 2
    assert fake.message_count() == 2
    assert adapter.client.auth.sign_ins == 2


def test_token_is_reused_between_calls(
    fake: DiadocFake, server: FakeServer, tmp_path: Path
) -> None:
    adapter = make_adapter(server)
    for n in range(3):
        adapter.send(send_request(fake, tmp_path, f"reuse-{n}"))
    assert fake.calls("/V3/Authenticate") == 1


def test_wrong_password_is_an_auth_error_without_the_password(
    fake: DiadocFake, server: FakeServer, tmp_path: Path
) -> None:
    adapter = make_adapter(server, password="not-the-password-123")
    with pytest.raises(AuthError) as caught:
        adapter.send(send_request(fake, tmp_path, "bad-password"))
    assert caught.value.status == 401
    assert caught.value.code == "DiadocApi.InvalidCredentials"
    assert "not-the-password-123" not in str(caught.value)
    assert fake.message_count() == 0


def test_a_second_401_is_not_retried_forever(
    fake: DiadocFake, server: FakeServer, tmp_path: Path
) -> None:
    adapter = make_adapter(server)
    adapter.client.auth.current(adapter.client.http)
    # Every token the fake hands out dies at once: re-authenticate once, then give up.
    original = fake._new_token

    def dead_token() -> str:
        token = original()
        fake.world.credentials.discard(token)
        return token

    fake._new_token = dead_token  # type: ignore[method-assign]
    fake.expire_credentials()
    with pytest.raises(AuthError):
        adapter.client.my_organizations()
    assert fake.calls("/GetMyOrganizations") == 2


def test_oidc_client_credentials_flow(fake: DiadocFake, server: FakeServer, tmp_path: Path) -> None:
    config = {k.removeprefix("diadoc."): v for k, v in fake.oidc_settings(server.url).items()}
    adapter = make_adapter(server, **config)
    adapter.client.settings = DiadocSettings.from_config(config)
    assert adapter.settings.auth == "oidc"
    adapter.send(send_request(fake, tmp_path, "oidc-1"))
    assert fake.calls("/connect/token") == 1
    assert fake.calls("/V3/Authenticate") == 0
    fake.expire_credentials()
    adapter.send(send_request(fake, tmp_path, "oidc-2"))
    assert fake.calls("/connect/token") == 2
    assert fake.message_count() == 2


def test_oidc_refresh_token_flow_rotates_the_refresh_token(
    fake: DiadocFake, server: FakeServer, tmp_path: Path
) -> None:
    first = requests.post(
        server.url + "/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": fake.options["oidc_client_id"],
            "client_secret": fake.options["oidc_client_secret"],
        },
        timeout=5,
    ).json()
    config = {k.removeprefix("diadoc."): v for k, v in fake.oidc_settings(server.url).items()}
    del config["client_secret"]
    config["refresh_token"] = first["refresh_token"]
    adapter = make_adapter(server, **config)
    adapter.send(send_request(fake, tmp_path, "refresh-1"))
    fake.expire_credentials()
    # The fake accepts each refresh token once: this works only with the rotated one.
    adapter.send(send_request(fake, tmp_path, "refresh-2"))
    assert fake.message_count() == 2


def test_secrets_stay_out_of_reprs_logs_and_recordings(
    fake: DiadocFake, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sink = io.StringIO()
    password = fake.options["password"]
    with FakeServer(fake, record=sink) as server:
        adapter = make_adapter(server)
        with caplog.at_level(logging.DEBUG):
            adapter.send(send_request(fake, tmp_path, "secret-1"))
            fake.expire_credentials()
            adapter.send(send_request(fake, tmp_path, "secret-2"))
        token = adapter.client.auth._secret
        assert token
        shown = " ".join(
            [repr(adapter), repr(adapter.settings), repr(adapter.client), repr(adapter.client.auth)]
        )
        assert password not in shown
        assert token not in shown
        assert "***" in repr(adapter.settings)
        assert password not in caplog.text
        assert token not in caplog.text
    recorded = sink.getvalue()
    assert recorded.count("\n") >= 5
    assert password not in recorded
    assert token not in recorded
    auth_line = next(
        json.loads(line) for line in recorded.splitlines() if "/V3/Authenticate" in line
    )
    assert auth_line["request"]["password"] == "***"


def test_a_send_with_our_wrong_password_is_recorded_as_our_fault(
    fake: DiadocFake, server: FakeServer, tmp_path: Path
) -> None:
    settings = settings_for(server, password="not-the-password-456")
    with Bridge.open(tmp_path / "edi.db", settings=settings) as bridge:
        counterparty = sample_counterparty("our-fault")
        fake.add_counterparty(counterparty, "sign")
        exchange = bridge.send(counterparty, sample_contract("P-1"), provider="diadoc")
        assert exchange.status == "failed"
        assert exchange.attempts == 1
        cause = exchange.history[-1].cause
        assert cause.startswith("diadoc rejected our credentials: check ")
        assert "diadoc.password" in cause
        assert "refused the send" not in cause
        assert "not-the-password-456" not in cause + (exchange.reason or "")
        with pytest.raises(NotSent) as caught:
            bridge.send(counterparty, sample_contract("P-2"), provider="diadoc", strict=True)
        assert caught.value.status == "failed"
        assert bridge.status(caught.value.exchange_id).status == "failed"
