"""The onboarding backend example runs against the mock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "onboarding_backend.py"


def test_onboarding_example_activates_the_signer_and_reports_the_rejection(
    tmp_path: Path,
) -> None:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE), "--db", str(tmp_path / "o.db")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "activating account" in proc.stdout
    assert "Не согласны с ценой" in proc.stdout
