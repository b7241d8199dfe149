"""Which receipts Diadoc still expects from us: asked of the operator for one document,
shown by ``status`` (text and ``--json``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from click.testing import CliRunner
from edi_bridge_providers.diadoc.fake import DiadocFake

from edi_bridge import Bridge
from edi_bridge.cli import main
from edi_bridge.fakes.server import FakeServer
from edi_bridge.models import ExchangeStatus
from edi_bridge.signing import throwaway_signer
from edi_bridge.testing import sample_counterparty

from .conftest import make_adapter, settings_for
from .test_buyer_title import _upd
from .test_wire_fidelity import post_upd


def test_a_confirmation_without_our_receipt_is_pending_until_one_is_sent(
    fake: DiadocFake, server: FakeServer, tmp_path: Path
) -> None:
    adapter = make_adapter(server)  # no signer: the receipt cannot be made
    message_id = post_upd(adapter, fake, tmp_path, "upd-pending")
    entity_id = fake.world.messages[message_id]["Entities"][0]["EntityId"]
    ref = {"message_id": message_id, "entity_id": entity_id}
    adapter.poll(None)
    (due,) = adapter.pending_receipts(ref)
    assert due["answers"] == "InvoiceConfirmation"
    adapter.context = dataclasses.replace(adapter.context, signer=throwaway_signer())
    adapter.poll(None)  # read again with a signer: the receipt goes
    assert adapter.pending_receipts(ref) == []
    adapter.close()


def test_status_shows_the_pending_receipts(
    fake: DiadocFake, server: FakeServer, tmp_path: Path
) -> None:
    counterparty = sample_counterparty("pending-status")
    fake.add_counterparty(counterparty, "sign")
    settings = settings_for(server)
    bridge = Bridge.open(tmp_path / "edi.db", settings=settings)
    try:
        document, _content = _upd()
        exchange = bridge.send(counterparty, document, provider="diadoc")
        for _ in range(4):
            bridge.poll(["diadoc"])
        assert bridge.status(exchange.id).status == ExchangeStatus.SIGNED
    finally:
        bridge.close()
    env = {"EDI_BRIDGE_DB": str(tmp_path / "edi.db")}
    env |= {"EDI_BRIDGE_" + k.replace(".", "_").upper(): v for k, v in settings.items()}
    runner = CliRunner()
    text = runner.invoke(main, ["status", exchange.id], env=env)
    assert text.exit_code == 0, text.output
    # The Bridge's signer answered the operator's confirmation while polling.
    assert "receipts pending: 0" in text.output
    data = json.loads(runner.invoke(main, ["status", exchange.id, "--json"], env=env).output)
    assert data["pending_receipts"] == []
    assert data["buyer_title"]["result"] == "1"


def test_status_of_an_exchange_whose_adapter_cannot_tell_shows_nothing(tmp_path: Path) -> None:
    from edi_bridge.testing import sample_contract

    env = {"EDI_BRIDGE_DB": str(tmp_path / "edi.db")}
    bridge = Bridge.open(tmp_path / "edi.db")
    exchange = bridge.send(
        sample_counterparty("mock-rcpt"), sample_contract("R-1"), provider="mock"
    )
    bridge.close()
    shown = CliRunner().invoke(main, ["status", exchange.id], env=env)
    assert shown.exit_code == 0, shown.output
    assert "receipts pending" not in shown.output
    data = json.loads(CliRunner().invoke(main, ["status", exchange.id, "--json"], env=env).output)
    assert data["pending_receipts"] is None
