"""``edi-bridge doctor``: is everything configured, reachable and accepting our credentials?

For the database, the signer, and each adapter and carrier that has settings
(``EDI_BRIDGE_<NAME>_*``): settings present and valid, the operator reachable, our
credentials accepted. Never prints a secret. Exit 1 when any check fails.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

import click

from ..errors import (
    AuthError,
    EdiBridgeError,
    Forbidden,
    PaymentRequired,
    ProviderError,
    TransientError,
    UnsupportedFeature,
)
from .common import EXIT_FAILED, Obj, handle_errors, one_line, pass_obj
from .dberrors import database_message, hide_passwords, where

if TYPE_CHECKING:
    from ..workflow import Bridge

OK, FAILED, WARNING, SKIPPED = "ok", "failed", "warning", "skipped"
LOCAL_PROVIDERS = {"mock"}  # lives in our own database: nothing to reach


@dataclasses.dataclass
class Check:
    name: str
    kind: str  # database, signer, provider, carrier
    result: str
    detail: str


def _text(exc: BaseException) -> str:
    return str(hide_passwords(one_line(str(exc), type(exc).__name__), None))


def check_provider(bridge: Bridge, name: str) -> Check:
    from .. import config

    if name in LOCAL_PROVIDERS:
        return Check(name, "provider", SKIPPED, "local (kept in the database): nothing to reach")
    if not config.section(name):
        prefix = config.env_name(name)
        return Check(name, "provider", SKIPPED, f"not configured (no {prefix}_* settings)")
    try:
        adapter = bridge.provider(name)
    except EdiBridgeError as exc:
        return Check(name, "provider", FAILED, f"settings: {_text(exc)}")
    return _ping(name, "provider", getattr(adapter, "ping", None))


def check_carrier(bridge: Bridge, name: str) -> Check:
    from .. import config

    if not config.section(name):
        prefix = config.env_name(name)
        return Check(name, "carrier", SKIPPED, f"not configured (no {prefix}_* settings)")
    try:
        carrier = bridge.paper.carrier(name)
    except EdiBridgeError as exc:
        return Check(name, "carrier", FAILED, f"settings: {_text(exc)}")
    return _ping(name, "carrier", getattr(carrier, "ping", None))


def _ping(name: str, kind: str, ping: Any) -> Check:
    unchecked = "settings present; reachability not checked (the adapter has no check)"
    if ping is None:
        return Check(name, kind, WARNING, unchecked)
    try:
        ping()
    except UnsupportedFeature:
        return Check(name, kind, WARNING, unchecked)
    except (AuthError, Forbidden) as exc:
        return Check(
            name, kind, FAILED, f"reachable, but our credentials were refused: {_text(exc)}"
        )
    except PaymentRequired as exc:
        return Check(name, kind, FAILED, f"reachable, but no API subscription: {_text(exc)}")
    except TransientError as exc:
        return Check(name, kind, FAILED, f"unreachable: {_text(exc)}")
    except ProviderError as exc:
        return Check(name, kind, FAILED, f"answered with an error: {_text(exc)}")
    except EdiBridgeError as exc:
        return Check(name, kind, FAILED, _text(exc))
    return Check(name, kind, OK, "settings present; reachable; credentials accepted")


def check_signer() -> Check:
    from ..signing import signer_from_settings

    try:
        signer = signer_from_settings()
    except EdiBridgeError as exc:
        return Check("signer", "signer", FAILED, f"signing settings: {_text(exc)}")
    if signer is None:
        return Check(
            "signer",
            "signer",
            WARNING,
            "no signing.* settings: a throwaway test certificate signs (not for real operators)",
        )
    return Check("signer", "signer", OK, f"configured ({type(signer).__name__})")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the checks as a JSON array.")
@pass_obj
@handle_errors
def doctor(obj: Obj, as_json: bool) -> None:
    """Check each configured adapter and carrier: settings, reachability, credentials."""
    from ..registry import default_registry

    checks: list[Check] = []
    try:
        with obj.bridge() as bridge:
            checks.append(Check("database", "database", OK, where(obj.db)))
            checks.append(check_signer())
            checks.extend(check_provider(bridge, n) for n in default_registry.names())
            checks.extend(check_carrier(bridge, n) for n in bridge.paper.carriers.names())
    except EdiBridgeError as exc:
        checks.append(Check("database", "database", FAILED, _text(exc)))
    except Exception as exc:
        message = database_message(exc, obj.db)
        if message is None:
            raise
        checks.append(Check("database", "database", FAILED, message))
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(c) for c in checks], ensure_ascii=False))
    else:
        from .render import table

        rows = [[c.name, c.kind, c.result, c.detail] for c in checks]
        table(["NAME", "KIND", "RESULT", "DETAIL"], rows, status_column=2)
    if any(c.result == FAILED for c in checks):
        raise SystemExit(EXIT_FAILED)


__all__ = ["Check", "check_carrier", "check_provider", "check_signer", "doctor"]
