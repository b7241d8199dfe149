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
EXPECTED = {"send", "poll", "memory", "latency", "ratelimit"}
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


def test_poll_at_scale_reports_memory_and_cost_after_every_step() -> None:
    from bench import pollscale

    seen: list[dict[str, object]] = []
    rows = pollscale.run(4_000, 2_000, seen.append)
    assert rows == seen  # each step is reported as soon as it is measured
    assert [row["events"] for row in rows] == [2_000, 4_000]
    for row in rows:
        assert {"events_per_s", "us_per_event", "rss_mb", "peak_rss_mb", "db_mb"} <= row.keys()


def test_pollscale_refuses_a_step_that_does_not_divide_the_events() -> None:
    from bench import pollscale

    with pytest.raises(ValueError, match="step"):
        pollscale.run(5_000, 2_000)


def test_ideal_worker_rate_is_capped_by_the_operator_rate_limit() -> None:
    from bench.workers import ideal_rate

    assert ideal_rate(1, 1, 0.05, 100.0) == pytest.approx(20.0)
    assert ideal_rate(4, 1, 0.05, 100.0) == pytest.approx(80.0)
    assert ideal_rate(8, 4, 0.05, 100.0) == 100.0


@pytest.mark.postgres
def test_workers_benchmark_sends_everything_and_reports_its_ratio_to_ideal() -> None:
    import os

    from bench import workers

    dsn = os.environ.get("EDI_BRIDGE_TEST_POSTGRES")
    if not dsn:
        pytest.skip("EDI_BRIDGE_TEST_POSTGRES is not set: no PostgreSQL to test against")
    row = workers.run(dsn, exchanges=8, latency=0.01, workers=2, concurrency=2, rate_limit=50.0)
    assert row["left_queued"] == 0
    assert row["ideal_per_s"] == 50.0  # 2 x 2 / 0.01 = 400/s, capped at the limit
    assert isinstance(row["ratio"], float)
    assert row["ratio"] > 0
