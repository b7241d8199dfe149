"""The core takes an МЧД without loading the XML reader: ``import edi_bridge`` and the
signature package load only the model (no lxml through the МЧД code)."""

from __future__ import annotations

import json
import subprocess
import sys


def test_importing_the_core_does_not_load_the_mchd_reader_or_builder() -> None:
    code = (
        "import json, sys, edi_bridge, edi_bridge.signing, edi_bridge.cli.verify;"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('edi_bridge.mchd'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded = json.loads(out)
    assert "edi_bridge.mchd.model" in loaded
    for heavy in ("edi_bridge.mchd.reader", "edi_bridge.mchd.parse", "edi_bridge.mchd.synthetic"):
        assert heavy not in loaded
