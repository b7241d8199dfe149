"""``Bridge.fetch`` / ``edi-bridge fetch --out`` write a safe archive: names never collide
with ``manifest.json``, ``provider/`` or each other, control and ANSI characters never
reach the disk or the terminal, the folder is built beside the target and renamed into
place, symlinks are never written through, and a fetch that cannot complete leaves
nothing or the previous complete archive."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner
from edi_bridge_providers.mock import MockProvider

from edi_bridge import Bridge, Document, DocumentKind, TransientError, ValidationError
from edi_bridge.cli import main
from edi_bridge.provider import FetchedFile
from edi_bridge.store.rows import SignatureInsert
from edi_bridge.testing import sample_counterparty
from edi_bridge.testing.samples import sample_pdf


def _named(file_name: str, number: str = "F-1") -> Document:
    return Document.from_bytes(
        sample_pdf(f"Contract {number}"),
        kind=DocumentKind.CONTRACT,
        number=number,
        date=dt.date(2026, 11, 24),
        file_name=file_name,
    )


def _signed(bridge: Bridge, file_name: str) -> str:
    sent = bridge.send(sample_counterparty("f"), _named(file_name), scenario="sign")
    for _ in range(5):
        bridge.poll()
    assert bridge.status(sent.id).status == "signed"
    return sent.id


def _manifest(out: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return data


def _every_file_matches_the_manifest(out: Path) -> list[str]:
    files = _manifest(out)["files"]
    assert isinstance(files, list)
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert on_disk == sorted([*(f["name"] for f in files), "manifest.json"])
    for entry in files:
        data = (out / entry["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    return [str(f["name"]) for f in files]


@pytest.mark.parametrize("name", ["manifest.json", "provider", "MANIFEST.JSON"])
def test_a_document_named_like_the_archive_s_own_files_is_numbered(
    tmp_path: Path, name: str
) -> None:
    with Bridge.open(tmp_path / "edi.db") as bridge:
        bridge.signature_check = None
        exchange_id = _signed(bridge, name)
        out = tmp_path / "out"
        bridge.fetch(exchange_id, out)
    names = _every_file_matches_the_manifest(out)
    [document] = [f["name"] for f in _manifest(out)["files"] if f["role"] == "document"]  # type: ignore[attr-defined]
    assert document.casefold() not in ("manifest.json", "provider")
    assert (out / "provider").is_dir()
    assert any(n.startswith("provider/") for n in names)


def test_two_counterparty_signatures_never_share_a_name(tmp_path: Path) -> None:
    with Bridge.open(tmp_path / "edi.db") as bridge:
        bridge.signature_check = None
        exchange_id = _signed(bridge, "contract.pdf")
        with bridge.store.transaction() as conn:
            # The counterparty signed again (a second signature under the same name).
            bridge.store.add_signatures(
                conn,
                [
                    SignatureInsert(
                        exchange_id=exchange_id,
                        role="counterparty",
                        file_name="contract.pdf.counterparty.sig",
                        content=b"second signature",
                        verdict=None,
                    )
                ],
            )
        out = tmp_path / "out"
        bridge.fetch(exchange_id, out)
    names = _every_file_matches_the_manifest(out)
    theirs = [n for n in names if "counterparty" in n and not n.startswith("provider/")]
    assert len(theirs) == len(set(theirs)) == 2


def test_control_and_ansi_characters_never_reach_the_disk_or_the_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "edi.db"
    with Bridge.open(db) as bridge:
        bridge.signature_check = None
        exchange_id = _signed(bridge, "contract.pdf")
    real_fetch = MockProvider.fetch

    def hostile(self: MockProvider, ref: Mapping[str, str]) -> list[FetchedFile]:
        # The operator names its files with a colour escape, a bell and a title change.
        return [
            dataclasses.replace(f, file_name=f"\x1b[31mred\x07\x1b]0;title\x07{f.file_name}")
            for f in real_fetch(self, ref)
        ]

    monkeypatch.setattr(MockProvider, "fetch", hostile)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--db", str(db), "fetch", exchange_id, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    assert "\x07" not in result.output
    names = _every_file_matches_the_manifest(out)
    assert all(n.isprintable() for n in names)
    assert "provider/redcontract.pdf" in names


def test_a_symlink_in_the_target_is_never_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").symlink_to(victim)
    with Bridge.open(tmp_path / "edi.db") as bridge:
        bridge.signature_check = None
        exchange_id = _signed(bridge, "contract.pdf")
        bridge.fetch(exchange_id, out)
        linked = tmp_path / "linked"
        linked.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
        with pytest.raises(ValidationError) as refused:
            bridge.fetch(exchange_id, linked)
    assert refused.value.field == "out"
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert not (out / "manifest.json").is_symlink()
    _every_file_matches_the_manifest(out)
    assert not (tmp_path / "elsewhere").exists()


def test_a_folder_holding_other_files_is_refused_and_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with Bridge.open(tmp_path / "edi.db") as bridge:
        bridge.signature_check = None
        exchange_id = _signed(bridge, "contract.pdf")
        with pytest.raises(ValidationError, match=r"no manifest\.json"):
            bridge.fetch(exchange_id, out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_a_fetch_with_the_operator_down_leaves_nothing_or_the_previous_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Bridge.open(tmp_path / "edi.db") as bridge:
        bridge.signature_check = None
        exchange_id = _signed(bridge, "contract.pdf")

        def down(ref: object) -> list[object]:
            raise TransientError("operator unreachable")

        mock = bridge.provider("mock")
        monkeypatch.setattr(mock, "fetch", down)
        fresh = tmp_path / "fresh"
        with pytest.raises(TransientError):
            bridge.fetch(exchange_id, fresh)
        assert (
            sorted(p.name for p in tmp_path.iterdir() if p.name.startswith((".fresh", "fresh")))
            == []
        )

        monkeypatch.undo()
        out = tmp_path / "out"
        bridge.fetch(exchange_id, out)
        before = (out / "manifest.json").read_bytes()
        monkeypatch.setattr(mock, "fetch", down)
        with pytest.raises(TransientError):
            bridge.fetch(exchange_id, out)
    assert (out / "manifest.json").read_bytes() == before
    _every_file_matches_the_manifest(out)


KILLED_FETCH = """
import os, signal, sys
from edi_bridge import Bridge
bridge = Bridge.open(sys.argv[1])
bridge.signature_check = None
mock = bridge.provider("mock")
def killed(ref):
    os.kill(os.getpid(), signal.SIGKILL)
mock.fetch = killed
bridge.fetch(sys.argv[2], sys.argv[3])
"""


def test_a_killed_re_fetch_leaves_the_previous_complete_archive(tmp_path: Path) -> None:
    db = tmp_path / "edi.db"
    with Bridge.open(db) as bridge:
        bridge.signature_check = None
        exchange_id = _signed(bridge, "contract.pdf")
        out = tmp_path / "out"
        bridge.fetch(exchange_id, out)
    before = (out / "manifest.json").read_bytes()
    child = subprocess.run(
        [sys.executable, "-c", KILLED_FETCH, str(db), exchange_id, str(out)],
        capture_output=True,
        check=False,
        timeout=120,
        env={**os.environ},
    )
    assert child.returncode == -signal.SIGKILL
    assert (out / "manifest.json").read_bytes() == before
    _every_file_matches_the_manifest(out)
