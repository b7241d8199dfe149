"""The SBIS adapter passes the provider contract suite against the fake over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from edi_bridge import Bridge, Counterparty
from edi_bridge.testing import sample_counterparty
from edi_bridge.testing.contract import ContractEnv, ProviderContract

from .conftest import SbisWorld


class TestSbisContract(ProviderContract):
    @pytest.fixture
    def contract_env(self, sbis: SbisWorld, open_bridge: Callable[..., Bridge]) -> ContractEnv:
        fake, server = sbis
        bridge = open_bridge(server)

        def counterparty(scenario: str) -> Counterparty:
            cp = sample_counterparty(f"sbis-{scenario}")
            fake.add_counterparty(cp, scenario)
            return cp

        return ContractEnv(
            bridge=bridge,
            provider="sbis",
            counterparty=counterparty,
            documents_at_provider=lambda key: fake.documents_numbered(f"C-{key}"),
        )
