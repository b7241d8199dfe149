"""Adapters are found by entry point or registered by hand; gaps are named."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from edi_bridge import (
    Bridge,
    Capability,
    ConfigurationError,
    Provider,
    ProviderContext,
    Registry,
    SendRequest,
    SendResult,
    UnknownProvider,
    UnsupportedFeature,
)
from edi_bridge.testing import sample_contract, sample_counterparty


class SendOnly(Provider):
    """A private adapter that can send but not read events or fetch."""

    name = "sendonly"
    operator = "sendonly"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SEND})
    sent: ClassVar[list[str]] = []

    def send(self, request: SendRequest) -> SendResult:
        self.sent.append(request.idempotency_key)
        return SendResult(ref={"id": request.exchange_id}, document_id=request.exchange_id)


def test_installed_adapters_come_from_entry_points() -> None:
    names = Registry().names()
    assert {"mock", "diadoc"} <= set(names)
    assert Registry().for_operator("diadoc") == "diadoc"


def test_unknown_provider_names_what_is_installed() -> None:
    with pytest.raises(UnknownProvider, match=r"installed: .*mock"):
        Registry().get("nosuch")


def test_a_broken_entry_is_a_clear_error() -> None:
    registry = Registry(use_entry_points=False)
    registry.register("broken", "edi_bridge_providers.nosuch:Adapter")
    with pytest.raises(UnknownProvider, match="cannot be loaded"):
        registry.get("broken")
    registry.register("notaclass", "edi_bridge.models:Counterparty")
    with pytest.raises(UnknownProvider, match="not a Provider class"):
        registry.get("notaclass")


def test_private_adapter_sends_and_missing_features_name_provider_and_feature(
    tmp_path: Path,
) -> None:
    registry = Registry()
    registry.register("sendonly", SendOnly)
    with Bridge.open(tmp_path / "r.db", registry=registry) as bridge:
        exchange = bridge.send(
            sample_counterparty("private"), sample_contract(), provider="sendonly"
        )
        assert exchange.status == "sent"
        assert SendOnly.sent == [exchange.idempotency_key]
        adapter = bridge.provider("sendonly")
        with pytest.raises(UnsupportedFeature) as info:
            adapter.fetch({"id": exchange.id})
        assert info.value.provider == "sendonly"
        assert info.value.feature == "fetch"
        assert "sendonly" in str(info.value)
        assert "fetch" in str(info.value)
        with pytest.raises(UnsupportedFeature, match="events"):
            adapter.poll(None)
        bridge.poll(["sendonly"])  # no event feed: nothing to do, no error
        manifest = bridge.fetch(exchange.id, tmp_path / "out")
        assert manifest.exists()  # our own files, without the operator's copies


def test_provider_context_carries_only_its_section(tmp_path: Path) -> None:
    seen: list[ProviderContext] = []

    class Spy(SendOnly):
        name = "spy"

        def __init__(self, context: ProviderContext) -> None:
            super().__init__(context)
            seen.append(context)

    registry = Registry(use_entry_points=False)
    registry.register("spy", Spy)
    settings = {"spy.token": "t-1", "paper.sender_name": "not-for-spy"}
    with Bridge.open(tmp_path / "r.db", registry=registry, settings=settings) as bridge:
        bridge.provider("spy")
    assert dict(seen[0].config) == {"token": "t-1"}


def test_a_misspelt_adapter_setting_is_refused_naming_the_closest_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as err:
        Bridge.open(
            tmp_path / "edi.db", settings={"diadoc.pasword": "S3cr3t-v", "diadoc.login": "l"}
        )
    assert "'diadoc.pasword'" in str(err.value)
    assert "did you mean diadoc.password?" in str(err.value)
    assert "S3cr3t-v" not in str(err.value)


def test_declared_setting_keys_and_families_are_accepted(tmp_path: Path) -> None:
    settings = {
        "diadoc.password": "p",
        "diadoc.timeout": "5",
        "sbis.doc_type_contract": "ДоговорИсх",
        "sbis.tls_verify": "true",
    }
    with Bridge.open(tmp_path / "edi.db", settings=settings) as bridge:
        assert bridge.list() == []
