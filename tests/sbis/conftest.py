"""SBIS fake on loopback, and Bridges wired to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from edi_bridge_providers.sbis.fake import SbisFake

from edi_bridge import Bridge
from edi_bridge.fakes.server import FakeOptions, FakeServer, Faults

SbisWorld = tuple[SbisFake, FakeServer]


def settings_for(server: FakeServer, **extra: str) -> dict[str, str]:
    """Explicit ``sbis.*`` keys pointing the adapter at a running fake."""
    return server.settings(**{"retry_base_delay": "0.01", "timeout": "5", **extra})


@pytest.fixture(autouse=True)
def _no_sbis_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the tests, not from the developer's shell."""
    import os

    for name in list(os.environ):
        if name.startswith("EDI_BRIDGE_SBIS_"):
            monkeypatch.delenv(name)


@pytest.fixture
def start_fake() -> Iterator[Callable[..., SbisWorld]]:
    servers: list[FakeServer] = []

    def start(scenario: str = "sign", faults: Faults | None = None, **extra: str) -> SbisWorld:
        fake = SbisFake(FakeOptions(scenario=scenario, extra=extra))
        server = FakeServer(fake, faults=faults).start()
        servers.append(server)
        return fake, server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sbis(start_fake: Callable[..., SbisWorld]) -> SbisWorld:
    return start_fake(seed="7")


@pytest.fixture
def open_bridge(tmp_path: Path) -> Iterator[Callable[..., Bridge]]:
    bridges: list[Bridge] = []

    def open_(server: FakeServer, name: str = "edi.db", **kw: Any) -> Bridge:
        extra = kw.pop("settings", {})
        bridge = Bridge.open(tmp_path / name, settings=settings_for(server, **extra), **kw)
        bridges.append(bridge)
        return bridge

    yield open_
    for bridge in bridges:
        bridge.close()
