"""``revoke`` (ask to annul a signed document) and ``revocation accept|reject`` (answer the
counterparty's request). Each prints what the operator took, or fails with one line and
exit code 1, having recorded nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from ..models import Exchange
from .common import Obj, handle_errors, pass_obj


def _show(before: Exchange, after: Exchange, as_json: bool, done: str, again: str) -> None:
    """One line (or JSON); says so when nothing was sent because it was done before."""
    repeated = before.status == after.status and len(before.history) == len(after.history)
    if as_json:
        data: dict[str, Any] = {
            "id": after.id,
            "status": after.status,
            "reason": after.reason,
            "revocation": after.revocation,
            "sent": not repeated,
        }
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(f"{after.id} {after.status}: {again if repeated else done}")


def _run(
    obj: Obj,
    exchange_id: str,
    as_json: bool,
    act: Callable[[Any], Exchange],
    done: str,
    again: str,
) -> None:
    with obj.bridge() as bridge:
        before = bridge.status(exchange_id)
        after = act(bridge)
    _show(before, after, as_json, done, again)


_REASON = click.option("--reason", required=True, help="Why (the counterparty reads it).")
_JSON = click.option(
    "--json", "as_json", is_flag=True, help="Print {id, status, reason, revocation, sent}."
)


@click.command()
@click.argument("exchange_id")
@_REASON
@_JSON
@pass_obj
@handle_errors
def revoke(obj: Obj, exchange_id: str, reason: str, as_json: bool) -> None:
    """Ask the counterparty to annul a signed document (revocation_requested)."""
    _run(
        obj,
        exchange_id,
        as_json,
        lambda bridge: bridge.revoke(exchange_id, reason=reason),
        "revocation requested; the counterparty accepts or rejects it",
        "already requested; nothing sent again",
    )


@click.group()
def revocation() -> None:
    """Answer the counterparty's request to annul a signed document."""


@revocation.command()
@click.argument("exchange_id")
@_JSON
@pass_obj
@handle_errors
def accept(obj: Obj, exchange_id: str, as_json: bool) -> None:
    """Accept the counterparty's revocation request: the document is revoked."""
    _run(
        obj,
        exchange_id,
        as_json,
        lambda bridge: bridge.accept_revocation(exchange_id),
        "revocation accepted; the document is annulled",
        "already accepted; nothing sent again",
    )


@revocation.command()
@click.argument("exchange_id")
@_REASON
@_JSON
@pass_obj
@handle_errors
def reject(obj: Obj, exchange_id: str, reason: str, as_json: bool) -> None:
    """Refuse the counterparty's revocation request: the document stays signed."""
    _run(
        obj,
        exchange_id,
        as_json,
        lambda bridge: bridge.reject_revocation(exchange_id, reason=reason),
        "revocation rejected; the document stays signed",
        "already rejected; nothing sent again",
    )


__all__ = ["revocation", "revoke"]
