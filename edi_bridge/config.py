"""Settings: explicit keys and ``EDI_BRIDGE_*`` environment variables.

A setting has a dotted key, ``<section>.<name>`` (``diadoc.api_client_id``),
and an environment variable, ``EDI_BRIDGE_<SECTION>_<NAME>`` in capitals
(``EDI_BRIDGE_DIADOC_API_CLIENT_ID``). Explicit keys win over the environment.
Each adapter receives only its own section, with the section prefix removed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

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


__all__ = ["ENV_PREFIX", "env_name", "flag", "section"]
