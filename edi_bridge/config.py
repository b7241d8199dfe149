"""Settings: explicit keys and ``EDI_BRIDGE_*`` environment variables.

A setting has a dotted key, ``<section>.<name>`` (``diadoc.api_client_id``),
and an environment variable, ``EDI_BRIDGE_<SECTION>_<NAME>`` in capitals
(``EDI_BRIDGE_DIADOC_API_CLIENT_ID``). Explicit keys win over the environment.
Each adapter receives only its own section, with the section prefix removed.
"""

from __future__ import annotations

import difflib
import os
import shlex
from collections.abc import Iterable, Mapping, MutableMapping
from pathlib import Path

from .errors import ConfigurationError, ValidationError

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


def read_env_file(path: str | Path) -> dict[str, str]:
    """The ``EDI_BRIDGE_*`` variables of a file a shell can ``source`` (``export K=V``
    lines, as ``edi-bridge mock serve --env-file`` writes); comments and blank lines
    are skipped, anything else is refused naming the line."""
    found: dict[str, str] = {}
    text = Path(path).read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            raise ValidationError(f"{path}:{number}", f"not shell syntax: {exc}") from None
        if words[:1] == ["export"]:
            words = words[1:]
        if not words:
            continue
        name, sep, value = words[0].partition("=")
        if len(words) != 1 or not sep or not name.startswith(ENV_PREFIX):
            raise ValidationError(f"{path}:{number}", "expected [export] EDI_BRIDGE_NAME=VALUE")
        found[name] = value
    return found


def load_env_file(
    path: str | Path, environ: MutableMapping[str, str] | None = None
) -> dict[str, str]:
    """Put the file's ``EDI_BRIDGE_*`` variables into the environment (the file wins),
    so a Bridge opened afterwards reads them as if the shell had sourced it."""
    found = read_env_file(path)
    (os.environ if environ is None else environ).update(found)
    return found


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


__all__ = [
    "ENV_PREFIX",
    "check_keys",
    "env_name",
    "flag",
    "load_env_file",
    "read_env_file",
    "section",
]
