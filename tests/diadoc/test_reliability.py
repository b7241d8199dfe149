"""Many contracts through a fake that fails 30% of requests and repeats events."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from edi_bridge_providers.diadoc.fake import DiadocFake

from edi_bridge import Bridge
from edi_bridge.errors import TransientError
from edi_bridge.fakes.server import FakeOptions, FakeServer, Faults
from edi_bridge.models import ExchangeStatus
from edi_bridge.retry import RetryPolicy
from edi_bridge.testing import sample_contract, sample_counterparty

from .conftest import settings_for


def _run(count: int, tmp_path: Path) -> None:
    fake = DiadocFake(
        FakeOptions(extra={"duplicate_events": "0.2", "duplicate_index_keys": "0.1", "seed": "3"})
    )
    faults = Faults(
        rates={"500": 0.12, "503": 0.08, "timeout": 0.05, "drop": 0.05}, seed=9, delay=0.5
    )
    with FakeServer(fake, faults=faults) as server:
        settings = settings_for(server, timeout="0.3")
        bridge = Bridge.open(
            tmp_path / "edi.db",
            settings=settings,
        )
        try:
            bridge.provider("diadoc").client.http.retry = RetryPolicy(  # type: ignore[attr-defined]
                attempts=6, base_delay=0.01, max_delay=0.05
            )
            ids = []
            for n in range(count):
                counterparty = sample_counterparty(f"rel-{n % 5}")
                fake.add_counterparty(counterparty, "sign")
                ids.append(
                    bridge.send(counterparty, sample_contract(f"REL-{n}"), provider="diadoc").id
                )
            for _ in range(60):
                bridge.dispatch_queued()
                try:
                    bridge.poll(["diadoc"])
                except TransientError:
                    continue
                if all(bridge.status(i).status == ExchangeStatus.SIGNED for i in ids):
                    break
            assert faults.total_injected > count // 2
            assert fake.message_count() == count
            assert {bridge.status(i).status for i in ids} == {ExchangeStatus.SIGNED}
            changes = Counter((e.exchange_id, e.kind) for e in bridge.events(limit=100_000))
            assert max(changes.values()) == 1
            assert changes[(ids[0], "signed")] == 1
        finally:
            bridge.close()


def test_twenty_contracts_through_faults_end_signed_once(tmp_path: Path) -> None:
    _run(20, tmp_path)


@pytest.mark.slow
def test_two_hundred_contracts_through_faults_end_signed_once(tmp_path: Path) -> None:
    _run(200, tmp_path)
