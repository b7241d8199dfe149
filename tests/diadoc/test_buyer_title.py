"""A УПД sent through Diadoc is answered by the buyer's own title (ON_NSCHFDOPPOK 5.03,
signed): the fake answers that way, the adapter reads it, the workflow keeps it with its
signature (checked against the title, not our file), ``status`` shows what it says, and the
archive holds it with the signature's verdict at signing time."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from edi_bridge_providers.diadoc.fake import DiadocFake
from lxml import etree
from reference import reference_dir

from edi_bridge import Bridge
from edi_bridge.cli.render import print_exchange
from edi_bridge.closing.inputs import build_document, parse_upd_input
from edi_bridge.closing.upd import build_upd
from edi_bridge.closing.upd_buyer import read_buyer_title
from edi_bridge.closing.upd_buyer_build import TitleSigner, build_buyer_title
from edi_bridge.errors import ValidationError
from edi_bridge.models import Document, DocumentKind, ExchangeStatus
from edi_bridge.signing import SignatureChecker
from edi_bridge.testing import sample_counterparty

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "closing" / "upd-vat.json"


def _upd() -> tuple[Document, bytes]:
    inp = parse_upd_input(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    doc = build_document(inp, inp.period, inp.seller, inp.buyer)
    assert inp.seller.participant_id
    upd = build_upd(doc, sender_id=inp.seller.participant_id, recipient_id="2BM-buyer")
    document = Document.from_bytes(
        upd.content,
        kind=DocumentKind.UPD,
        number=doc.number,
        date=doc.date,
        file_name=f"{upd.file_id}.xml",
    )
    return document, upd.content


def test_a_upd_is_signed_by_the_buyers_title_kept_shown_and_archived(
    fake: DiadocFake, bridge: Bridge, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    counterparty = sample_counterparty("buyer-title")
    fake.add_counterparty(counterparty, "sign")
    bridge.signature_check = SignatureChecker(bridge.store, allow_unchecked_chain=True)
    document, _content = _upd()
    exchange = bridge.send(counterparty, document, provider="diadoc")
    for _ in range(4):
        bridge.poll(["diadoc"])
    done = bridge.status(exchange.id)
    assert done.status == ExchangeStatus.SIGNED, done.history

    # The buyer's signature covers its title, and is checked against it.
    theirs = next(s for s in done.signatures if s.role == "counterparty")
    assert theirs.verdict is not None
    assert theirs.verdict["status"] == "valid_chain_unchecked"
    assert theirs.verdict["signer"]["inn_le"] == counterparty.inn
    kept = next(s for s in done.signatures if s.role == "buyer_title")
    with bridge.store.open_blob(kept.sha256) as fh:
        title = read_buyer_title(fh.read())
    assert title.seller_file_id == document.file_name.removesuffix(".xml")
    assert title.result == "1"

    summary = done.as_summary()["buyer_title"]
    assert summary["readable"] is True
    assert summary["result_text"] == "accepted without disagreements"
    assert summary["accepted_on"] == dt.datetime.now(dt.UTC).date().isoformat()
    assert summary["signer_name"] == title.signer_name
    print_exchange(done)
    shown = capsys.readouterr().out
    assert "buyer title  accepted without disagreements" in shown
    assert title.signer_name in shown

    manifest = json.loads(bridge.fetch(exchange.id, tmp_path / "out").read_text("utf-8"))
    by_role = {f["role"]: f for f in manifest["files"]}
    assert by_role["buyer_title"]["name"] == kept.file_name
    verdict = by_role["counterparty_signature"]["verdict"]
    assert verdict["signed_file"] == kept.file_name
    assert verdict["status"] == "valid_chain_unchecked"
    assert verdict["checked_at"] == "signing-time"
    assert by_role["our_signature"]["verdict"]["signed_file"] == document.file_name


def test_a_contract_is_still_signed_under_our_file(fake: DiadocFake, bridge: Bridge) -> None:
    from edi_bridge.testing import sample_contract

    counterparty = sample_counterparty("no-title")
    fake.add_counterparty(counterparty, "sign")
    exchange = bridge.send(counterparty, sample_contract("BT-2"), provider="diadoc")
    for _ in range(4):
        bridge.poll(["diadoc"])
    done = bridge.status(exchange.id)
    assert done.status == ExchangeStatus.SIGNED
    assert {s.role for s in done.signatures} == {"ours", "counterparty"}
    assert done.buyer_title is None


def _title(result: str = "1") -> bytes:
    _document, content = _upd()
    return build_buyer_title(
        content,
        b"seller signature",
        buyer_name="ООО «Покупатель»",
        buyer_inn="7710126113",
        signer=TitleSigner("Иванова", "Мария", "Петровна", "Генеральный директор"),
        accepted_on=dt.date(2026, 4, 4),
        result=result,
    )


def test_the_built_buyer_title_reads_back() -> None:
    title = read_buyer_title(_title("2"))
    assert (title.version, title.result, title.accepted_on) == ("5.03", "2", dt.date(2026, 4, 4))
    assert title.signer_name == "Иванова Мария Петровна"
    assert title.operation == "Товары (работы, услуги) приняты с расхождениями"
    with pytest.raises(ValidationError, match="1, 2 or 3"):
        _title("4")


def test_the_built_buyer_title_is_valid_against_the_official_schema_when_present() -> None:
    fns = reference_dir("fns")
    schemas = sorted(fns.glob("ON_NSCHFDOPPOK_*.xsd")) if fns else []
    if not schemas:
        pytest.skip("no official buyer's title schema (ON_NSCHFDOPPOK_*.xsd) in the reference data")
    schema = etree.XMLSchema(etree.parse(str(schemas[-1])))
    assert schema.validate(etree.fromstring(_title())), schema.error_log


def test_status_json_shows_the_buyer_title(fake: DiadocFake, bridge: Bridge) -> None:
    counterparty = sample_counterparty("buyer-title-json")
    fake.add_counterparty(counterparty, "sign")
    document, _content = _upd()
    exchange = bridge.send(counterparty, document, provider="diadoc")
    for _ in range(4):
        bridge.poll(["diadoc"])
    # What `status --json` prints (Exchange.as_summary), through JSON.
    data = json.loads(json.dumps(bridge.status(exchange.id).as_summary()))
    assert data["buyer_title"]["result"] == "1"


def test_closing_fetch_archives_the_buyers_title_and_what_it_says(
    fake: DiadocFake, bridge: Bridge, tmp_path: Path
) -> None:
    from edi_bridge.closing.archive import fetch_period
    from edi_bridge.closing.ledger import Ledger
    from edi_bridge.lifecycle import ClosingStatus

    counterparty = sample_counterparty("closing-title")
    fake.add_counterparty(counterparty, "sign")
    bridge.signature_check = SignatureChecker(bridge.store, allow_unchecked_chain=True)
    document, _content = _upd()
    exchange = bridge.send(counterparty, document, provider="diadoc")
    for _ in range(4):
        bridge.poll(["diadoc"])
    # The ledger row `closing send` writes for an EDI delivery.
    Ledger(bridge.store.engine).insert(
        key=f"closing:{counterparty.inn}:2026-03:{document.number}",
        period="2026-03",
        counterparty_key=counterparty.inn,
        counterparty_name=counterparty.name,
        number=document.number,
        kind="upd",
        channel="edi",
        provider="diadoc",
        recipient="diadoc",
        status=ClosingStatus.SENT,
        exchange_ids=[exchange.id],
        files=[],
    )
    (manifest_path,) = fetch_period(bridge, "2026-03", tmp_path / "archive")
    manifest = json.loads(manifest_path.read_text("utf-8"))
    assert manifest["verified_at"] == "signing-time"
    (entry,) = manifest["documents"]
    assert entry["state"] == "signed"
    assert entry["exchanges"][0]["buyer_title"]["result"] == "1"
    files = {f["role"]: f for f in entry["files"]}
    title = manifest_path.parent / files["buyer_title"]["path"]
    assert read_buyer_title(title.read_bytes()).result == "1"
    signature = files["counterparty_signature"]
    assert signature["verdict"]["signed_file"] == title.name
    assert signature["verdict_on_arrival"]["signer"]["inn_le"] == counterparty.inn
