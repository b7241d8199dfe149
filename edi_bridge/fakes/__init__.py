"""Fakes of the operators and carriers, and what they share (scenarios, faults,
the loopback server, the scaffold of :mod:`.base`). They are product:
``edi-bridge mock serve NAME`` runs one.

The server part (werkzeug) is imported only when one of its names is used, so the
core can read scenarios without loading a web server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..masking import mask_secrets
from .scenario import SCENARIO_HELP, Play, Scenario, parse_scenario

if TYPE_CHECKING:
    from .base import CONTROL_PREFIX, FakeApp, FakeWorld, json_answer
    from .server import FakeOptions, FakeServer, Faults, fake_names, load_fake

_LAZY = {
    **dict.fromkeys(("FakeOptions", "FakeServer", "Faults", "fake_names", "load_fake"), ".server"),
    **dict.fromkeys(("CONTROL_PREFIX", "FakeApp", "FakeWorld", "json_answer"), ".base"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CONTROL_PREFIX",
    "SCENARIO_HELP",
    "FakeApp",
    "FakeOptions",
    "FakeServer",
    "FakeWorld",
    "Faults",
    "Play",
    "Scenario",
    "fake_names",
    "json_answer",
    "load_fake",
    "mask_secrets",
    "parse_scenario",
]
