"""Shared fixtures of the paper route tests: a Bridge on a temporary database
and the carrier fakes on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edi_bridge import Bridge, Exchange
from edi_bridge.fakes.server import FakeOptions, FakeServer, load_fake
from edi_bridge.testing import sample_counterparty
from edi_bridge.testing.samples import sample_contract

RP_BARCODE = "11741865001806"  # valid domestic barcode (check digit 6)
CDEK_NUMBER = "1234567890"


def settings_for(server: FakeServer, section: str) -> dict[str, str]:
    assert server.fake.name == section
    # The production default is polite (1 request/s); tests need no pause.
    return server.settings(rate="1000")


def serve(name: str, scenario: str = "delivered") -> FakeServer:
    return FakeServer(load_fake(name, FakeOptions(scenario=scenario))).start()


@pytest.fixture
def rp_server() -> Iterator[FakeServer]:
    server = serve("russianpost")
    yield server
    server.stop()


@pytest.fixture
def cdek_server() -> Iterator[FakeServer]:
    server = serve("cdek")
    yield server
    server.stop()


def open_bridge(tmp_path: Path, **settings: str) -> Bridge:
    return Bridge.open(
        tmp_path / "edi.db",
        settings=settings,
    )


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    with open_bridge(tmp_path) as b:
        yield b


def paper_exchange(bridge: Bridge, seed: str = "paper") -> Exchange:
    """A contract to a counterparty without EDI: routed to paper."""
    return bridge.send(sample_counterparty(seed, edi=[]), sample_contract(f"P-{seed}"))
