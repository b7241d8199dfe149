"""A УПД sent through SBIS is approved with the buyer's own title (ON_NSCHFDOPPOK 5.03, signed):
the fake approves that way, the adapter reads the title from the approval event, the workflow
keeps it beside the buyer's signature (checked against the title), ``status`` shows what it
says, and the archive holds it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from edi_bridge import Bridge
from edi_bridge.closing.inputs import build_document, parse_upd_input
from edi_bridge.closing.upd import build_upd
from edi_bridge.closing.upd_buyer import read_buyer_title
from edi_bridge.models import Document, DocumentKind, ExchangeStatus
from edi_bridge.signing import SignatureChecker

from .conftest import SbisWorld
from .helpers import party

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "closing" / "upd-vat.json"


def _upd() -> Document:
    inp = parse_upd_input(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    doc = build_document(inp, inp.period, inp.seller, inp.buyer)
    assert inp.seller.participant_id
    upd = build_upd(doc, sender_id=inp.seller.participant_id, recipient_id="2BE-buyer")
    return Document.from_bytes(
        upd.content,
        kind=DocumentKind.UPD,
        number=doc.number,
        date=doc.date,
        file_name=f"{upd.file_id}.xml",
    )


def test_a_upd_is_approved_with_the_buyers_title_kept_shown_and_archived(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge], tmp_path: Path
) -> None:
    fake, server = sbis
    bridge = open_bridge(server, settings={"doc_type_upd": "ЭДОНакл"})
    bridge.signature_check = SignatureChecker(bridge.store, allow_unchecked_chain=True)
    document = _upd()
    cp = party("sign", fake, seed="sbis-title")
    exchange = bridge.send(cp, document, idempotency_key="upd-1", provider="sbis")
    for _ in range(3):
        bridge.poll(["sbis"])
    done = bridge.status(exchange.id)
    assert done.status == ExchangeStatus.SIGNED, done.history

    theirs = next(s for s in done.signatures if s.role == "counterparty")
    assert theirs.verdict is not None
    assert theirs.verdict["status"] == "valid_chain_unchecked"
    assert theirs.verdict["signer"]["inn_le"] == cp.inn
    kept = next(s for s in done.signatures if s.role == "buyer_title")
    assert kept.file_name == f"{document.file_name}.buyer-title.xml"
    with bridge.store.open_blob(kept.sha256) as fh:
        title = read_buyer_title(fh.read())
    assert title.seller_file_id == document.file_name.removesuffix(".xml")
    summary = done.as_summary()["buyer_title"]
    assert summary["readable"] is True
    assert summary["result_text"] == "accepted without disagreements"
    assert summary["accepted_on"] == dt.datetime.now(dt.UTC).date().isoformat()

    manifest = json.loads(bridge.fetch(exchange.id, tmp_path / "out").read_text("utf-8"))
    by_role = {f["role"]: f for f in manifest["files"]}
    assert by_role["buyer_title"]["name"] == kept.file_name
    verdict = by_role["counterparty_signature"]["verdict"]
    assert verdict["signed_file"] == kept.file_name
    assert verdict["checked_at"] == "signing-time"
