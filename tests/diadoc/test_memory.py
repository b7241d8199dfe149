"""A 20 MB contract goes through the shelf without the client holding it in memory."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from edi_bridge_providers.diadoc import DiadocProvider

from edi_bridge.models import Document
from edi_bridge.provider import ProviderContext, SendRequest
from edi_bridge.signing import throwaway_signer
from edi_bridge.testing import sample_counterparty

from .conftest import FileSource

SIZE = 20 * 1024 * 1024
PART = 3 * 1024 * 1024


@pytest.mark.slow
def test_twenty_megabyte_contract_peak_memory_stays_within_a_few_parts(tmp_path: Path) -> None:
    path = tmp_path / "big-contract.pdf"
    with path.open("wb") as fh:
        for _ in range(SIZE // (1 << 20)):
            fh.write(os.urandom(1 << 20))
    # The fake runs in its own process so that only the client is measured.
    proc = subprocess.Popen(
        [sys.executable, "-m", "edi_bridge_providers.diadoc.fake", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        exports = {}
        for _ in range(6):
            name, _, value = proc.stdout.readline().removeprefix("export ").strip().partition("=")
            exports[name.removeprefix("EDI_BRIDGE_DIADOC_").lower()] = value.strip("'")
        adapter = DiadocProvider(ProviderContext(config={**exports, "timeout": "30"}))
        source = FileSource(path)
        document = Document.from_path(path, number="BIG-1", date="2026-03-05")
        request = SendRequest(
            exchange_id="ex-big",
            idempotency_key="big-20mb",
            counterparty=sample_counterparty("big"),
            document=document,
            content=source,
            signature=throwaway_signer().sign_stream(source.chunks()),
        )
        adapter.recipient_box(request.counterparty)
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        result = adapter.send(request)
        peak = tracemalloc.get_traced_memory()[1] - baseline
        tracemalloc.stop()
        print(f"\n20 MiB via shelf: client peak {peak / (1 << 20):.1f} MiB above baseline")
        assert result.document_id
        assert peak < 3 * PART
    finally:
        proc.terminate()
        proc.wait(timeout=10)
