"""What latency and ratelimit share: enqueued contracts sent by one Worker in this process.

The Diadoc fake runs in its own process and answers every call after ``latency``
seconds. N contracts are enqueued first (not timed), after one warm send (the token
and the counterparty's box, once per process). Then one ``Worker(concurrency=C)``
sends them; the wall time runs from the worker's start to the last outcome, and the
CPU time is this process's over the same span (the fake's is not in it).
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import threading
import time
from pathlib import Path

from edi_bridge import Bridge
from edi_bridge.signing import throwaway_signer
from edi_bridge.testing import sample_counterparty
from edi_bridge.worker import Worker

from .common import FakeProcess, contract, fake_process


@dataclasses.dataclass(frozen=True)
class WorkerRun:
    sends: int
    wall_s: float
    cpu_s: float
    arrivals: list[float]  # when the fake received each request (with ``arrivals``)

    @property
    def cpu_ms_per_send(self) -> float:
        return round(1000 * self.cpu_s / self.sends, 2)


def _arrivals(fake: FakeProcess) -> list[float]:
    assert fake.proc.stdin is not None
    assert fake.proc.stdout is not None
    fake.proc.stdin.write("arrivals\n")
    fake.proc.stdin.flush()
    times: list[float] = json.loads(fake.proc.stdout.readline())["arrivals"]
    return sorted(times)


def run_worker(
    name: str,
    n: int,
    *,
    size: int,
    concurrency: int,
    latency: float,
    arrivals: bool = False,
    **settings: str,
) -> WorkerRun:
    """Send ``n`` enqueued contracts of ``size`` bytes with one worker; ``settings`` are
    extra ``diadoc.*`` keys (``rate="100"``)."""
    seed = f"bench-{name}"
    args = ["--counterparty", seed, "--latency", str(latency)]
    with (
        fake_process(*args, *(["--arrivals"] if arrivals else [])) as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):
        counterparty = sample_counterparty(seed)
        with Bridge.open(
            Path(tmp) / f"{name}.db", settings=fake.settings(**settings), signer=throwaway_signer()
        ) as bridge:
            bridge.send(counterparty, contract(-1, size, prefix="W"), provider="diadoc")
            for i in range(n):
                bridge.enqueue(counterparty, contract(i, size, prefix="C"), provider="diadoc")
            if arrivals:
                _arrivals(fake)  # the warm-up's requests are not counted
            worker = Worker(bridge, concurrency=concurrency, poll_interval=3600, idle_sleep=0.05)
            thread = threading.Thread(target=worker.run, daemon=True)
            start, cpu = time.perf_counter(), time.process_time()
            thread.start()
            while worker.stats.sent + worker.stats.failed + worker.stats.errors < n:
                time.sleep(0.002)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            worker.stop()
            thread.join(timeout=60)
            if worker.stats.sent != n:
                raise RuntimeError(f"worker sent {worker.stats.sent} of {n}: {worker.stats}")
            times = _arrivals(fake) if arrivals else []
    return WorkerRun(n, wall, cpu, times)


__all__ = ["WorkerRun", "run_worker"]
