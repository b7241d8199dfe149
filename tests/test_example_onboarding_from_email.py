"""The e-mail onboarding example runs: intake → render → send on the mock → signed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("docxtpl", reason="the intake extra is not installed")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "onboarding_from_email.py"


def test_onboarding_from_email_example_ends_with_a_signed_contract(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE), "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["status"] == "signed"
    assert "в лице Генерального директора Соколовой Елены Андреевны" in proc.stdout
    counterparty = json.loads((tmp_path / "counterparty.json").read_text(encoding="utf-8"))
    assert counterparty["username"] == "vasilek"
    assert (tmp_path / "contract-vasilek.docx").stat().st_size > 0
