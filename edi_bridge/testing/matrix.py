"""The capability matrix of docs/adapters.md, generated from what adapters declare.

``python -m edi_bridge.testing.matrix`` prints it; ``--write PATH`` replaces the block
between the markers in that file. A test compares the page with this output, so the
page cannot drift from the adapters' declared capabilities.
"""

from __future__ import annotations

import argparse
import importlib.metadata
from pathlib import Path

from ..fakes.server import FAKES_GROUP
from ..paper.carrier import default_carriers
from ..provider import Capability
from ..registry import default_registry

START = "<!-- capability-matrix:start (generated: python -m edi_bridge.testing.matrix) -->"
END = "<!-- capability-matrix:end -->"


def _fakes() -> set[str]:
    return {ep.name for ep in importlib.metadata.entry_points(group=FAKES_GROUP)}


def capability_matrix() -> str:
    """Two Markdown tables: EDI adapters by capability, carriers by what they do."""
    fakes = _fakes()
    caps = list(Capability)
    lines = [
        "| Adapter | Operator | " + " | ".join(str(c) for c in caps) + " | fake |",
        "|---|---|" + "---|" * (len(caps) + 1),
    ]
    for name in default_registry.names():
        cls = default_registry.get(name)
        marks = ["yes" if c in cls.capabilities else "—" for c in caps]
        fake = "yes" if name in fakes else "—"
        if name not in fakes and Capability.SCENARIOS in cls.capabilities:
            fake = "itself (in-process)"
        lines.append(f"| `{name}` | {cls.operator or '—'} | " + " | ".join(marks) + f" | {fake} |")
    lines += ["", "| Carrier | Title | tracks | fake |", "|---|---|---|---|"]
    for name in default_carriers.names():
        carrier = default_carriers.get(name)
        tracks = "yes" if carrier.tracks else "— (set by hand)"
        fake = "yes" if name in fakes else "—"
        lines.append(f"| `{name}` | {carrier.title or name} | {tracks} | {fake} |")
    return "\n".join(lines) + "\n"


def block() -> str:
    return f"{START}\n{capability_matrix()}{END}"


def replace_block(text: str) -> str:
    """``text`` with the generated block between the markers brought up to date."""
    head, found, rest = text.partition(START)
    if not found:
        raise ValueError("the page has no capability-matrix start marker")
    _old, found, tail = rest.partition(END)
    if not found:
        raise ValueError("the page has no capability-matrix end marker")
    return head + block() + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edi_bridge.testing.matrix")
    parser.add_argument("--write", type=Path, help="update the block in this Markdown file")
    args = parser.parse_args(argv)
    if args.write is None:
        print(capability_matrix(), end="")
        return 0
    args.write.write_text(replace_block(args.write.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

__all__ = ["END", "START", "block", "capability_matrix", "main", "replace_block"]
