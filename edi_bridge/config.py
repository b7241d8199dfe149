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
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
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


class Keys:
    """The keys one section reads, declared once: readers take their values through
    :meth:`read`, so a key read but not declared fails in the first test that reads it,
    and the unknown-key check (:func:`check_settings`) uses the same declaration.

    ``"doc_type_*"`` stands for every key starting ``doc_type_``; ``"*"`` for any key.
    """

    def __init__(self, section: str, names: Iterable[str]) -> None:
        self.section = section
        self.names = frozenset(names)
        self._families = tuple(k[:-1] for k in self.names if k.endswith("*"))

    def __repr__(self) -> str:
        return f"<Keys {self.section}: {', '.join(sorted(self.names))}>"

    def allows(self, key: str) -> bool:
        return key in self.names or key.startswith(self._families)

    def read(
        self, settings: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
    ) -> Values:
        return Values(self, section(self.section, settings, environ))


class Values(Mapping[str, str]):
    """One section's values; asking for an undeclared key is a programming error."""

    def __init__(self, keys: Keys, values: Mapping[str, str]) -> None:
        self.keys_ = keys
        self._values = dict(values)

    def __getitem__(self, key: str) -> str:
        if not self.keys_.allows(key):
            raise AssertionError(f"{self.keys_.section}.{key} is read but not declared")
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._values  # asking whether a key is set reads nothing

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"<Values {self.keys_.section}: {', '.join(sorted(self._values))}>"


def declared_section(
    name: str, keys: Iterable[str] | None, settings: Mapping[str, str] | None = None
) -> Mapping[str, str]:
    """An adapter's section: checked against its ``settings_keys`` when it declares them."""
    if keys is None:
        return section(name, settings)
    return Keys(name, keys).read(settings)


# The sections the library itself reads (adapters and carriers declare theirs as
# ``settings_keys``). ``paper.originals_deadline_days`` is read by the paper desk and by
# the deadline check alike.
PAPER = Keys(
    "paper",
    {
        "enabled",
        "ask_can_receive",
        "fallback_provider",
        "fallback_on_failure",
        "fallback_after_days",
        "unknown_operators_to_paper",
        "originals_deadline_days",
        "sender_name",
        "sender_address",
        "scan_email",
    },
)
DEADLINES = Keys("deadlines", {"signing_days", "reminder_days"})
SIGNING = Keys(
    "signing",
    {
        "kind",
        "pkcs12",
        "key",
        "certificate",
        "password",
        "command",
        "pin",
        "timeout",
        "allow_test_certificate",
    },
)
POWER_OF_ATTORNEY = Keys(
    "signing.power_of_attorney", {"registration_number", "issuer_inn", "file", "signature"}
)
ORGANISATION = Keys("signing.organisation", {"inn", "kpp", "ogrn"})
MCHD = Keys("mchd", {"schema", "accept_text_powers"})
REQUIRED_POWERS = Keys("mchd.required_powers", {"*"})  # one key per document kind
SMTP = Keys(
    "smtp", {"host", "sender", "port", "username", "password", "starttls", "ssl", "timeout"}
)
CORE_SECTIONS = (
    PAPER,
    DEADLINES,
    SIGNING,
    POWER_OF_ATTORNEY,
    ORGANISATION,
    MCHD,
    REQUIRED_POWERS,
    SMTP,
)

# ``EDI_BRIDGE_*`` variables that are not settings: a CLI option's default, a program's
# path, a secret kept out of URLs, or the test and benchmark harness. Never refused.
OTHER_VARIABLES = {
    "EDI_BRIDGE_DB": "the database (--db)",
    "EDI_BRIDGE_CLOSING_SELLER": "closing send --seller",
    "EDI_BRIDGE_SIGNING_TRUST_STORE": "verify / reverify --trust-store",
    "EDI_BRIDGE_IMAP_PASSWORD": "intake --imap password",
    "EDI_BRIDGE_SOFFICE": "LibreOffice for contract render",
    "EDI_BRIDGE_TEST_POSTGRES": "the tests' PostgreSQL",
    "EDI_BRIDGE_REFERENCE_DIR": "the tests' reference data",
    "EDI_BRIDGE_SCREENSHOTS": "the tests' screenshots",
    "EDI_BRIDGE_CRASH_AT": "the reliability harness",
    "EDI_BRIDGE_RELIABILITY_FIGURES": "the reliability harness",
}


def _closest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(set(known)), n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else "no known setting is close"


def check_settings(
    explicit: Mapping[str, str],
    environ: Mapping[str, str],
    sections: Mapping[str, Keys | None],
) -> None:
    """Refuse an explicit key or an ``EDI_BRIDGE_*`` variable no section reads.

    ``sections`` maps each section name to its declared keys (None: the section reads
    whatever it likes, as a private adapter that declares nothing). The error names the
    key or variable and the closest known one, so a typo (``diadoc.pasword``, or the
    same in a variable's name) is caught where it is made.
    """
    for key in explicit:
        matching = [s for s in sections if key.startswith(s + ".")]
        if any(_accepts(sections[s], key[len(s) + 1 :]) for s in matching):
            continue
        known = [k for k, _ in _known(sections)]
        raise ConfigurationError(f"unknown setting {key!r}: {_closest(key, known)}")
    for var in environ:
        if not var.startswith(ENV_PREFIX) or var in OTHER_VARIABLES:
            continue
        matching = [s for s in sections if var.startswith(env_name(s) + "_")]
        if any(_accepts(sections[s], var[len(env_name(s)) + 1 :].lower()) for s in matching):
            continue
        known = [env_name(k) for k, _ in _known(sections)]
        raise ConfigurationError(
            f"unknown environment variable {var}: {_closest(var, known)} "
            "(unset it, or fix its name)"
        )


def _accepts(keys: Keys | None, short: str) -> bool:
    return keys is None or keys.allows(short)


def _known(sections: Mapping[str, Keys | None]) -> Iterator[tuple[str, Keys]]:
    for name, keys in sections.items():
        if keys is not None:
            for key in keys.names:
                yield f"{name}.{key.rstrip('*')}", keys


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
    "CORE_SECTIONS",
    "DEADLINES",
    "ENV_PREFIX",
    "MCHD",
    "ORGANISATION",
    "OTHER_VARIABLES",
    "PAPER",
    "POWER_OF_ATTORNEY",
    "REQUIRED_POWERS",
    "SIGNING",
    "SMTP",
    "Keys",
    "Values",
    "check_keys",
    "check_settings",
    "declared_section",
    "env_name",
    "flag",
    "load_env_file",
    "read_env_file",
    "section",
]
