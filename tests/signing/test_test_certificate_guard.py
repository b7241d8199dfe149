"""The built-in throwaway certificate never signs what goes to a real operator."""

from __future__ import annotations

from pathlib import Path

import pytest

from edi_bridge import Bridge, ConfigurationError
from edi_bridge.testing import sample_contract, sample_counterparty

# A real operator's host: the guard refuses before any request is made.
REAL = {
    "diadoc.host": "production",
    "diadoc.login": "ops@example.invalid",
    "diadoc.password": "placeholder",
    "diadoc.api_client_id": "client",
}


def test_sending_to_a_real_operator_with_the_throwaway_certificate_is_refused(
    tmp_path: Path,
) -> None:
    with Bridge.open(tmp_path / "edi.db", settings=REAL) as bridge:
        with pytest.raises(ConfigurationError) as err:
            bridge.send(sample_counterparty("real"), sample_contract("T-1"), provider="diadoc")
        message = str(err.value)
        assert "diadoc-api.kontur.ru" in message
        assert "signing.kind" in message
        assert "signing.allow_test_certificate=true" in message
        assert bridge.list() == []


def test_signing_kind_test_is_refused_too_unless_explicitly_allowed(tmp_path: Path) -> None:
    kind_test = {**REAL, "signing.kind": "test"}
    with (
        Bridge.open(tmp_path / "a.db", settings=kind_test) as bridge,
        pytest.raises(ConfigurationError),
    ):
        bridge.decide_route(sample_counterparty("real"), "diadoc")
    allowed = {**REAL, "signing.allow_test_certificate": "true"}
    with Bridge.open(tmp_path / "b.db", settings=allowed) as bridge:
        assert bridge.decide_route(sample_counterparty("real"), "diadoc").provider == "diadoc"


def test_the_mock_and_loopback_fakes_take_the_throwaway_certificate(tmp_path: Path) -> None:
    local = {**REAL, "diadoc.base_url": "http://127.0.0.1:9"}
    with Bridge.open(tmp_path / "edi.db", settings=local) as bridge:
        assert bridge.decide_route(sample_counterparty("x"), "diadoc").provider == "diadoc"
        assert bridge.send(sample_counterparty("m"), sample_contract("T-2")).status == "sent"
