"""latency: sends with 4 in flight against a fake that answers each call after 50 ms.

N exchanges are enqueued first (not timed); then ``Worker(concurrency=4)``
sends them. Wall time from the worker's start to the last ``sent`` against
the ideal N x 50 ms / 4. The operator's limits (100 requests/s, 4
connections) stay at their defaults.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from edi_bridge import Bridge
from edi_bridge.signing import throwaway_signer
from edi_bridge.testing import sample_counterparty
from edi_bridge.worker import Worker

from .common import Result, contract, fake_process

TARGET = 0.9


def run(n: int, *, concurrency: int, latency: float) -> Result:
    seed = "bench-latency"
    with (
        fake_process("--counterparty", seed, "--latency", str(latency)) as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):
        counterparty = sample_counterparty(seed)
        with Bridge.open(
            Path(tmp) / "latency.db", settings=fake.settings(), signer=throwaway_signer()
        ) as bridge:
            # Warm: token and the counterparty's box (each a 50 ms call), once.
            bridge.send(counterparty, contract(-1, 50 * 1024, prefix="W"), provider="diadoc")
            for i in range(n):
                bridge.enqueue(counterparty, contract(i, 50 * 1024, prefix="C"), provider="diadoc")
            worker = Worker(bridge, concurrency=concurrency, poll_interval=3600, idle_sleep=0.05)
            thread = threading.Thread(target=worker.run, daemon=True)
            start = time.perf_counter()
            thread.start()
            while worker.stats.sent + worker.stats.failed + worker.stats.errors < n:
                time.sleep(0.002)
            wall = time.perf_counter() - start
            worker.stop()
            thread.join(timeout=60)
            if worker.stats.sent != n:
                raise RuntimeError(f"worker sent {worker.stats.sent} of {n}: {worker.stats}")
    ideal = n * latency / concurrency
    ratio = ideal / wall
    return Result(
        name="latency",
        value=round(wall, 2),
        unit="s",
        floor=round(ideal, 2),
        ratio=round(ratio, 3),
        target=f"ratio (ideal / wall) >= {TARGET}",
        met=ratio >= TARGET,
        workload=(
            f"{n} enqueued contracts of 50 KB sent by Worker(concurrency={concurrency}) through "
            f"the Diadoc fake answering every call after {latency * 1000:g} ms (own process); "
            f"ideal = {n} x {latency * 1000:g} ms / {concurrency}"
        ),
        extra={"per_s": round(n / wall, 1), "ideal_per_s": round(n / ideal, 1)},
    )
