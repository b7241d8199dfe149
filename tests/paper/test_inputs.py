"""Paper inputs checked by content; repeated steps are no-ops that say so; the letter
or the send says where the client's scan goes."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi_bridge import Bridge, Document, DocumentKind
from edi_bridge.cli import main
from edi_bridge.errors import ValidationError
from edi_bridge.lifecycle import EventKind, ExchangeStatus
from edi_bridge.paper import inputs
from edi_bridge.paper.desk import NO_SCAN_EMAIL
from edi_bridge.testing import sample_counterparty
from edi_bridge.testing.samples import sample_counterparty_data, sample_pdf, sample_scan

from .conftest import open_bridge, paper_exchange

S = ExchangeStatus
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 20
TIFF = b"II*\x00" + bytes(range(256)) * 20


def dispatched(bridge: Bridge) -> str:
    exchange = paper_exchange(bridge)
    bridge.paper.dispatch(exchange.id, "courier", "К-1")
    return exchange.id


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (bytes(range(100)), "is 100 bytes: a scan of a signed page is at least 4096 bytes"),
        (b"GIF89a" + bytes(8000), "must be a PDF, JPEG, PNG or TIFF scan (by its content)"),
        (b"%PDF-1.4\n" + bytes(8000), "is not a readable PDF"),
    ],
)
def test_a_scan_that_is_no_scan_is_refused_and_nothing_is_recorded(
    bridge: Bridge, content: bytes, rule: str
) -> None:
    exchange_id = dispatched(bridge)
    before = bridge.status(exchange_id)
    with pytest.raises(ValidationError) as err:
        bridge.paper.scan_received(exchange_id, content, "scan.pdf")
    assert err.value.field == "file"
    assert rule in str(err.value)
    after = bridge.status(exchange_id)
    assert (after.status, after.history, after.signatures) == (
        S.DISPATCHED,
        before.history,
        before.signatures,
    )
    assert EventKind.SCAN_RECEIVED not in [e.kind for e in bridge.events()]


@pytest.mark.parametrize("content", [sample_scan(), JPEG, TIFF])
def test_png_jpeg_and_tiff_scans_are_accepted_by_content(bridge: Bridge, content: bytes) -> None:
    exchange_id = dispatched(bridge)
    assert bridge.paper.scan_received(exchange_id, content, "scan.bin").status == S.SCAN_RECEIVED


def test_a_scan_over_the_limit_is_refused(bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs, "SCAN_MAX_BYTES", 5000)
    with pytest.raises(ValidationError, match="over the 5000-byte limit"):
        bridge.paper.scan_received(dispatched(bridge), sample_scan(), "scan.png")


def test_the_cli_refuses_a_random_scan_naming_the_argument(tmp_path: Path) -> None:
    db = str(tmp_path / "edi.db")
    with Bridge.open(db) as bridge:
        exchange_id = dispatched(bridge)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(bytes(range(100)))
    result = CliRunner().invoke(
        main, ["--db", db, "paper", "scan-received", exchange_id, "--file", str(scan)]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("edi-bridge: --file: is 100 bytes")
    with Bridge.open(db) as bridge:
        assert bridge.status(exchange_id).status == S.DISPATCHED


def test_a_corrupt_pdf_contract_is_refused_at_send_and_nothing_is_stored(bridge: Bridge) -> None:
    broken = Document.from_bytes(
        b"%PDF-1.4\n" + bytes(3000),
        kind=DocumentKind.CONTRACT,
        number="P-1",
        date=dt.date(2026, 11, 24),
        file_name="contract.pdf",
    )
    with pytest.raises(ValidationError) as err:
        bridge.send(sample_counterparty("p", edi=[]), broken)
    assert err.value.field == "document"
    assert "is not a readable PDF" in str(err.value)
    assert bridge.list() == []


def test_the_cli_send_refuses_a_contract_that_is_no_pdf_on_paper(tmp_path: Path) -> None:
    cp = tmp_path / "cp.json"
    cp.write_text(json.dumps(sample_counterparty_data("p", edi=[])), encoding="utf-8")
    doc = tmp_path / "contract.docx"
    doc.write_bytes(b"PK\x03\x04 not a pdf")
    db = str(tmp_path / "edi.db")
    result = CliRunner().invoke(
        main, ["--db", db, "send", "--counterparty", str(cp), "--document", str(doc)]
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "edi-bridge: document: must be a PDF (it does not start with %PDF-)"
    )
    with Bridge.open(db) as bridge:
        assert bridge.list() == []


def test_repeating_a_paper_step_is_a_no_op(bridge: Bridge) -> None:
    exchange_id = dispatched(bridge)
    first = bridge.paper.scan_received(exchange_id, sample_scan(), "scan.png")
    again = bridge.paper.scan_received(exchange_id, sample_scan("other"), "scan2.png")
    late = bridge.paper.mark(exchange_id, "delivered")  # a step the scan has passed
    redo = bridge.paper.dispatch(exchange_id, "courier", "К-1")
    for exchange in (again, late, redo):
        assert exchange.status == S.SCAN_RECEIVED
        assert exchange.history == first.history
        assert exchange.signatures == first.signatures
    kinds = [e.kind for e in bridge.events()]
    assert kinds.count(EventKind.SCAN_RECEIVED) == 1
    assert EventKind.DELIVERED not in kinds
    signed = bridge.paper.originals_received(exchange_id)
    assert bridge.paper.originals_received(exchange_id).history == signed.history


def test_a_second_tracking_number_for_a_dispatched_exchange_is_refused(bridge: Bridge) -> None:
    exchange_id = dispatched(bridge)
    with pytest.raises(ValidationError, match="dispatched already with courier, tracking К-1"):
        bridge.paper.dispatch(exchange_id, "courier", "К-2")


def test_the_cli_says_a_repeated_step_has_nothing_to_do(tmp_path: Path) -> None:
    db = str(tmp_path / "edi.db")
    with Bridge.open(db) as bridge:
        exchange_id = dispatched(bridge)
    scan = tmp_path / "scan.png"
    scan.write_bytes(sample_scan())
    args = ["--db", db, "paper", "scan-received", exchange_id, "--file", str(scan)]
    assert CliRunner().invoke(main, args).stdout.strip() == f"{exchange_id} scan_received"
    result = CliRunner().invoke(main, args)
    assert (result.exit_code, result.stdout.strip()) == (
        0,
        f"{exchange_id} already scan_received: nothing to do",
    )
    assert "cannot go from" not in result.stderr
    marked = CliRunner().invoke(main, ["--db", db, "paper", "mark", exchange_id, "delivered"])
    assert marked.stdout.strip() == f"{exchange_id} already scan_received: nothing to do"
    as_json = CliRunner().invoke(main, [*args, "--json"])
    assert json.loads(as_json.stdout)["nothing_to_do"] is True


def test_a_paper_send_without_scan_email_warns_and_keeps_it_in_history(
    bridge: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="edi_bridge.paper"):
        exchange = paper_exchange(bridge)
    assert NO_SCAN_EMAIL in caplog.text
    assert [h.cause for h in exchange.history][-1] == NO_SCAN_EMAIL


def test_with_scan_email_the_letter_says_where_and_nothing_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pypdf = pytest.importorskip("pypdf")
    with open_bridge(tmp_path, **{"paper.scan_email": "scans@example.test"}) as bridge:
        with caplog.at_level(logging.WARNING, logger="edi_bridge.paper"):
            exchange = paper_exchange(bridge)
        assert NO_SCAN_EMAIL not in caplog.text
        assert NO_SCAN_EMAIL not in [h.cause for h in exchange.history]
        pack = bridge.paper.print_pack(exchange.id, tmp_path / "pack.pdf")
    text = pypdf.PdfReader(str(pack)).pages[0].extract_text()
    assert "scans@example.test" in text


def test_the_cli_send_prints_the_scan_email_warning(tmp_path: Path) -> None:
    cp = tmp_path / "cp.json"
    cp.write_text(json.dumps(sample_counterparty_data("p", edi=[])), encoding="utf-8")
    doc = tmp_path / "contract.pdf"
    doc.write_bytes(sample_pdf())
    result = CliRunner().invoke(
        main,
        ["--db", str(tmp_path / "e.db"), "send", "--counterparty", str(cp), "--document", str(doc)],
    )
    assert result.exit_code == 0, result.stderr
    assert NO_SCAN_EMAIL in result.stderr
