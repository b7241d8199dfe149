"""The shipped pytest plug-in: its fixtures drive real fakes, and the README's example runs."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from edi_bridge import Bridge, Counterparty
from edi_bridge.testing import sample_contract
from edi_bridge.testing.pytest_plugin import RunningFake, poll_until

README = Path(__file__).resolve().parent.parent / "README.md"


def test_edi_fake_serves_the_named_fake_on_loopback(
    edi_fake: Callable[..., RunningFake],
) -> None:
    sbis = edi_fake("sbis", scenario="silent", seed=3)
    assert sbis.url.startswith("http://127.0.0.1:")
    assert requests.get(sbis.url + "/_fake/state", timeout=5).status_code == 200
    assert sbis.url in sbis.settings().values()
    assert sbis.settings()["sbis.timeout"] == "5"
    assert all(key.startswith("EDI_BRIDGE_SBIS_") for key in sbis.exports())


def test_edi_fake_refuses_an_unknown_fault_naming_it(
    edi_fake: Callable[..., RunningFake],
) -> None:
    with pytest.raises(ValueError, match=r"faults\.boom"):
        edi_fake("diadoc", faults="boom=0.5")


@pytest.mark.edi_provider("diadoc")
def test_unmarked_scenario_signs_through_the_diadoc_fake(
    edi_bridge: Bridge, edi_counterparty: Counterparty
) -> None:
    exchange = edi_bridge.send(edi_counterparty, sample_contract("P-1"))
    assert exchange.provider == "diadoc"
    done = poll_until(edi_bridge, exchange.id, "signed")
    assert {s.role for s in done.signatures} == {"ours", "counterparty"}


@pytest.mark.edi_provider("sbis", scenario="reject:Неверный ИНН")
def test_marker_scenario_makes_the_sbis_counterparty_reject(
    edi_bridge: Bridge, edi_counterparty: Counterparty
) -> None:
    exchange = edi_bridge.send(edi_counterparty, sample_contract("P-2"))
    assert exchange.provider == "sbis"
    assert poll_until(edi_bridge, exchange.id, "rejected").reason == "Неверный ИНН"


@pytest.mark.edi_provider("mock")
def test_mock_marker_needs_no_fake(edi_bridge: Bridge, edi_counterparty: Counterparty) -> None:
    exchange = edi_bridge.send(edi_counterparty, sample_contract("P-3"), scenario="reject:Нет")
    assert exchange.provider == "mock"
    assert poll_until(edi_bridge, exchange.id, "rejected").reason == "Нет"


def test_readme_example_runs_with_the_installed_plugin(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- example: backend-callback -->\n```python\n(.*?)```", text, re.S)
    assert found, "README lost its backend-callback example"
    example = tmp_path / "test_readme_example.py"
    example.write_text(found.group(1), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout
