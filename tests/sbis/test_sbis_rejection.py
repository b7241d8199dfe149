"""A counterparty's refusal through SBIS keeps its signed notice beside the exchange."""

from __future__ import annotations

from collections.abc import Callable

from edi_bridge_providers.sbis.fake.cms import digest_matches

from edi_bridge import Bridge, ExchangeStatus
from edi_bridge.testing import sample_contract

from .conftest import SbisWorld
from .helpers import party


def _stored(bridge: Bridge, exchange_id: str, role: str) -> tuple[str, bytes]:
    record = next(s for s in bridge.status(exchange_id).signatures if s.role == role)
    with bridge.store.open_blob(record.sha256) as fh:
        return record.file_name, fh.read()


def test_a_rejection_keeps_its_signed_notice_and_the_reason(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    cp = party("reject:Нет доверенности", fake, seed="sbis-refuse")
    sent = bridge.send(cp, sample_contract("RJ-1"), idempotency_key="rj-1", provider="sbis")
    for _ in range(2):
        bridge.poll(["sbis"])
    done = bridge.status(sent.id)
    assert done.status == ExchangeStatus.REJECTED
    assert done.reason == "Нет доверенности"
    name, notice = _stored(bridge, sent.id, "rejection")
    _, signature = _stored(bridge, sent.id, "rejection_signature")
    assert name.endswith(".rejection.xml")
    assert "Нет доверенности" in notice.decode()
    assert digest_matches(signature, notice)  # the counterparty's signature over its notice
