"""`closing fetch` writes archives that cannot lose, mix or escape files."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from edi_bridge import Bridge
from edi_bridge.closing.archive import fetch_period
from edi_bridge.closing.delivery import SENT_NOW, ClosingRun
from edi_bridge.closing.inputs import parse_seller
from edi_bridge.errors import EdiBridgeError, ValidationError
from edi_bridge.testing.samples import sample_counterparty_data

from .batch import write_seller
from .conftest import example

PERIOD = "2026-03"


def _sent_batch(bridge: Bridge, tmp_path: Path, numbers: list[str]) -> None:
    cp = sample_counterparty_data("client-a", vat_payer=True, edi=[])
    cp["edi"] = [{"operator": "mock", "participant_id": f"MCK-{cp['inn']}"}]
    lines = example("upd-vat.json")["lines"]
    docs = [{"number": n, "date": "2026-03-31", "lines": lines} for n in numbers]
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps({"counterparty": cp, "documents": docs}, ensure_ascii=False))
    seller = parse_seller(write_seller(tmp_path).read_bytes())
    summary = ClosingRun(bridge, seller).run(PERIOD, batch)
    assert summary.count(SENT_NOW) == len(numbers), summary.as_json()
    bridge.poll()


def _check(manifest_path: Path) -> dict[str, Any]:
    folder = manifest_path.parent
    manifest: dict[str, Any] = json.loads(manifest_path.read_text("utf-8"))
    listed = {f["path"]: f for d in manifest["documents"] for f in d["files"]}
    on_disk = {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p != manifest_path
    }
    assert set(listed) == on_disk
    for rel, entry in listed.items():
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == entry["sha256"]
    return manifest


def test_numbers_that_clean_to_one_name_get_folders_of_their_own(
    bridge: Bridge, tmp_path: Path
) -> None:
    _sent_batch(bridge, tmp_path, ["A/1", "A 1", "A_1", "manifest.json"])
    (manifest_path,) = fetch_period(bridge, PERIOD, tmp_path / "out")
    manifest = _check(manifest_path)
    folders = {f["path"].split("/")[0] for d in manifest["documents"] for f in d["files"]}
    assert len(folders) == 4
    assert "A_1" in folders
    assert manifest_path.is_file()


def test_a_symlink_in_the_target_is_never_written_through(bridge: Bridge, tmp_path: Path) -> None:
    _sent_batch(bridge, tmp_path, ["A-1"])
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine")
    out = tmp_path / "out"
    (manifest_path,) = fetch_period(bridge, PERIOD, out)
    counterparty_dir = manifest_path.parent.parent

    # The period folder replaced by a link elsewhere: the link goes, the victim stays.
    period_dir = manifest_path.parent

    shutil.rmtree(period_dir)
    period_dir.symlink_to(victim, target_is_directory=True)
    (again,) = fetch_period(bridge, PERIOD, out)
    assert not again.parent.is_symlink()
    _check(again)
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"]

    # A link higher up is refused, naming it, and nothing is written.
    shutil.rmtree(counterparty_dir)
    counterparty_dir.symlink_to(victim, target_is_directory=True)
    with pytest.raises(ValidationError) as info:
        fetch_period(bridge, PERIOD, out)
    assert info.value.field == "out"
    assert "symbolic link" in str(info.value)
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"]


def test_a_fetch_that_fails_half_way_leaves_the_previous_archive(
    bridge: Bridge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sent_batch(bridge, tmp_path, ["A-1", "A-2"])
    out = tmp_path / "out"
    (manifest_path,) = fetch_period(bridge, PERIOD, out)
    before = manifest_path.read_bytes()
    real_fetch = bridge.fetch
    calls = {"n": 0}

    def failing_fetch(exchange_id: str, target: Any) -> Path:
        calls["n"] += 1
        if calls["n"] == 2:
            raise EdiBridgeError("operator unreachable")
        return real_fetch(exchange_id, target)

    monkeypatch.setattr(bridge, "fetch", failing_fetch)
    with pytest.raises(EdiBridgeError):
        fetch_period(bridge, PERIOD, out)
    assert manifest_path.read_bytes() == before
    _check(manifest_path)
    leftovers = [p.name for p in manifest_path.parent.parent.iterdir()]
    assert leftovers == [PERIOD]
