"""What the benchmarks share: the fake in a subprocess, settings, documents, results."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from edi_bridge.models import Document, DocumentKind


@dataclasses.dataclass
class Result:
    """One benchmark's figure against its floor (ratio = value / floor, higher is better)."""

    name: str
    value: float
    unit: str
    floor: float
    ratio: float
    target: str
    met: bool
    workload: str
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.update(data.pop("extra"))
        return data


@dataclasses.dataclass
class FakeProcess:
    url: str
    exports: dict[str, str]
    box_id: str
    to_box: str
    proc: subprocess.Popen[str]

    def settings(self, **extra: str) -> dict[str, str]:
        """``diadoc.*`` keys pointing a Bridge at this fake."""
        keys = {
            "diadoc." + name.removeprefix("EDI_BRIDGE_DIADOC_").lower(): value
            for name, value in self.exports.items()
        }
        keys["diadoc.timeout"] = "120"
        keys.update({f"diadoc.{k}": v for k, v in extra.items()})
        return keys

    def adapter_config(self) -> dict[str, str]:
        return {k.removeprefix("diadoc."): v for k, v in self.settings().items()}


@contextlib.contextmanager
def fake_process(*args: str) -> Iterator[FakeProcess]:
    """Start ``python -m bench.fakeproc ARGS`` and stop it on exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.fakeproc", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the fake did not start")
        info = json.loads(line)
        yield FakeProcess(info["url"], info["exports"], info["box_id"], info["to_box"], proc)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def contract(index: int, size: int, *, prefix: str = "B") -> Document:
    """A contract of ``size`` bytes (a PDF header and incompressible filler)."""
    body = b"%PDF-1.4\n" + os.urandom(max(0, size - 9))
    return Document.from_bytes(
        body,
        kind=DocumentKind.CONTRACT,
        number=f"{prefix}-{index}",
        date=dt.date(2026, 3, 5),
        file_name=f"contract-{prefix}-{index}.pdf",
    )
