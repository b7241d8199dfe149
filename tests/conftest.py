from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edi_bridge import Bridge, Counterparty
from edi_bridge.testing import sample_counterparty


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    b = Bridge.open(tmp_path / "edi.db")
    yield b
    b.close()


@pytest.fixture
def counterparty() -> Counterparty:
    return sample_counterparty("tests")
