"""``edi-bridge paper …`` as a person drives it, against the Russian Post fake."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
from click.testing import CliRunner

from edi_bridge import Bridge
from edi_bridge.cli.paper import paper
from edi_bridge.fakes.server import FakeServer
from edi_bridge.models import EventKind
from edi_bridge.testing.samples import sample_scan

from .conftest import RP_BARCODE, paper_exchange


def test_paper_route_from_print_to_signed(tmp_path: Path, rp_server: FakeServer) -> None:
    db = tmp_path / "edi.db"
    env = {"EDI_BRIDGE_DB": str(db), **rp_server.exports(), "EDI_BRIDGE_RUSSIANPOST_RATE": "1000"}
    with Bridge.open(db) as bridge:
        exchange_id = paper_exchange(bridge).id
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(paper, list(args), env=env)
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = run("print", exchange_id, "--out", str(tmp_path / "pack.pdf"))
    assert code == 0
    first = pypdf.PdfReader(io.BytesIO((tmp_path / "pack.pdf").read_bytes())).pages[0]
    text = first.extract_text()
    assert "ООО «Ромашка»" in text
    assert "г. Москва, ул. Тверская" in text

    code, _, err = run(
        "dispatch", exchange_id, "--carrier", "russianpost", "--tracking", "11741865001800"
    )
    assert code == 1
    assert "tracking: check digit" in err

    code, out, _ = run(
        "dispatch", exchange_id, "--carrier", "russianpost", "--tracking", RP_BARCODE
    )
    assert (code, out.strip()) == (0, f"{exchange_id} dispatched")

    code, out, _ = run("track")
    assert code == 0
    assert out.startswith("3 tracking records applied")

    scan = tmp_path / "scan.png"
    scan.write_bytes(sample_scan())
    code, out, _ = run("scan-received", exchange_id, "--file", str(scan), "--json")
    assert code == 0
    assert '"status": "scan_received"' in out

    code, out, _ = run("originals-received", exchange_id)
    assert (code, out.strip()) == (0, f"{exchange_id} signed")

    with Bridge.open(db) as bridge:
        kinds = [e.kind for e in bridge.events() if e.exchange_id == exchange_id]
        steps = [h.status for h in bridge.status(exchange_id).history]
    assert kinds == ["prepared", "dispatched", "delivered", EventKind.SCAN_RECEIVED, "signed"]
    assert steps[0] == "prepared"
    assert steps[-1] == "signed"


def test_courier_status_is_set_by_hand(tmp_path: Path) -> None:
    db = tmp_path / "edi.db"
    with Bridge.open(db) as bridge:
        exchange_id = paper_exchange(bridge).id
        bridge.paper.dispatch(exchange_id, "courier", "К-1")
    result = CliRunner().invoke(
        paper,
        ["mark", exchange_id, "lost", "--note", "courier lost it", "--json"],
        env={"EDI_BRIDGE_DB": str(db)},
    )
    assert result.exit_code == 0
    assert '"needs_attention": true' in result.stdout
    bad = CliRunner().invoke(paper, ["mark", exchange_id, "signed"], env={"EDI_BRIDGE_DB": str(db)})
    assert bad.exit_code == 2  # not a status that is set by hand


def test_unknown_exchange_is_one_clear_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        paper, ["originals-received", "ex_missing"], env={"EDI_BRIDGE_DB": str(tmp_path / "e.db")}
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == "edi-bridge: no exchange 'ex_missing'"
