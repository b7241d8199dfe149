"""Figures of a reliability run: counted by the tests, printed at the end.

Set ``EDI_BRIDGE_RELIABILITY_FIGURES=<file>`` to also write them as JSON (the
figures in RELIABILITY.md come from such a file).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .harness import FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for name, value in sorted(FIGURES.items()):
        terminalreporter.write_line(f"{name}: {value}")
    target = os.environ.get("EDI_BRIDGE_RELIABILITY_FIGURES")
    if target:
        Path(target).write_text(json.dumps(dict(sorted(FIGURES.items())), indent=2) + "\n")
