"""Versions of a contract draft: numbered, compared field by field, one agreed, carried
by an exchange, and a new version answering a rejected exchange."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi_bridge import Bridge
from edi_bridge.cli import main
from edi_bridge.contracts import Drafts, FieldChange
from edi_bridge.errors import NotFound, ValidationError
from edi_bridge.testing import sample_contract, sample_counterparty
from edi_bridge.testing.samples import sample_counterparty_data

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "examples" / "contracts" / "service_contract.docx"
V1 = {"number": "Д-1", "price": "100000.00", "name": "ООО «Ромашка»"}
V2 = {"number": "Д-1", "price": "90000.00", "name": "ООО «Ромашка»", "term": "12 months"}


def sha(fields: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def test_versions_are_numbered_and_diffed_field_by_field(bridge: Bridge) -> None:
    drafts = Drafts(bridge.store)
    assert drafts.add("romashka", V1, sha(V1)).version == 1
    assert drafts.add("romashka", V2, sha(V2)).version == 2
    assert [v.sha256 for v in drafts.versions("romashka")] == [sha(V1), sha(V2)]
    assert drafts.diff("romashka", 1, 2) == [
        FieldChange("price", "100000.00", "90000.00"),
        FieldChange("term", None, "12 months"),
    ]
    assert drafts.diff("romashka", 2, 2) == []
    with pytest.raises(NotFound, match="no version 3"):
        drafts.diff("romashka", 1, 3)


def test_one_version_is_agreed_and_the_exchange_records_it(bridge: Bridge) -> None:
    drafts = Drafts(bridge.store)
    drafts.add("d", V1, sha(V1))
    drafts.add("d", V2, sha(V2))
    ex = bridge.send(sample_counterparty("v"), sample_contract())
    with pytest.raises(ValidationError, match="no agreed version"):
        drafts.attach(ex.id, "d")
    drafts.agree("d", 1)
    drafts.agree("d", 2)  # the mark moves
    assert [v.agreed for v in drafts.versions("d")] == [False, True]
    with pytest.raises(ValidationError, match="not the agreed version"):
        drafts.attach(ex.id, "d", 1)
    assert drafts.attach(ex.id, "d").version == 2
    carried = drafts.for_exchange(ex.id)
    assert carried is not None
    assert (carried.draft, carried.version, carried.sha256) == ("d", 2, sha(V2))


def test_a_new_version_after_a_rejection_links_to_that_exchange(bridge: Bridge) -> None:
    drafts = Drafts(bridge.store)
    drafts.add("d", V1, sha(V1))
    live = bridge.send(sample_counterparty("v"), sample_contract("L-1"), scenario="silent")
    with pytest.raises(ValidationError, match="after_exchange"):
        drafts.add("d", V2, sha(V2), after_exchange=live.id)
    assert [v.version for v in drafts.versions("d")] == [1]  # nothing stored
    rejected = bridge.send(sample_counterparty("v"), sample_contract("R-1"), scenario="reject:цена")
    bridge.poll()
    assert bridge.status(rejected.id).status == "rejected"
    v2 = drafts.add("d", V2, sha(V2), after_exchange=rejected.id)
    assert (v2.version, v2.after_exchange_id) == (2, rejected.id)


def test_bad_draft_names_and_hashes_are_refused(bridge: Bridge) -> None:
    drafts = Drafts(bridge.store)
    with pytest.raises(ValidationError, match="draft"):
        drafts.add("bad name!", V1, sha(V1))
    with pytest.raises(ValidationError, match="sha256"):
        drafts.add("d", V1, "abc")
    with pytest.raises(NotFound):
        drafts.versions("d")


def test_cli_render_agree_diff_send_and_status_show_the_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("docxtpl", reason="the intake extra (docxtpl) is not installed")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDI_BRIDGE_DB", raising=False)
    (tmp_path / "cp.json").write_text(json.dumps(sample_counterparty_data("cli")), "utf-8")

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, list(args))
        assert result.exit_code == 0, result.output
        return result.stdout

    common = ["contract", "render", str(TEMPLATE), "--counterparty", "cp.json"]
    common += ["--number", "C-7", "--date", "2026-05-06", "--draft", "c7", "--json"]
    first = json.loads(run(*common, "--price", "100.00", "--out", "v1.docx"))
    second = json.loads(run(*common, "--price", "90.00", "--out", "v2.docx"))
    assert (first["version"], second["version"]) == (1, 2)
    changed = json.loads(run("contract", "diff", "c7", "1", "2", "--json"))
    assert {c["field"] for c in changed} == {"price", "price_raw"}  # nothing else changed
    assert {c["field"]: c["after"] for c in changed}["price_raw"] == "90.00"
    send = ["send", "--counterparty", "cp.json", "--document", "v2.docx", "--json"]
    refused = CliRunner().invoke(main, [*send, "--draft", "c7"])
    assert refused.exit_code == 1
    assert "no agreed version" in refused.stderr
    run("contract", "agree", "c7", "2")
    ex = json.loads(run(*send, "--draft", "c7"))
    shown = json.loads(run("status", ex["id"], "--json"))
    assert shown["contract_version"] == {"draft": "c7", "version": 2, "sha256": second["sha256"]}
    listed = json.loads(run("contract", "versions", "c7", "--json"))
    assert [v["agreed"] for v in listed] == [False, True]
