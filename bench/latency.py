"""latency: sends with 4 in flight against a fake that answers each call after 50 ms.

N exchanges are enqueued first (not timed); then ``Worker(concurrency=4)``
sends them. Wall time from the worker's start to the last ``sent`` against
the ideal N x 50 ms / 4. The operator's limits (100 requests/s, 4
connections) stay at their defaults.
"""

from __future__ import annotations

from .common import Result
from .workerrun import run_worker

TARGET = 0.9


def run(n: int, *, concurrency: int, latency: float) -> Result:
    done = run_worker("latency", n, size=50 * 1024, concurrency=concurrency, latency=latency)
    wall = done.wall_s
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
        extra={
            "per_s": round(n / wall, 1),
            "ideal_per_s": round(n / ideal, 1),
            "cpu_ms_per_send": done.cpu_ms_per_send,
        },
    )
