"""Under server errors, repeated unordered pages and expiring sessions, nothing doubles."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from edi_bridge import Bridge, ExchangeStatus
from edi_bridge.errors import TransientError
from edi_bridge.fakes.server import Faults
from edi_bridge.testing import sample_contract

from .conftest import SbisWorld
from .helpers import party


def _run(
    count: int, start_fake: Callable[..., SbisWorld], open_bridge: Callable[..., Bridge]
) -> None:
    faults = Faults(rates={"500": 0.3}, seed=11)
    fake, server = start_fake(
        faults=faults, seed="11", repeat_rate="0.3", expire_every="37", expire_mode="rpc"
    )
    bridge = open_bridge(server, settings={"page_size": "20"})
    ids = []
    for n in range(count):
        cp = party("sign", fake, seed=f"rel-{n}")
        exchange = bridge.send(
            cp, sample_contract(f"REL-{n}"), idempotency_key=f"rel-{n}", provider="sbis"
        )
        ids.append(exchange.id)
    for _ in range(60):
        bridge.dispatch_queued(limit=count)
        try:
            bridge.poll(["sbis"])
        except TransientError:
            continue  # the next round reads the same feed again
        if all(bridge.status(i).status == ExchangeStatus.SIGNED for i in ids):
            break
    statuses = {bridge.status(i).status for i in ids}
    assert statuses == {ExchangeStatus.SIGNED}
    assert faults.injected.get("500", 0) > 0
    assert sum(1 for d in fake.world.documents.values() if d.sent) == count
    assert len(fake.world.documents) == count
    for i in ids:
        history = [h.status for h in bridge.status(i).history]
        assert history.count("signed") == 1
        assert len(bridge.status(i).signatures) == 2
    assert sum(1 for e in bridge.events(limit=100_000) if e.kind == "signed") == count


def test_a_dozen_contracts_under_faults_end_as_a_dozen_signed_documents(
    start_fake: Callable[..., SbisWorld], open_bridge: Callable[..., Bridge]
) -> None:
    _run(12, start_fake, open_bridge)


@pytest.mark.slow
def test_two_hundred_contracts_under_faults_end_as_two_hundred_signed_documents(
    start_fake: Callable[..., SbisWorld], open_bridge: Callable[..., Bridge]
) -> None:
    _run(200, start_fake, open_bridge)
