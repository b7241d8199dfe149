"""ratelimit: one worker process holding the operator's rate limit, never above it.

Diadoc allows about 100 requests/s. N contracts are enqueued (not timed); one
``Worker(concurrency=C)`` in this process sends them through the Diadoc fake
(its own process), which answers every call after 200 ms and notes when each
request arrives. The client's limiter (``diadoc.rate``, 100 requests/s by
default, and ``diadoc.max_connections`` in flight) is all that spaces them: at
200 ms per answer, 100 requests/s needs at least 20 in flight, so C and
``max_connections`` are 32. Value: requests/s the fake received, from the first
arrival to the last; also the most arrivals in any one-second window (must never
exceed the limit). Floor: the limit; ratio = value / limit.
"""

from __future__ import annotations

from .common import Result
from .workerrun import run_worker

LIMIT = 100.0  # requests/s, Diadoc's published limit and the client's default
LATENCY = 0.2
CONCURRENCY = 32
TARGET = 0.9


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most arrivals in any half-open window [t, t + window)."""
    best = start = 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def run(n: int) -> Result:
    done = run_worker(
        "ratelimit",
        n,
        size=8 * 1024,
        concurrency=CONCURRENCY,
        latency=LATENCY,
        arrivals=True,
        rate=f"{LIMIT:g}",
        max_connections=str(CONCURRENCY),
    )
    times = done.arrivals
    span = times[-1] - times[0]
    rate = (len(times) - 1) / span if span > 0 else 0.0
    peak = max_in_window(times)
    ratio = rate / LIMIT
    return Result(
        name="ratelimit",
        value=round(rate, 1),
        unit="requests/s",
        floor=LIMIT,
        ratio=round(ratio, 3),
        target=f"ratio >= {TARGET} and never over {LIMIT:g} in any 1 s",
        met=ratio >= TARGET and peak <= LIMIT,
        workload=(
            f"{n} enqueued contracts of 8 KB sent by one Worker(concurrency={CONCURRENCY}) "
            f"through the Diadoc fake answering after {LATENCY * 1000:g} ms (own process, "
            f"arrivals noted there); diadoc.rate={LIMIT:g}, "
            f"diadoc.max_connections={CONCURRENCY}; floor = the limit"
        ),
        extra={
            "requests": len(times),
            "max_in_any_1s": peak,
            "cpu_ms_per_send": done.cpu_ms_per_send,
        },
    )
