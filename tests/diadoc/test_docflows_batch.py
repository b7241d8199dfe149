"""Open document flows asked in GetDocflows (V3) batches: one request for many documents, a
bad document never stops the others, an outage is raised after the rest, no flow is asked
again sooner than ``diadoc.docflow_interval``, and ``status`` asks the operator once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from edi_bridge_providers.diadoc import docflow as diadoc_docflow
from edi_bridge_providers.diadoc.fake import DiadocFake

from edi_bridge import Bridge
from edi_bridge.cli import main
from edi_bridge.errors import ConfigurationError, ProviderError, ProviderNotFound, TransientError
from edi_bridge.fakes.server import FakeServer
from edi_bridge.models import ExchangeStatus
from edi_bridge.testing import sample_counterparty
from edi_bridge.workflow import docflow

from .conftest import settings_for
from .test_buyer_title import _upd

FLOW_CALLS = ("/V3/GetDocflows", "/V6/GetMessage")


def _asked(fake: DiadocFake) -> dict[str, int]:
    return {path: fake.calls(path) for path in FLOW_CALLS}


@pytest.fixture
def open_flows(fake: DiadocFake, server: FakeServer, tmp_path: Path) -> Iterator[Bridge]:
    """Three signed УПД whose flows stay open (Diadoc refuses our receipts for now)."""
    fake.world.refuse_receipts = 1_000
    with Bridge.open(tmp_path / "edi.db", settings=settings_for(server)) as bridge:
        for name in ("batch-a", "batch-b", "batch-c"):
            counterparty = sample_counterparty(name)
            fake.add_counterparty(counterparty, "sign")
            bridge.send(counterparty, _upd()[0], provider="diadoc")
        for _ in range(4):
            bridge.poll(["diadoc"])
        yield bridge


def _signed(bridge: Bridge) -> list[Any]:
    found = [e for e in bridge.list() if e.status == ExchangeStatus.SIGNED]
    assert len(found) == 3
    return found


def test_many_flows_are_read_in_one_request(open_flows: Bridge, fake: DiadocFake) -> None:
    adapter: Any = open_flows.provider("diadoc")
    refs = [e.provider_ref for e in _signed(open_flows)]
    before = _asked(fake)
    states = adapter.document_flows(refs, answer=False)
    assert _asked(fake) == {
        "/V3/GetDocflows": before["/V3/GetDocflows"] + 1,
        "/V6/GetMessage": before["/V6/GetMessage"],
    }
    for state in states:
        assert state["finished"] is False
        assert {"party": "us", "what": "the receipt on the operator's confirmation"} in (
            state["waiting_for"]
        )
        [due] = state["pending_receipts"]
        assert due["answers"] == "InvoiceConfirmation"


def test_a_document_the_operator_does_not_have_does_not_stop_the_batch(
    open_flows: Bridge, fake: DiadocFake
) -> None:
    adapter: Any = open_flows.provider("diadoc")
    first, second, third = [e.provider_ref for e in _signed(open_flows)]
    del fake.world.messages[second["message_id"]]  # gone at the operator
    states = adapter.document_flows([first, second, third], answer=False)
    assert isinstance(states[1], ProviderNotFound)
    assert [states[0]["finished"], states[2]["finished"]] == [False, False]
    # None of them found: Diadoc's 404 for the batch is each one's "not found".
    del fake.world.messages[first["message_id"]]
    del fake.world.messages[third["message_id"]]
    assert all(
        isinstance(s, ProviderNotFound)
        for s in adapter.document_flows([first, second, third], answer=False)
    )


def test_a_document_that_does_not_fit_the_protocol_is_its_own_error(
    open_flows: Bridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter: Any = open_flows.provider("diadoc")
    refs = [e.provider_ref for e in _signed(open_flows)]
    real = adapter.client.docflows

    def broken(box: str, ids: list[tuple[str, str]]) -> Any:
        answer = real(box, ids)
        del answer["Documents"][0]["Docflow"]["SenderTitle"]  # a required field missing
        return answer

    monkeypatch.setattr(adapter.client, "docflows", broken)
    first, *rest = adapter.document_flows(refs, answer=False)
    assert isinstance(first, ProviderError)
    assert "Docflow.SenderTitle: required" in str(first)
    assert [s["finished"] for s in rest] == [False, False]


def test_an_outage_in_one_batch_leaves_the_other_batches_read(
    open_flows: Bridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(diadoc_docflow, "BATCH_LIMIT", 2)  # three flows: two batches
    adapter: Any = open_flows.provider("diadoc")
    refs = [e.provider_ref for e in _signed(open_flows)]
    real, calls = adapter.client.docflows, []

    def down_once(box: str, ids: list[tuple[str, str]]) -> Any:
        calls.append(len(ids))
        if len(calls) == 1:
            raise TransientError("Diadoc is down", provider="diadoc")
        return real(box, ids)

    monkeypatch.setattr(adapter.client, "docflows", down_once)
    states = adapter.document_flows(refs, answer=False)
    assert calls == [2, 1]
    assert [type(s) for s in states[:2]] == [TransientError, TransientError]
    assert states[2]["finished"] is False


def test_a_flow_is_not_asked_again_within_the_interval(
    open_flows: Bridge, fake: DiadocFake
) -> None:
    adapter: Any = open_flows.provider("diadoc")
    assert adapter.document_flow_interval == 300.0  # the default: diadoc.docflow_interval
    base, offset = time.monotonic(), [0.0]

    def clock() -> float:
        return base + offset[0]

    def follow_at(seconds: float) -> int:
        offset[0] = seconds
        before = fake.calls("/V3/GetDocflows")
        docflow.follow(open_flows.store, "diadoc", adapter, clock=clock)
        return fake.calls("/V3/GetDocflows") - before

    # The polls just asked about all three: not again before 300 s have passed.
    assert follow_at(0) == 0
    assert follow_at(299) == 0
    assert follow_at(301) == 1  # all three in one request
    assert follow_at(500) == 0
    assert follow_at(602) == 1


def test_a_zero_interval_asks_on_every_poll(
    fake: DiadocFake, server: FakeServer, tmp_path: Path
) -> None:
    fake.world.refuse_receipts = 1_000
    settings = settings_for(server, docflow_interval="0")
    with Bridge.open(tmp_path / "edi.db", settings=settings) as bridge:
        counterparty = sample_counterparty("batch-zero")
        fake.add_counterparty(counterparty, "sign")
        bridge.send(counterparty, _upd()[0], provider="diadoc")
        for _ in range(4):
            bridge.poll(["diadoc"])
        before = fake.calls("/V3/GetDocflows")
        bridge.poll(["diadoc"])
        bridge.poll(["diadoc"])
        assert fake.calls("/V3/GetDocflows") == before + 2


def test_a_negative_interval_is_refused_naming_the_key(server: FakeServer, tmp_path: Path) -> None:
    settings = settings_for(server, docflow_interval="-1")
    with (
        Bridge.open(tmp_path / "edi.db", settings=settings) as bridge,
        pytest.raises(ConfigurationError, match=r"diadoc\.docflow_interval must be 0 or more"),
    ):
        bridge.provider("diadoc")


def test_status_asks_the_operator_once_for_receipts_and_flow(
    open_flows: Bridge, fake: DiadocFake, server: FakeServer, tmp_path: Path
) -> None:
    exchange = _signed(open_flows)[0]
    env = {"EDI_BRIDGE_DB": str(tmp_path / "edi.db")}
    env |= {"EDI_BRIDGE_" + k.replace(".", "_").upper(): v for k, v in settings_for(server).items()}
    before = _asked(fake)
    result = CliRunner().invoke(main, ["status", exchange.id, "--json"], env=env)
    assert result.exit_code == 0, result.output
    after = _asked(fake)
    assert sum(after.values()) - sum(before.values()) == 1
    data = json.loads(result.output)
    [due] = data["pending_receipts"]
    assert due["answers"] == "InvoiceConfirmation"
    assert data["document_flow"]["finished"] is False


def test_an_outage_is_raised_after_the_other_flows_are_recorded(
    open_flows: Bridge, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    adapter: Any = open_flows.provider("diadoc")
    signed = {e.provider_ref["message_id"]: e.id for e in _signed(open_flows)}
    order: list[str] = []

    def answers(refs: list[Any], answer: bool = True) -> list[Any]:
        order[:] = [signed[r["message_id"]] for r in refs]
        gone = ProviderNotFound("no such document", provider="diadoc")
        return [TransientError("down", provider="diadoc"), gone, {"finished": True}]

    monkeypatch.setattr(adapter, "document_flows", answers)
    with pytest.raises(TransientError):
        docflow.follow(open_flows.store, "diadoc", adapter, clock=lambda: 1e9)
    down, unread, done = order
    assert open_flows.status(done).flow_recorded
    assert not open_flows.status(down).flow_recorded
    gone = ProviderNotFound("no such document", provider="diadoc")
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        f"document flow of {unread} not read: {gone}"
    ]
    # The one the outage kept unread is asked on the next poll, not after the interval.
    asked_next: list[int] = []

    def still_open(refs: list[Any], answer: bool = True) -> list[Any]:
        asked_next.append(len(refs))
        return [{"finished": False}] * len(refs)

    monkeypatch.setattr(adapter, "document_flows", still_open)
    docflow.follow(open_flows.store, "diadoc", adapter, clock=lambda: 1e9 + 1)
    assert asked_next == [1]
