"""Receipts SBIS expects from us (service stages), made and signed through the fake over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from edi_bridge_providers.sbis.fake.cms import digest_matches
from edi_bridge_providers.sbis.service import M_SERVICE_INFO

from edi_bridge import Bridge, ExchangeStatus
from edi_bridge.errors import ValidationError
from edi_bridge.testing import sample_contract
from edi_bridge.workflow import docflow

from .conftest import SbisWorld
from .helpers import party, rpc, session


def test_our_due_receipt_is_listed_then_signed_and_the_flow_finishes(
    start_fake: Callable[..., SbisWorld], open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = start_fake(seed="3", receipts="1")
    bridge = open_bridge(server)
    cp = party("sign-after:2", fake, seed="sbis-receipt")
    sent = bridge.send(cp, sample_contract("RC-1"), idempotency_key="rc-1", provider="sbis")
    adapter = bridge.provider("sbis")
    doc_id = sent.provider_ref["document_id"]
    flt = {"Фильтр": {"ИдентификаторДокумента": doc_id}}
    count = rpc(server, M_SERVICE_INFO, flt, session(server, fake))
    assert count.json()["result"]["ЧислоНеобработанныхЭтапов"] == "1"
    (due,) = adapter.pending_receipts(sent.provider_ref)  # type: ignore[attr-defined]
    assert due["answers"] == "Служебный"
    waiting = adapter.document_flow(sent.provider_ref, answer=False)  # type: ignore[attr-defined]
    assert waiting["finished"] is False  # asked, not answered: nothing was signed
    doc = fake.world.documents[doc_id]
    assert not [a for a in doc.attachments if a.name.startswith("Извещение_о_получении")]

    for _ in range(3):  # delivered, signed; then the flow is followed and our receipt made
        bridge.poll(["sbis"])
    done = bridge.status(sent.id)
    assert done.status == ExchangeStatus.SIGNED
    assert "flow_finished" in [h.status for h in done.history]
    (receipt,) = [a for a in doc.attachments if a.name.startswith("Извещение_о_получении")]
    (ours,) = receipt.signatures
    assert ours.inn == fake.world.our_inn
    assert digest_matches(ours.data, receipt.data)
    assert adapter.pending_receipts(sent.provider_ref) == []  # type: ignore[attr-defined]
    assert docflow.view(adapter, done) == {"finished": True, "waiting_for": []}


def test_without_a_service_stage_the_flow_finishes_at_the_signature(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    sent = bridge.send(
        party("sign", fake), sample_contract("RC-2"), idempotency_key="rc-2", provider="sbis"
    )
    for _ in range(2):
        bridge.poll(["sbis"])
    done = bridge.status(sent.id)
    assert [h.status for h in done.history][-2:] == ["signed", "flow_finished"]
    doc = fake.world.documents[sent.provider_ref["document_id"]]
    assert not [a for a in doc.attachments if a.name.startswith("Извещение_о_получении")]


def test_an_open_flow_is_asked_once_per_interval(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    sent = bridge.send(
        party("sign", fake), sample_contract("RC-3"), idempotency_key="rc-3", provider="sbis"
    )
    adapter: Any = bridge.provider("sbis")
    assert adapter.document_flow_interval == 300.0  # the default: sbis.docflow_interval
    asked: list[str] = []

    def still_open(ref: Mapping[str, str], answer: bool = True) -> dict[str, Any]:
        asked.append(ref["document_id"])
        return {"finished": False, "waiting_for": [], "pending_receipts": []}

    monkeypatch.setattr(adapter, "document_flow", still_open)
    for _ in range(2):  # delivered, signed
        bridge.poll(["sbis"])
    assert bridge.status(sent.id).status == ExchangeStatus.SIGNED
    base, offset = time.monotonic(), [0.0]

    def follow_at(seconds: float) -> int:
        offset[0] = seconds
        before = len(asked)
        docflow.follow(bridge.store, "sbis", adapter, clock=lambda: base + offset[0])
        return len(asked) - before

    assert asked == [sent.provider_ref["document_id"]]  # by the poll that read the signature
    assert follow_at(0) == 0
    assert follow_at(299) == 0
    assert follow_at(301) == 1
    assert follow_at(400) == 0


def test_a_negative_interval_is_refused_naming_the_key(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    _fake, server = sbis
    bridge = open_bridge(server, settings={"docflow_interval": "-1"})
    with pytest.raises(ValidationError, match=r"sbis\.docflow_interval"):
        bridge.provider("sbis")
