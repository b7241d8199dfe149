"""The Diadoc adapter passes the provider contract suite against the fake, over HTTP."""

from __future__ import annotations

import pytest
from edi_bridge_providers.diadoc.fake import DiadocFake

from edi_bridge import Bridge, Counterparty
from edi_bridge.testing import sample_counterparty
from edi_bridge.testing.contract import ContractEnv, ProviderContract


class TestDiadocContract(ProviderContract):
    @pytest.fixture
    def contract_env(self, bridge: Bridge, fake: DiadocFake) -> ContractEnv:
        def counterparty(scenario: str) -> Counterparty:
            cp = sample_counterparty(f"diadoc-{scenario}")
            fake.add_counterparty(cp, scenario)
            return cp

        return ContractEnv(
            bridge=bridge,
            provider="diadoc",
            counterparty=counterparty,
            documents_at_provider=fake.documents_for_key,
        )
