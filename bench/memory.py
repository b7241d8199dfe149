"""memory: send and fetch one large document through the shelf; peak RSS growth.

Runs in a child process (``python -m bench.memory --child``) so nothing else
the benchmark did is counted: after warming up (token, boxes, one small send)
the child resets its peak RSS (``/proc/self/clear_refs``), sends the document
with Bridge.send (store, signature, shelf upload in 3 MB parts, PostMessage)
and fetches it back with Bridge.fetch (from the store and from the operator),
then reports VmHWM minus the RSS it started from. The Diadoc fake runs in its
own process; its 70 MB document limit and the adapter's
(``diadoc.max_document_size``) are raised for this run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import Result, fake_process

TARGET_MB = 64.0


def _status(field: str) -> int:
    """A VmRSS/VmHWM line of /proc/self/status, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(settings: dict[str, str], size_mb: int, workdir: Path) -> dict[str, object]:
    from edi_bridge import Bridge
    from edi_bridge.models import Document
    from edi_bridge.testing import sample_counterparty

    from .common import contract

    path = workdir / "large-contract.pdf"
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        for _ in range(size_mb):
            chunk = os.urandom(1 << 20)
            digest.update(chunk)
            fh.write(chunk)
    counterparty = sample_counterparty("bench-memory")
    with Bridge.open(workdir / "memory.db", settings=settings) as bridge:
        bridge.send(counterparty, contract(-1, 50 * 1024), provider="diadoc")
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        baseline = _status("VmRSS")
        document = Document.from_path(path, number="BIG-1", date="2026-03-05")
        exchange = bridge.send(counterparty, document, provider="diadoc")
        if exchange.status != "sent":
            raise RuntimeError(f"large send ended {exchange.status}: {exchange.last_error}")
        manifest = json.loads(bridge.fetch(exchange.id, workdir / "out").read_text())
        peak = _status("VmHWM")
    fetched = {f["role"]: f for f in manifest["files"]}
    for role in ("document", "provider_document"):
        if fetched[role]["sha256"] != digest.hexdigest():
            raise RuntimeError(f"fetched {role} differs from the sent document")
    return {"baseline_mb": baseline / 2**20, "growth_mb": (peak - baseline) / 2**20}


def run(size_mb: int) -> Result:
    limit_mb = size_mb + 16
    limit = limit_mb * 1024 * 1024  # both Diadoc's 70 MB limits, the fake's and the adapter's
    with fake_process("--counterparty", "bench-memory", "--max-document-mb", str(limit_mb)) as fake:
        out = subprocess.run(
            [sys.executable, "-m", "bench.memory", "--child", str(size_mb)],
            input=json.dumps(fake.settings(max_document_size=str(limit))),
            capture_output=True,
            text=True,
            check=False,
        )
    if out.returncode != 0:
        raise RuntimeError(f"memory child failed:\n{out.stderr[-4000:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    growth = float(data["growth_mb"])
    return Result(
        name="memory",
        value=round(growth, 1),
        unit="MB",
        floor=float(size_mb),
        ratio=round(growth / size_mb, 3),
        target=f"value <= {TARGET_MB:g} MB (ratio = growth / document size)",
        met=growth <= TARGET_MB,
        workload=(
            f"one {size_mb} MB document: Bridge.send through the shelf (3 MB parts) and "
            "Bridge.fetch (store copy and the operator's copy) in a child process, SQLite "
            "store; peak RSS growth over the warmed-up process"
        ),
        extra={"baseline_rss_mb": round(float(data["baseline_mb"]), 1)},
    )


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.memory")
    ap.add_argument("--child", type=int, required=True, metavar="SIZE_MB")
    args = ap.parse_args()
    settings = json.loads(sys.stdin.read())
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(child(settings, args.child, Path(tmp))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
