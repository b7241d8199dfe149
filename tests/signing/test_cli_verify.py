"""``edi-bridge verify`` prints the verdict and the signer; exit 0 only when valid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi_bridge.cli.verify import verify
from edi_bridge.models import Counterparty
from edi_bridge.signing import Signer
from edi_bridge.testing.samples import sample_counterparty_data

from .pki import CA, DOCUMENT


@pytest.fixture
def files(tmp_path: Path, signed: dict[str, bytes], counterparty: Counterparty) -> Path:
    (tmp_path / "doc.txt").write_bytes(DOCUMENT)
    (tmp_path / "doc.txt.sig").write_bytes(signed["gost256"])
    (tmp_path / "cp.json").write_text(
        json.dumps(counterparty.model_dump(mode="json"), ensure_ascii=False)
    )
    other = sample_counterparty_data("cli-other")
    (tmp_path / "other.json").write_text(json.dumps(other, ensure_ascii=False))
    return tmp_path


def _run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(verify, [str(a) for a in args])
    return result.exit_code, result.output


def test_gost_signature_prints_inn_and_name(files: Path, counterparty: Counterparty) -> None:
    code, out = _run(files / "doc.txt", files / "doc.txt.sig", "--allow-unchecked-chain")
    assert code == 0
    assert counterparty.inn in out
    assert "Иванова Мария Петровна" in out
    assert "valid_chain_unchecked" in out


def test_chain_not_checked_exits_non_zero_by_default(files: Path) -> None:
    code, out = _run(files / "doc.txt", files / "doc.txt.sig")
    assert code == 4
    assert "chain not checked" in out


def test_trust_store_and_matching_counterparty_exit_zero(files: Path, cas: dict[str, CA]) -> None:
    (files / "root.pem").write_bytes(cas["gost256"].pem())
    code, out = _run(
        files / "doc.txt", files / "doc.txt.sig",
        "--counterparty", files / "cp.json", "--trust-store", files / "root.pem", "--json",
    )  # fmt: skip
    assert code == 0, out
    data = json.loads(out)
    assert data["status"] == "valid"
    assert data["ok"] is True


def test_other_counterparty_is_signer_mismatch(files: Path) -> None:
    code, out = _run(
        files / "doc.txt", files / "doc.txt.sig",
        "--counterparty", files / "other.json", "--allow-unchecked-chain",
    )  # fmt: skip
    assert code == 3
    assert "signer_mismatch" in out


def test_changed_document_is_invalid(files: Path) -> None:
    (files / "doc.txt").write_bytes(DOCUMENT + b" ")
    code, out = _run(files / "doc.txt", files / "doc.txt.sig", "--json")
    assert code == 1
    assert json.loads(out)["status"] == "invalid"


def test_bad_requisites_are_a_usage_error(files: Path, signers: dict[str, Signer]) -> None:
    (files / "bad.json").write_text('{"inn": "123"}')
    code, _ = _run(files / "doc.txt", files / "doc.txt.sig", "--counterparty", files / "bad.json")
    assert code == 2
