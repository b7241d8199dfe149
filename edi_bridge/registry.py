"""Where adapters are found: the entry-point group plus private registrations.

Installed packages declare adapters in the ``edi_bridge.providers`` entry-point
group (``name = "package.module:Class"``); nothing is imported until an adapter
is asked for by name. Private adapters are added with :func:`register`, either
as a class or as a ``"module:attr"`` string that is imported lazily too.
Registrations live in a :class:`Registry` object, not module globals, so tests
can make their own; :data:`default_registry` is the process-wide one.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import threading

from .errors import UnknownProvider
from .provider import Provider

ENTRY_POINT_GROUP = "edi_bridge.providers"


class Registry:
    def __init__(self, *, use_entry_points: bool = True) -> None:
        self._lock = threading.Lock()
        self._targets: dict[str, str | type[Provider]] = {}
        self._use_entry_points = use_entry_points
        self._scanned = False

    def _scan(self) -> None:
        if self._scanned or not self._use_entry_points:
            return
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            # Explicit registrations win over installed ones.
            self._targets.setdefault(ep.name, ep.value)
        self._scanned = True

    def register(self, name: str, target: str | type[Provider]) -> None:
        """Add (or replace) an adapter under ``name``."""
        with self._lock:
            self._scan()
            self._targets[name] = target

    def names(self) -> list[str]:
        with self._lock:
            self._scan()
            return sorted(self._targets)

    def get(self, name: str) -> type[Provider]:
        with self._lock:
            self._scan()
            target = self._targets.get(name)
        if target is None:
            known = ", ".join(self.names()) or "none"
            raise UnknownProvider(f"no provider named {name!r} (installed: {known})")
        if isinstance(target, str):
            module_name, _, attr = target.partition(":")
            try:
                obj = getattr(importlib.import_module(module_name), attr)
            except (ImportError, AttributeError) as exc:
                raise UnknownProvider(f"provider {name!r} cannot be loaded: {exc}") from exc
            if not (isinstance(obj, type) and issubclass(obj, Provider)):
                raise UnknownProvider(f"provider {name!r} ({target}) is not a Provider class")
            with self._lock:
                self._targets[name] = obj
            return obj
        return target

    def for_operator(self, operator: str) -> str | None:
        """The registered adapter name that serves an EdiRoute operator."""
        if operator in self.names():
            return operator
        return None


default_registry = Registry()


def register(name: str, target: str | type[Provider]) -> None:
    """Register a private adapter in the process-wide registry."""
    default_registry.register(name, target)


__all__ = ["ENTRY_POINT_GROUP", "Registry", "default_registry", "register"]
