"""``python -m bench [--json] [--quick] [--only NAME ...]``

Runs the benchmarks against fakes it starts on 127.0.0.1 and prints a table
(or, with ``--json``, one JSON object per benchmark). See BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

from .common import Result

NAMES = ("send", "poll", "memory", "latency", "ratelimit")


def _runners(quick: bool) -> dict[str, Callable[[], Result]]:
    from . import latency, memory, poll, ratelimit, send

    return {
        "send": lambda: send.run(100 if quick else 400),
        "poll": lambda: poll.run(10_000 if quick else 50_000),
        "memory": lambda: memory.run(50 if quick else 200),
        "latency": lambda: latency.run(100 if quick else 500, concurrency=4, latency=0.05),
        "ratelimit": lambda: ratelimit.run(300 if quick else 600),
    }


def _table(results: list[Result]) -> str:
    rows = [("benchmark", "value", "floor", "ratio", "target", "met")]
    for r in results:
        rows.append(
            (
                r.name,
                f"{r.value:g} {r.unit}",
                f"{r.floor:g} {r.unit}",
                f"{r.ratio:.3f}",
                r.target,
                "yes" if r.met else "NO",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for r in results:
        lines.append(f"\n{r.name}: {r.workload}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--json", action="store_true", help="one JSON object per benchmark")
    ap.add_argument("--quick", action="store_true", help="smaller workloads (a smoke run)")
    ap.add_argument("--only", nargs="+", choices=NAMES, default=list(NAMES))
    args = ap.parse_args(argv)
    runners = _runners(args.quick)
    results: list[Result] = []
    for name in args.only:
        start = time.perf_counter()
        result = runners[name]()
        result.extra["seconds"] = round(time.perf_counter() - start, 1)
        results.append(result)
        if args.json:
            print(json.dumps(result.as_json(), ensure_ascii=False), flush=True)
        else:
            print(f"{name}: done in {result.extra['seconds']} s", file=sys.stderr, flush=True)
    if not args.json:
        print(_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
