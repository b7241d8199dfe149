"""``accept`` and ``reverify``: a person settles a counterparty signature the check held."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import click

from .common import Obj, handle_errors, pass_obj
from .failure import EXIT_FAILED, fail


@click.command()
@click.argument("exchange_id")
@click.option("--reason", required=True, help="Why the held signature is accepted (kept).")
@click.option("--by", "who", default=None, help="Who accepts it (default: the login name).")
@pass_obj
@handle_errors
def accept(obj: Obj, exchange_id: str, reason: str, who: str | None) -> None:
    """Accept a signature a check held: signed, with who and why."""
    from ..workflow import manual

    with obj.bridge() as bridge:
        exchange = manual.accept(
            bridge.store,
            bridge.writer,
            bridge.outbox,
            exchange_id,
            who or getpass.getuser(),
            reason,
        )
    click.echo(f"{exchange.id} {exchange.status}: {exchange.history[-1].cause}")


@click.command()
@click.argument("exchange_id")
@click.option(
    "--trust-store",
    type=click.Path(exists=True, path_type=Path),
    envvar="EDI_BRIDGE_SIGNING_TRUST_STORE",
    help="Directory or PEM bundle of trusted CA certificates (env EDI_BRIDGE_SIGNING_TRUST_STORE).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
@pass_obj
@handle_errors
def reverify(obj: Obj, exchange_id: str, trust_store: Path | None, as_json: bool) -> None:
    """Check a held counterparty signature again; signed when it now passes."""
    from ..workflow import manual
    from ..workflow.checking import default_checker

    with obj.bridge() as bridge:
        # The МЧД and the operator's status kept with the signature are checked again.
        check = default_checker(bridge.store, trust_store)
        exchange, verdict = manual.reverify(
            bridge.store, bridge.writer, bridge.outbox, exchange_id, check
        )
    if as_json:
        click.echo(json.dumps({"id": exchange.id, "status": exchange.status, "verdict": verdict}))
    else:
        click.echo(f"{exchange.id} {exchange.status}: {verdict.get('status')}")
    if not verdict.get("ok", False):
        fail(
            f"{exchange_id}: the signature still does not pass ({verdict.get('status')})",
            EXIT_FAILED,
        )
