"""The mock provider passes the provider contract suite."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from edi_bridge_providers.mock import MockProvider

from edi_bridge import Bridge, Counterparty
from edi_bridge.testing import sample_counterparty
from edi_bridge.testing.contract import ContractEnv, ProviderContract


class TestMockContract(ProviderContract):
    @pytest.fixture
    def contract_env(self, tmp_path: Path) -> Iterator[ContractEnv]:
        bridge = Bridge.open(tmp_path / "edi.db")

        def counterparty(_scenario: str) -> Counterparty:
            return sample_counterparty("mock-contract")

        def documents_at_provider(key: str) -> int:
            adapter = bridge.provider("mock")
            assert isinstance(adapter, MockProvider)
            return adapter.documents_for_key(key)

        def send_kwargs(scenario: str) -> Mapping[str, Any]:
            return {"scenario": scenario}

        yield ContractEnv(
            bridge=bridge,
            provider="mock",
            counterparty=counterparty,
            documents_at_provider=documents_at_provider,
            send_kwargs=send_kwargs,
        )
        bridge.close()
