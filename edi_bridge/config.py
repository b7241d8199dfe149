"""Settings: explicit keys and ``EDI_BRIDGE_*`` environment variables.

A setting has a dotted key, ``<section>.<name>`` (``diadoc.api_client_id``),
and an environment variable, ``EDI_BRIDGE_<SECTION>_<NAME>`` in capitals
(``EDI_BRIDGE_DIADOC_API_CLIENT_ID``). Explicit keys win over the environment.
Each adapter receives only its own section, with the section prefix removed.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping

from .errors import ConfigurationError

ENV_PREFIX = "EDI_BRIDGE_"


def env_name(key: str) -> str:
    """``diadoc.api_client_id`` -> ``EDI_BRIDGE_DIADOC_API_CLIENT_ID``."""
    return ENV_PREFIX + key.replace(".", "_").replace("-", "_").upper()


def section(
    name: str,
    explicit: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """All settings of one section, as ``{"api_client_id": ...}``."""
    env = os.environ if environ is None else environ
    prefix = env_name(name) + "_"
    found = {k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)}
    dotted = name + "."
    for key, value in (explicit or {}).items():
        if key.startswith(dotted):
            found[key[len(dotted) :]] = value
    return found


def flag(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def check_keys(name: str, explicit: Mapping[str, str], known: Iterable[str]) -> None:
    """Refuse an explicit ``<name>.<key>`` that section ``name`` does not read.

    ``known`` holds the section's keys without the prefix; ``"doc_type_*"`` stands for
    every key starting ``doc_type_``. The error names the closest known key, so a typo
    (``diadoc.pasword``) is caught where it is made instead of failing later as a
    missing setting, or not at all.
    """
    keys = set(known)
    prefixes = tuple(k[:-1] for k in keys if k.endswith("*"))
    exact = sorted(k for k in keys if not k.endswith("*"))
    dotted = name + "."
    for key in explicit:
        if not key.startswith(dotted):
            continue
        short = key[len(dotted) :]
        if short in keys or (prefixes and short.startswith(prefixes)):
            continue
        close = difflib.get_close_matches(short, exact, n=1, cutoff=0.6)
        hint = f"did you mean {dotted}{close[0]}?" if close else f"known: {', '.join(exact)}"
        raise ConfigurationError(f"unknown setting {key!r}: {hint}")


__all__ = ["ENV_PREFIX", "check_keys", "env_name", "flag", "section"]
