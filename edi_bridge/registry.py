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
from typing import Any, ClassVar, Generic, TypeVar, cast

from .errors import UnknownProvider
from .provider import Provider

ENTRY_POINT_GROUP = "edi_bridge.providers"
T = TypeVar("T")


class PluginRegistry(Generic[T]):
    """Plug-in classes by name: an entry-point group, imported lazily on first
    use, plus registrations made in code (which win over installed ones)."""

    group: ClassVar[str]
    noun: ClassVar[str]  # "provider", "carrier": how errors name what is missing

    def __init__(self, base: type[object], *, use_entry_points: bool = True) -> None:
        self._base = base
        self._lock = threading.Lock()
        self._targets: dict[str, str | type[T]] = {}
        self._use_entry_points = use_entry_points
        self._scanned = False

    def _scan(self) -> None:
        if self._scanned or not self._use_entry_points:
            return
        for ep in importlib.metadata.entry_points(group=self.group):
            self._targets.setdefault(ep.name, ep.value)
        self._scanned = True

    def register(self, name: str, target: str | type[T]) -> None:
        """Add (or replace) a plug-in under ``name``."""
        with self._lock:
            self._scan()
            self._targets[name] = target

    def names(self) -> list[str]:
        with self._lock:
            self._scan()
            return sorted(self._targets)

    def get(self, name: str) -> type[T]:
        with self._lock:
            self._scan()
            target = self._targets.get(name)
        noun = self.noun
        if target is None:
            known = ", ".join(self.names()) or "none"
            raise UnknownProvider(f"no {noun} named {name!r} (installed: {known})")
        if isinstance(target, str):
            module_name, _, attr = target.partition(":")
            try:
                obj = getattr(importlib.import_module(module_name), attr)
            except (ImportError, AttributeError) as exc:
                raise UnknownProvider(f"{noun} {name!r} cannot be loaded: {exc}") from exc
            if not (isinstance(obj, type) and issubclass(obj, self._base)):
                raise UnknownProvider(
                    f"{noun} {name!r} ({target}) is not a {self._base.__name__} class"
                )
            loaded = cast("type[T]", obj)  # checked just above
            with self._lock:
                self._targets[name] = loaded
            return loaded
        return target


class Registry(PluginRegistry[Provider]):
    """Provider adapters (the ``edi_bridge.providers`` entry-point group)."""

    group = ENTRY_POINT_GROUP
    noun = "provider"

    def __init__(self, *, use_entry_points: bool = True) -> None:
        super().__init__(Provider, use_entry_points=use_entry_points)

    def for_operator(self, operator: str) -> str | None:
        """The registered adapter name that serves an EdiRoute operator."""
        if operator in self.names():
            return operator
        return None


default_registry = Registry()


def register(name: str, target: str | type[Provider]) -> None:
    """Register a private adapter in the process-wide registry."""
    default_registry.register(name, target)


def providers_info(registry: Registry) -> list[dict[str, Any]]:
    """Installed adapters, their operator and capabilities (no database needed)."""
    info: list[dict[str, Any]] = []
    for name in registry.names():
        try:
            cls = registry.get(name)
        except UnknownProvider as exc:
            info.append({"name": name, "error": str(exc)})
            continue
        info.append(
            {
                "name": name,
                "operator": cls.operator,
                "capabilities": sorted(str(c) for c in cls.capabilities),
            }
        )
    return info


__all__ = ["ENTRY_POINT_GROUP", "PluginRegistry", "Registry", "default_registry", "register"]
