"""The SBIS fake, registered as ``sbis`` in the ``edi_bridge.fakes`` group."""

from __future__ import annotations

from edi_bridge.fakes.server import FakeOptions

from .app import SbisFake
from .world import PartyPlan


def make_fake(options: FakeOptions) -> SbisFake:
    return SbisFake(options)


__all__ = ["PartyPlan", "SbisFake", "make_fake"]
