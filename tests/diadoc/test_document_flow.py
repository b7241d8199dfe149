"""A signed УПД whose operator document flow is not finished (our receipt on the operator's
confirmation refused) keeps being followed by the poll: ``status`` and ``closing status``
say what it waits for, and once the receipt goes the flow is recorded finished, once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from edi_bridge_providers.diadoc.fake import DiadocFake

from edi_bridge import Bridge
from edi_bridge.cli import main
from edi_bridge.closing.archive import period_status
from edi_bridge.closing.ledger import Ledger
from edi_bridge.fakes.server import FakeServer
from edi_bridge.lifecycle import ClosingStatus
from edi_bridge.models import FLOW_FINISHED, ExchangeStatus
from edi_bridge.testing import sample_contract, sample_counterparty
from edi_bridge.workflow import docflow

from .conftest import settings_for
from .test_buyer_title import _upd

PERIOD = "2026-11"


def _cli(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _ledger_row(bridge: Bridge, exchange_id: str) -> None:
    Ledger(bridge.store.engine).insert(
        key="closing:flow",
        period=PERIOD,
        counterparty_key="flow",
        counterparty_name="ООО «Покупатель»",
        number="УПД-1",
        kind="upd",
        channel="edi",
        provider="diadoc",
        recipient="diadoc",
        status=ClosingStatus.SENT,
        exchange_ids=[exchange_id],
        files=[],
    )


def test_a_signed_upd_is_complete_only_when_its_document_flow_finished(
    fake: DiadocFake, server: FakeServer, tmp_path: Path
) -> None:
    counterparty = sample_counterparty("flow-open")
    fake.add_counterparty(counterparty, "sign")
    fake.world.refuse_receipts = 1_000  # Diadoc refuses our receipt, for now
    settings = settings_for(server)
    env = {"EDI_BRIDGE_DB": str(tmp_path / "edi.db")}
    env |= {"EDI_BRIDGE_" + k.replace(".", "_").upper(): v for k, v in settings.items()}
    with Bridge.open(tmp_path / "edi.db", settings=settings) as bridge:
        document, _content = _upd()
        exchange = bridge.send(counterparty, document, provider="diadoc")
        _ledger_row(bridge, exchange.id)
        for _ in range(4):
            bridge.poll(["diadoc"])
        open_ = bridge.status(exchange.id)
        assert open_.status == ExchangeStatus.SIGNED
        assert not open_.flow_recorded
        [row] = period_status(bridge, PERIOD, poll=False)
        assert (row["state"], row["flow_open"]) == ("signed, flow open", [exchange.id])

    text = _cli(env, "status", exchange.id)
    assert "document flow: waiting for: " in text
    assert "our receipt on InvoiceConfirmation confirmation.xml (us)" in text
    data = json.loads(_cli(env, "status", exchange.id, "--json"))
    assert data["document_flow"]["finished"] is False
    assert "us" in {w["party"] for w in data["document_flow"]["waiting_for"]}
    assert "signed, flow open" in _cli(env, "closing", "status", "--period", PERIOD, "--no-poll")

    fake.world.refuse_receipts = 0  # the next poll makes the receipt that is still due
    with Bridge.open(tmp_path / "edi.db", settings=settings) as bridge:
        changes = bridge.poll(["diadoc"])
        assert [(c.exchange_id, c.kind) for c in changes if c.kind == FLOW_FINISHED] == [
            (exchange.id, FLOW_FINISHED)
        ]
        done = bridge.status(exchange.id)
        assert done.status == ExchangeStatus.SIGNED
        assert done.flow_recorded
        steps = [h.status for h in done.history]
        assert steps.count(FLOW_FINISHED) == 1
        assert steps.count("signed") == 1  # the status stays; the flow's end is a step
        bridge.poll(["diadoc"])  # followed no longer: nothing recorded twice
        again = bridge.status(exchange.id)
        assert [h.status for h in again.history].count(FLOW_FINISHED) == 1
        [row] = period_status(bridge, PERIOD, poll=False)
        assert (row["state"], row["flow_open"]) == ("signed", [])
    # The operator's record says so too: our receipt sits under its confirmation.
    entities = fake.world.messages[exchange.provider_ref["message_id"]]["Entities"]
    assert [e for e in entities if e.get("AttachmentType") == "Receipt"]
    assert "document flow: finished" in _cli(env, "status", exchange.id)
    data = json.loads(_cli(env, "status", exchange.id, "--json"))
    assert data["document_flow"] == {"finished": True, "waiting_for": []}
    assert data["pending_receipts"] == []


def test_the_mock_finishes_the_document_flow_at_the_signature(tmp_path: Path) -> None:
    env = {"EDI_BRIDGE_DB": str(tmp_path / "edi.db")}
    with Bridge.open(tmp_path / "edi.db") as bridge:
        exchange = bridge.send(
            sample_counterparty("flow-mock"), sample_contract("F-1"), provider="mock"
        )
        assert "document flow" not in _cli(env, "status", exchange.id)  # not signed yet
        for _ in range(6):
            bridge.poll(["mock"])
        assert bridge.status(exchange.id).status == ExchangeStatus.SIGNED
    assert "document flow: finished" in _cli(env, "status", exchange.id)
    data = json.loads(_cli(env, "status", exchange.id, "--json"))
    assert data["document_flow"] == {"finished": True, "waiting_for": []}


def test_open_flows_are_followed_and_recorded_once_on_postgresql(
    fake: DiadocFake, server: FakeServer, postgres_url: str
) -> None:
    counterparty = sample_counterparty("flow-pg")
    fake.add_counterparty(counterparty, "sign")
    fake.world.refuse_receipts = 1_000
    # Asked on every poll (no interval): this test is about recording once.
    with Bridge.open(postgres_url, settings=settings_for(server, docflow_interval="0")) as bridge:
        document, _content = _upd()
        exchange = bridge.send(counterparty, document, provider="diadoc")
        for _ in range(4):
            bridge.poll(["diadoc"])
        assert bridge.status(exchange.id).status == ExchangeStatus.SIGNED
        assert not bridge.status(exchange.id).flow_recorded
        fake.world.refuse_receipts = 0
        bridge.poll(["diadoc"])
        bridge.poll(["diadoc"])
        steps = [h.status for h in bridge.status(exchange.id).history]
        assert steps.count(FLOW_FINISHED) == 1
        kinds = [e.kind for e in bridge.events(limit=1_000) if e.exchange_id == exchange.id]
        assert kinds.count(FLOW_FINISHED) == 1


def test_a_flow_that_never_finishes_does_not_keep_the_others_waiting(
    fake: DiadocFake, server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docflow, "PER_POLL", 1)  # one question per poll: turns are visible
    fake.world.refuse_receipts = 1_000
    settings = settings_for(server, docflow_interval="0")  # turns, not the interval, decide
    with Bridge.open(tmp_path / "edi.db", settings=settings) as bridge:
        sent = []
        for name in ("flow-stuck", "flow-later"):
            counterparty = sample_counterparty(name)
            fake.add_counterparty(counterparty, "sign")
            sent.append(bridge.send(counterparty, _upd()[0], provider="diadoc"))
        for _ in range(4):
            bridge.poll(["diadoc"])
        with bridge.store.transaction() as conn:
            first, second = bridge.store.unfinished_flows(
                conn, "diadoc", ["signed"], FLOW_FINISHED, 10
            )
        stuck, later = bridge.status(first[0]), bridge.status(second[0])
        # The one asked first has its message gone at the operator: never readable again.
        del fake.world.messages[stuck.provider_ref["message_id"]]
        fake.world.refuse_receipts = 0
        for _ in range(3):
            bridge.poll(["diadoc"])
        assert bridge.status(later.id).flow_recorded
        assert not bridge.status(stuck.id).flow_recorded
