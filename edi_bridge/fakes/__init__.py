"""Fakes of the operators and carriers, and what they share (scenarios, faults,
the loopback server). They are product: ``edi-bridge mock serve NAME`` runs one."""

from .scenario import SCENARIO_HELP, Play, Scenario, parse_scenario
from .server import FakeOptions, FakeServer, Faults, fake_names, load_fake, mask_secrets

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
