"""A pytest plug-in for backends built on edi-bridge (entry point ``pytest11``).

Installed with the library, it gives every test suite these fixtures:

* ``edi_fake`` — a factory: ``edi_fake("diadoc", scenario="sign", faults="500=0.1")``
  starts an installed fake on 127.0.0.1 and returns a :class:`RunningFake`; every fake
  it started stops after the test;
* ``edi_bridge`` — a :class:`~edi_bridge.Bridge` on a temporary SQLite database,
  pointed at a fake of the provider the ``edi_provider`` marker names (``diadoc``
  by default; ``mock`` needs no fake);
* ``edi_counterparty`` — valid sample requisites of a counterparty routed to that
  provider and known to its fake (it signs, unless the marker gives a scenario).

The marker chooses the provider and how the counterparty plays::

    @pytest.mark.edi_provider("sbis", scenario="reject:Не согласны")
    def test_rejection_is_reported(edi_bridge, edi_counterparty): ...
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..fakes.base import FakeApp
from ..fakes.server import FakeOptions, FakeServer, Faults, load_fake
from ..models import Counterparty, Exchange
from ..requisites import OPERATOR_PREFIXES
from ..workflow import Bridge
from .samples import sample_counterparty

DEFAULT_PROVIDER = "diadoc"
MARKER = "edi_provider"
# The adapters' own timeouts and retry pauses are for real networks; a fake on
# loopback answers at once, so tests wait less for what is bound to fail.
_FAST_SETTINGS = {"timeout": "5"}


@dataclasses.dataclass
class RunningFake:
    """A fake served on 127.0.0.1: its app (the steering API) and its server."""

    name: str
    app: FakeApp
    server: FakeServer

    @property
    def url(self) -> str:
        return self.server.url

    def settings(self, **extra: str) -> dict[str, str]:
        """Bridge settings (``section.key``) pointing at this fake."""
        return self.server.settings(**{**_FAST_SETTINGS, **extra})

    def exports(self) -> dict[str, str]:
        """The same settings as ``EDI_BRIDGE_*`` variables."""
        return self.server.exports()

    def add_counterparty(
        self, counterparty: Counterparty, scenario: str | None = None, **plan: Any
    ) -> str:
        return self.app.add_counterparty(counterparty, scenario, **plan)


def start_fake(
    name: str,
    *,
    scenario: str = "sign",
    faults: str | Faults | None = None,
    seed: int | None = None,
    port: int = 0,
    **extra: str,
) -> RunningFake:
    """Start the installed fake ``name`` (``edi-bridge mock list``) on loopback."""
    if not isinstance(faults, Faults):
        faults = Faults.parse(faults, seed=seed)
    options = dict(extra)
    if seed is not None:
        options.setdefault("seed", str(seed))
    app = load_fake(name, FakeOptions(scenario=scenario, faults=faults, extra=options))
    if not isinstance(app, FakeApp):
        raise TypeError(f"fake {name!r} is not built on edi_bridge.fakes.FakeApp")
    server = FakeServer(app, port=port, faults=faults).start(poll_interval=0.1)
    return RunningFake(name, app, server)


def counterparty_for(provider: str, seed: str) -> Counterparty:
    """Sample requisites whose EDI route leads to ``provider``."""
    prefix = OPERATOR_PREFIXES.get(provider)
    if prefix is None:
        return sample_counterparty(seed)  # the mock's route is the sample's own
    box = prefix + hashlib.sha256(seed.encode()).hexdigest()[:32]
    return sample_counterparty(seed, edi=[{"operator": provider, "participant_id": box}])


def poll_until(bridge: Bridge, exchange_id: str, *statuses: str, polls: int = 20) -> Exchange:
    """Poll until the exchange reaches one of ``statuses``; fails after ``polls`` polls."""
    for _ in range(polls):
        bridge.poll()
        exchange = bridge.status(exchange_id)
        if exchange.status in statuses:
            return exchange
    raise AssertionError(
        f"{exchange_id} did not reach {statuses} in {polls} polls: "
        f"{bridge.status(exchange_id).status}"
    )


# -- pytest hooks and fixtures ------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(name, scenario='sign', **plan): the provider the edi_bridge and "
        "edi_counterparty fixtures use, and how the counterparty plays at its fake",
    )


def _marker(request: pytest.FixtureRequest) -> tuple[str, str, dict[str, Any]]:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return DEFAULT_PROVIDER, "sign", {}
    kwargs = dict(marker.kwargs)
    name = marker.args[0] if marker.args else kwargs.pop("name", DEFAULT_PROVIDER)
    scenario = kwargs.pop("scenario", "sign")
    return str(name), str(scenario), kwargs


@pytest.fixture
def edi_fake() -> Iterator[Callable[..., RunningFake]]:
    """Factory: ``edi_fake(name, scenario=, faults=, seed=, **options)`` -> RunningFake."""
    started: list[RunningFake] = []

    def start(name: str = DEFAULT_PROVIDER, **kwargs: Any) -> RunningFake:
        running = start_fake(name, **kwargs)
        started.append(running)
        return running

    yield start
    for running in started:
        running.server.stop()


@pytest.fixture
def edi_provider_fake(
    request: pytest.FixtureRequest, edi_fake: Callable[..., RunningFake]
) -> RunningFake | None:
    """The fake of the marker's provider (None for ``mock``, which runs in process)."""
    name, _scenario, _plan = _marker(request)
    return None if name == "mock" else edi_fake(name)


@pytest.fixture
def edi_bridge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edi_provider_fake: RunningFake | None
) -> Iterator[Bridge]:
    """A Bridge on a temporary database, pointed at the marker's provider fake."""
    monkeypatch.delenv("EDI_BRIDGE_DB", raising=False)
    settings = edi_provider_fake.settings() if edi_provider_fake else {}
    bridge = Bridge.open(tmp_path / "edi-bridge.db", settings=settings)
    yield bridge
    bridge.close()


@pytest.fixture
def edi_counterparty(
    request: pytest.FixtureRequest, edi_provider_fake: RunningFake | None
) -> Counterparty:
    """Valid sample requisites, routed to the marker's provider and known to its fake."""
    name, scenario, plan = _marker(request)
    seed = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:12]
    counterparty = counterparty_for(name, seed)
    if edi_provider_fake is not None:
        edi_provider_fake.add_counterparty(counterparty, scenario, **plan)
    return counterparty


__all__ = [
    "DEFAULT_PROVIDER",
    "MARKER",
    "RunningFake",
    "counterparty_for",
    "edi_bridge",
    "edi_counterparty",
    "edi_fake",
    "edi_provider_fake",
    "poll_until",
    "start_fake",
]
