"""The CLI as a new user drives it: send, poll, status, fetch, resend, list."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from edi_bridge.cli import main
from edi_bridge.testing.samples import sample_counterparty_data, sample_pdf


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDI_BRIDGE_DB", raising=False)
    (tmp_path / "client.json").write_text(
        json.dumps(sample_counterparty_data("cli"), ensure_ascii=False), encoding="utf-8"
    )
    (tmp_path / "contract.pdf").write_bytes(sample_pdf("Contract CLI-1"))
    return tmp_path


def run(*args: str, ok: bool = True) -> Result:
    result = CliRunner().invoke(main, list(args))
    if ok:
        assert result.exit_code == 0, (result.output, result.stderr)
    return result


def send(*extra: str, ok: bool = True, counterparty: str = "client.json") -> Result:
    return run("send", "--counterparty", counterparty, "--document", "contract.pdf", *extra, ok=ok)


def test_send_poll_status_fetch(workdir: Path) -> None:
    ex_id = send("--number", "CLI-1", "--date", "2026-11-20").stdout.split()[0]
    assert ex_id.startswith("ex_")
    assert (workdir / "edi-bridge.db").exists()
    changes = run("poll").stdout
    assert f"{ex_id}  signed" in changes
    summary = json.loads(run("status", ex_id, "--json").stdout)
    assert summary["id"] == ex_id
    assert summary["status"] == "signed"
    assert summary["channel"] == "edi"
    assert summary["counterparty"]["inn"] == sample_counterparty_data("cli")["inn"]
    assert summary["document"]["number"] == "CLI-1"
    assert [h["status"] for h in summary["history"]] == ["queued", "sent", "delivered", "signed"]
    assert all({"status", "at", "cause"} <= set(h) for h in summary["history"])

    run("fetch", ex_id, "--out", "out")
    manifest = json.loads((workdir / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert {f["role"] for f in manifest["files"]} >= {
        "document",
        "our_signature",
        "counterparty_signature",
    }
    for entry in manifest["files"]:
        data = (workdir / "out" / entry["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]


def test_same_idempotency_key_gives_same_id_and_one_document(workdir: Path) -> None:
    first = json.loads(send("--idempotency-key", "client-42", "--json").stdout)
    second = json.loads(send("--idempotency-key", "client-42", "--json").stdout)
    assert first["id"] == second["id"]
    from edi_bridge_providers.mock import MockProvider

    from edi_bridge import Bridge

    with Bridge.open("edi-bridge.db") as bridge:
        mock = bridge.provider("mock")
        assert isinstance(mock, MockProvider)
        assert mock.documents_for_key("client-42") == 1
    assert len(json.loads(run("list", "--json").stdout)) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("inn", "7707083894"),
        ("ogrn", "1027700132194"),
        ("kpp", "12345"),
        ("contact", {"name": "A", "phone": "+74951234567", "email": "broken"}),
    ],
)
def test_invalid_requisites_are_refused_and_nothing_is_stored(
    workdir: Path, field: str, value: object
) -> None:
    (workdir / "bad.json").write_text(
        json.dumps(sample_counterparty_data("cli", **{field: value})), encoding="utf-8"
    )
    result = send(counterparty="bad.json", ok=False)
    assert result.exit_code == 1
    assert result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line
    assert field in line
    assert json.loads(run("list", "--json").stdout) == []


def test_rejection_reason_is_in_status(workdir: Path) -> None:
    ex_id = send("--mock-scenario", "reject:Неверная цена договора").stdout.split()[0]
    run("poll")
    summary = json.loads(run("status", ex_id, "--json").stdout)
    assert summary["status"] == "rejected"
    assert summary["reason"] == "Неверная цена договора"
    assert "Неверная цена договора" in run("status", ex_id).stdout


def test_resend_of_signed_is_refused_with_the_reason(workdir: Path) -> None:
    ex_id = send().stdout.split()[0]
    run("poll")
    result = run("resend", ex_id, ok=False)
    assert result.exit_code == 1
    assert "signed" in result.stderr


def test_resend_force_of_rejected_links_a_new_exchange(workdir: Path) -> None:
    ex_id = send("--mock-scenario", "reject:no").stdout.split()[0]
    run("poll")
    new = json.loads(run("resend", ex_id, "--force", "--json").stdout)
    assert new["previous_id"] == ex_id
    assert new["id"] != ex_id
    assert [e["status"] for e in json.loads(run("list", "--status", "sent", "--json").stdout)] == [
        "sent"
    ]


def test_unknown_exchange_and_missing_file_are_one_line_errors(workdir: Path) -> None:
    result = run("status", "ex_nope", ok=False)
    assert result.exit_code == 1
    assert result.stderr == "edi-bridge: no exchange 'ex_nope'\n"
    result = run("send", "--counterparty", "nope.json", "--document", "contract.pdf", ok=False)
    assert result.exit_code == 1
    assert "nope.json" in result.stderr


def test_providers_lists_the_mock_with_capabilities(workdir: Path) -> None:
    info = json.loads(run("providers", "--json").stdout)
    mock = next(p for p in info if p["name"] == "mock")
    assert "send" in mock["capabilities"]
    assert not (workdir / "edi-bridge.db").exists()  # listing needs no database


def test_db_option_and_env_choose_the_database(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("--db", "other.db", "list")
    assert (workdir / "other.db").exists()
    monkeypatch.setenv("EDI_BRIDGE_DB", str(workdir / "env.db"))
    run("list")
    assert (workdir / "env.db").exists()


def test_demo_in_an_empty_directory_ends_signed(tmp_path: Path) -> None:
    exe = shutil.which("edi-bridge") or str(Path(sys.executable).with_name("edi-bridge"))
    proc = subprocess.run(
        [exe, "demo"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "signed" in proc.stdout
    assert (tmp_path / "edi-bridge.db").exists()
    ex_id = proc.stdout.split("edi-bridge status ")[1].split()[0]
    status = subprocess.run(
        [exe, "status", ex_id, "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(status.stdout)["status"] == "signed"
