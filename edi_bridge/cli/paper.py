"""``edi-bridge paper …``: the paper route by hand.

``send`` chooses paper by itself (or with ``--provider paper``); these
commands move a paper exchange on: print the pack, record the dispatch,
the scan and the originals, or a courier's progress. ``edi-bridge poll``
asks the carriers about dispatched shipments.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..files import read_bounded
from ..models import Exchange
from ..paper.desk import MANUAL_STATUSES
from ..paper.inputs import scan_format
from ..paper.steps import already_done, nothing_to_do
from .common import Obj, handle_errors

if TYPE_CHECKING:
    from ..workflow import Bridge


@contextmanager
def _bridge() -> Iterator[Bridge]:
    # The root group's options when there is one (the group also runs standalone).
    ctx = click.get_current_context()
    obj = ctx.find_object(Obj) or Obj(ctx.find_root().params.get("db"))
    with obj.bridge() as bridge:
        yield bridge


def _step(
    bridge: Bridge, exchange_id: str, target: str, do: Callable[[], Exchange], as_json: bool
) -> None:
    """Run one paper step and report it; a step done already is a no-op that says so."""
    before = bridge.paper.exchange(exchange_id).status
    exchange = do()
    _report(exchange, as_json, already=exchange.status == before and already_done(before, target))


def _report(exchange: Exchange, as_json: bool, *, already: bool = False) -> None:
    if already and not as_json:
        click.echo(nothing_to_do(exchange.id, exchange.status))
    elif as_json:
        click.echo(
            json.dumps(
                {
                    "id": exchange.id,
                    "status": exchange.status,
                    "provider_ref": exchange.provider_ref,
                    "needs_attention": exchange.needs_attention,
                    "last_error": exchange.last_error,
                    "nothing_to_do": already,
                },
                ensure_ascii=False,
            )
        )
    else:
        click.echo(f"{exchange.id} {exchange.status}")


_json_option = click.option("--json", "as_json", is_flag=True, help="Print {id, status} as JSON.")


@click.group()
def paper() -> None:
    """The paper route: print pack, dispatch, scan, originals."""


@paper.command("print")
@click.argument("exchange_id")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The PDF to write.",
)
@click.option("--json", "as_json", is_flag=True, help="Print {id, status, path} as JSON.")
@handle_errors
def print_(exchange_id: str, out: Path, as_json: bool) -> None:
    """Write the print pack: cover letter, address label, two copies."""
    with _bridge() as bridge:
        path = bridge.paper.print_pack(exchange_id, out)
        exchange = bridge.status(exchange_id)
    if as_json:
        data = {"id": exchange.id, "status": exchange.status, "path": str(path)}
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        click.echo(str(path))


@paper.command()
@click.argument("exchange_id")
@click.option("--carrier", required=True, help="russianpost, cdek, courier, …")
@click.option("--tracking", required=True, help="The tracking number (checked).")
@_json_option
@handle_errors
def dispatch(exchange_id: str, carrier: str, tracking: str, as_json: bool) -> None:
    """Record that the copies were posted with CARRIER under TRACKING."""
    with _bridge() as bridge:
        do = functools.partial(bridge.paper.dispatch, exchange_id, carrier, tracking)
        _step(bridge, exchange_id, "dispatched", do, as_json)


@paper.command("scan-received")
@click.argument("exchange_id")
@click.option(
    "--file",
    "file_",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The scan of the copy signed by the client.",
)
@_json_option
@handle_errors
def scan_received(exchange_id: str, file_: Path, as_json: bool) -> None:
    """Record the scan: the backend may activate the account temporarily."""
    content = read_bounded(file_, "--file", kind="scan")
    scan_format(content, "--file")  # before the database is even opened
    with _bridge() as bridge:
        do = functools.partial(bridge.paper.scan_received, exchange_id, content, file_.name)
        _step(bridge, exchange_id, "scan_received", do, as_json)


@paper.command("originals-received")
@click.argument("exchange_id")
@click.option(
    "--file",
    "file_",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A scan of the returned original, to keep (optional).",
)
@_json_option
@handle_errors
def originals_received(exchange_id: str, file_: Path | None, as_json: bool) -> None:
    """Record the signed original: the contract is concluded (signed)."""
    content = read_bounded(file_, "--file", kind="scan") if file_ else None
    if content is not None:
        scan_format(content, "--file")
    with _bridge() as bridge:
        do = functools.partial(
            bridge.paper.originals_received, exchange_id, content, file_.name if file_ else None
        )
        _step(bridge, exchange_id, "signed", do, as_json)


@paper.command()
@click.argument("exchange_id")
@click.argument("status", type=click.Choice([str(s) for s in MANUAL_STATUSES]))
@click.option("--note", help="Why, for the history.")
@_json_option
@handle_errors
def mark(exchange_id: str, status: str, note: str | None, as_json: bool) -> None:
    """Set a shipment's status by hand (a courier's delivery, a lost letter)."""
    with _bridge() as bridge:
        do = functools.partial(bridge.paper.mark, exchange_id, status, note)
        _step(bridge, exchange_id, status, do, as_json)


@paper.command()
@click.option("--carrier", "carriers", multiple=True, help="Only these carriers.")
@click.option("--json", "as_json", is_flag=True, help="Print {applied, overdue} as JSON.")
@handle_errors
def track(carriers: tuple[str, ...], as_json: bool) -> None:
    """Ask the carriers about dispatched shipments now (``poll`` does it too)."""
    with _bridge() as bridge:
        applied = bridge.paper.track(list(carriers) or None)
        overdue = bridge.paper.check_overdue()
    if as_json:
        click.echo(json.dumps({"applied": applied, "overdue": overdue}))
    else:
        click.echo(f"{applied} tracking records applied, {overdue} overdue originals")


__all__ = ["paper"]
