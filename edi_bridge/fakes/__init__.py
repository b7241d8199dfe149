"""Fakes of the operators and carriers, and what they share (scenarios, faults,
the loopback server). They are product: ``edi-bridge mock serve NAME`` runs one.

The server part (werkzeug) is imported only when one of its names is used, so the
core can read scenarios without loading a web server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..masking import mask_secrets
from .scenario import SCENARIO_HELP, Play, Scenario, parse_scenario

if TYPE_CHECKING:
    from .server import FakeOptions, FakeServer, Faults, fake_names, load_fake

_SERVER_NAMES = frozenset({"FakeOptions", "FakeServer", "Faults", "fake_names", "load_fake"})


def __getattr__(name: str) -> Any:
    if name in _SERVER_NAMES:
        return getattr(importlib.import_module(".server", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SCENARIO_HELP",
    "FakeOptions",
    "FakeServer",
    "Faults",
    "Play",
    "Scenario",
    "fake_names",
    "load_fake",
    "mask_secrets",
    "parse_scenario",
]
