"""No silent typos in settings: every explicit key and every ``EDI_BRIDGE_*`` variable
must belong to a section something reads.

The known keys come from the declarations the readers use: the library's own sections
(:data:`edi_bridge.config.CORE_SECTIONS`) and each adapter's and carrier's
``settings_keys``. An adapter class is imported only when a key or variable names its
section (or, on a refusal, to name the closest known key), so a Bridge opened for one
operator does not load the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .. import config
from ..errors import ConfigurationError, UnknownProvider
from ..paper.carrier import CarrierRegistry, default_carriers
from ..registry import PluginRegistry, Registry


def check_settings(
    settings: Mapping[str, str],
    environ: Mapping[str, str],
    registry: Registry,
    carriers: CarrierRegistry = default_carriers,
) -> None:
    """Raise ConfigurationError naming an unknown key or variable and the closest known one."""
    plugins: list[tuple[str, PluginRegistry[Any]]] = [
        (name, reg) for reg in (registry, carriers) for name in reg.names()
    ]
    named = {n for n, _ in plugins if _named(n, settings, environ)}
    try:
        config.check_settings(settings, environ, _sections(plugins, named))
    except ConfigurationError:
        # Refused: load every section, so the hint names the closest key of all.
        config.check_settings(settings, environ, _sections(plugins, None))
        raise


def _named(name: str, settings: Iterable[str], environ: Iterable[str]) -> bool:
    prefix, variable = name + ".", config.env_name(name) + "_"
    return any(k.startswith(prefix) for k in settings) or any(
        v.startswith(variable) for v in environ
    )


def _sections(
    plugins: list[tuple[str, PluginRegistry[Any]]], wanted: set[str] | None
) -> dict[str, config.Keys | None]:
    sections: dict[str, config.Keys | None] = {k.section: k for k in config.CORE_SECTIONS}
    for name, reg in plugins:
        if wanted is not None and name not in wanted:
            continue
        try:
            declared = getattr(reg.get(name), "settings_keys", None)
        except UnknownProvider:
            continue  # cannot be loaded: using it fails on its own, naming why
        sections[name] = None if declared is None else config.Keys(name, declared)
    return sections


__all__ = ["check_settings"]
