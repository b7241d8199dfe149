from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from edi_bridge_providers.mock import MockProvider
from lxml import etree

from edi_bridge.cli import main
from edi_bridge.provider import ProviderContext

from .batch import Inbox, start_smtp, write_batch, write_seller
from .conftest import EXAMPLES


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    controller, inbox = start_smtp()
    yield controller.port, inbox
    controller.stop()


def _env(tmp_path: Path, port: int) -> dict[str, str]:
    return {
        "EDI_BRIDGE_DB": str(tmp_path / "edi.db"),
        "EDI_BRIDGE_SMTP_HOST": "127.0.0.1",
        "EDI_BRIDGE_SMTP_PORT": str(port),
        "EDI_BRIDGE_SMTP_SENDER": "docs@example.ru",
        "EDI_BRIDGE_CLOSING_SELLER": str(write_seller(tmp_path)),
    }


@pytest.mark.parametrize("name", ["upd-vat.json", "upd-novat.json"])
def test_upd_build_writes_a_file_named_after_its_id(
    name: str, tmp_path: Path, upd_schema: etree.XMLSchema
) -> None:
    result = CliRunner().invoke(
        main, ["upd", "build", str(EXAMPLES / name), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    tree = etree.parse(str(path))
    assert path.name == tree.getroot().get("ИдФайл") + ".xml"
    assert upd_schema.validate(tree), upd_schema.error_log

    shown = CliRunner().invoke(main, ["upd", "read", str(path), "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["file_id"] == path.stem
    assert data["document"]["number"].startswith("УПД-2026-03/")


def test_upd_read_refuses_hostile_xml_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "evil.xml"
    bad.write_bytes(b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')
    result = CliRunner().invoke(main, ["upd", "read", str(bad)])
    assert result.exit_code == 1
    assert "DTD" in result.output
    assert "Traceback" not in result.output


def test_closing_send_status_and_fetch(tmp_path: Path, smtp: tuple[int, Inbox]) -> None:
    port, inbox = smtp
    batch = write_batch(tmp_path, 6)
    env = _env(tmp_path, port)
    runner = CliRunner()
    sent = runner.invoke(
        main, ["closing", "send", "--period", "2026-03", "--batch", str(batch), "--json"], env=env
    )
    assert sent.exit_code == 0, sent.output
    summary = json.loads(sent.output[sent.output.index("{") :])
    assert summary == {"sent": 6, "already_sent": 0, "pending": 0, "failed": [], "cancelled": []}
    assert len(inbox.messages) == 4

    status = runner.invoke(main, ["closing", "status", "--period", "2026-03", "--json"], env=env)
    assert status.exit_code == 0, status.output
    rows = json.loads(status.output)
    states = sorted({r["channel"]: r["state"] for r in rows}.items())
    assert ("email", "e-mailed") in states
    assert ("paper", "paper: to be posted") in states
    # The mock counterparty signs on its first poll (status polls first).
    assert ("edi", "signed") in states

    out = tmp_path / "archive"
    fetched = runner.invoke(
        main, ["closing", "fetch", "--period", "2026-03", "--out", str(out)], env=env
    )
    assert fetched.exit_code == 0, fetched.output
    lines = fetched.output.splitlines()
    manifests = [Path(p) for p in lines if p.endswith("manifest.json")]
    assert len(manifests) == 2  # clients 0 and 3 have EDI
    # Two documents, each with ours and theirs as stored and the operator's copies of both:
    # verified, though no trust store is configured to check chains.
    assert lines[-1] == "signatures verified at signing time: 8 valid_chain_unchecked"
    for manifest_path in manifests:
        folder = manifest_path.parent
        assert folder.name == "2026-03"
        manifest = json.loads(manifest_path.read_text("utf-8"))
        listed = {f["path"]: f for d in manifest["documents"] for f in d["files"]}
        on_disk = {
            p.relative_to(folder).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and p != manifest_path
        }
        assert set(listed) == on_disk
        for rel, entry in listed.items():
            assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == entry["sha256"]
        verdicts = [f["verdict"] for f in listed.values() if f["role"].endswith("signature")]
        assert verdicts
        assert manifest["verified_at"] == "signing-time"
        assert all(v["status"] == "valid_chain_unchecked" for v in verdicts)
        assert all(v["checked_at"] == "signing-time" for v in verdicts)
        assert manifest["documents"][0]["state"] == "signed"


def test_tampered_signature_gets_a_failing_verdict(tmp_path: Path) -> None:
    from edi_bridge.closing.archive import digest_check
    from edi_bridge.signing import throwaway_signer

    sig = throwaway_signer().sign(b"document")
    assert digest_check(b"document", sig)["ok"] is True
    assert digest_check(b"documenT", sig)["status"] == "digest_mismatch"
    assert digest_check(b"document", b"not a cms")["status"] == "malformed"


def test_killed_run_resumes_without_sending_anything_twice(
    tmp_path: Path, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    n = 50
    batch = write_batch(tmp_path, n)
    env = {**os.environ, **_env(tmp_path, port), "EDI_BRIDGE_MOCK_LATENCY": "0.03"}
    cmd = [
        sys.executable,
        "-m",
        "edi_bridge.cli",
        "closing",
        "send",
        "--period",
        "2026-03",
        "--batch",
        str(batch),
        "--json",
        "--concurrency",
        "4",
        "--lease-seconds",
        "1",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while len(inbox.messages) < 10 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    emailed_before = len(inbox.messages)
    assert 0 < emailed_before < 34, "the kill should land halfway"

    time.sleep(1.2)  # the killed run's EDI leases run out
    rerun = subprocess.run(cmd, env=env, capture_output=True, timeout=60, check=False)
    summary = json.loads(rerun.stdout)
    uncertain = [f for f in summary["failed"] if "interrupted while e-mailing" in f["reason"]]
    assert len(summary["failed"]) == len(uncertain), summary
    assert summary["pending"] == 0
    assert summary["sent"] + summary["already_sent"] + len(uncertain) == n
    assert summary["already_sent"] > 0

    ids = inbox.ids()
    assert len(ids) == len(set(ids)), "an e-mail went out twice"
    assert len(ids) + len(uncertain) >= 33  # every e-mail client got it, or it is flagged
    from edi_bridge.store import Store

    store = Store.open(tmp_path / "edi.db")
    mock = MockProvider(ProviderContext(config={}, engine=store.engine))
    keys = [f"closing:{k}" for k in _edi_keys(batch)]
    assert [mock.documents_for_key(k) for k in keys] == [1] * len(keys)
    store.close()


def _edi_keys(batch: Path) -> list[str]:
    keys = []
    for raw in batch.read_text("utf-8").splitlines():
        line = json.loads(raw)
        cp = line["counterparty"]
        if cp["edi"]:
            keys.append(f"{cp['inn']}-{cp['kpp']}:2026-03:{line['documents'][0]['number']}")
    return keys
