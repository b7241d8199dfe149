"""docs/adapters.md carries the capability matrix the adapters declare (no drift)."""

from __future__ import annotations

from pathlib import Path

from edi_bridge.testing.matrix import END, START, block, capability_matrix

PAGE = Path(__file__).resolve().parent.parent / "docs" / "adapters.md"


def test_the_capability_matrix_in_the_adapter_guide_matches_the_declared_capabilities() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert START in text
    assert END in text
    assert block() in text, "run: python -m edi_bridge.testing.matrix --write docs/adapters.md"


def test_the_matrix_lists_every_installed_adapter_and_carrier() -> None:
    matrix = capability_matrix()
    for name in ("diadoc", "sbis", "mock", "russianpost", "cdek", "courier"):
        assert f"| `{name}` |" in matrix
