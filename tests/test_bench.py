"""The benchmark runs: ``python -m bench --quick --json`` prints a row for every benchmark.

A smoke test only: it proves every benchmark still runs end to end on this checkout,
and asserts nothing about the figures (the machine running the tests decides those).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from edi_bridge_providers.diadoc import DiadocProvider
from edi_bridge_providers.diadoc.settings import MAX_DOCUMENT_SIZE, DiadocSettings

from edi_bridge.errors import ValidationError
from edi_bridge.models import Document
from edi_bridge.testing import sample_counterparty

ROOT = Path(__file__).resolve().parents[1]
# The benchmarks BENCHMARKS.md reports; a benchmark dropped from the run fails here.
EXPECTED = {"send", "poll", "memory", "latency"}
ROW_KEYS = {"name", "value", "unit", "floor", "ratio", "target", "met", "workload"}


def _listed_benchmarks() -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", "from bench.__main__ import NAMES; print(' '.join(NAMES))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(out.stdout.split())


def test_quick_run_prints_a_json_row_for_every_benchmark() -> None:
    names = _listed_benchmarks() | EXPECTED
    out = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    printed = [row["name"] for row in rows]
    assert sorted(printed) == sorted(names), out.stderr[-4000:]
    for row in rows:
        missing = ROW_KEYS - row.keys()
        assert not missing, f"{row['name']} row lacks {sorted(missing)}"


def test_the_diadoc_size_limit_the_memory_benchmark_raises_is_a_setting(tmp_path: Path) -> None:
    big = tmp_path / "big.pdf"
    with big.open("wb") as fh:  # sparse: 80 MB without writing them
        fh.truncate(80 * 1024 * 1024)
    document = Document.from_path(big, kind="contract", number="BIG-1", date=dt.date(2026, 3, 5))
    counterparty = sample_counterparty("limit")
    base = {"base_url": "http://127.0.0.1:9", "api_client_id": "k", "login": "u", "password": "p"}
    adapter = DiadocProvider.__new__(DiadocProvider)  # the check needs no connection

    adapter.settings = DiadocSettings.from_config(base)
    assert adapter.settings.max_document_size == MAX_DOCUMENT_SIZE == 70 * 1024 * 1024
    with pytest.raises(ValidationError) as refused:
        adapter.check(counterparty, document)
    assert refused.value.field == "document.size"
    assert "diadoc.max_document_size" in str(refused.value)

    adapter.settings = DiadocSettings.from_config({**base, "max_document_size": str(96 << 20)})
    adapter.check(counterparty, document)  # raised: no error
