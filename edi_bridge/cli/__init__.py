"""The ``edi-bridge`` command line.

Every command exits 0 on success; on failure it prints one line naming the
problem to stderr and exits non-zero (1: the library refused or a provider
failed; 2: bad usage). Machine-readable output (``--json``) goes to stdout.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import click

from ..fakes.scenario import SCENARIO_HELP
from ..models import Document, DocumentKind, Exchange, load_counterparty
from .common import Obj, handle_errors, pass_obj
from .render import print_changes, print_exchange, print_exchanges


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="EDI_BRIDGE_DB",
    default=None,
    metavar="PATH|URL",
    help="Database file or URL (default ./edi-bridge.db; env EDI_BRIDGE_DB).",
)
@click.option("-v", "--verbose", count=True, help="Log more (-vv: debug).")
@click.version_option(package_name="edi-bridge")
@click.pass_context
def main(ctx: click.Context, db: str | None, verbose: int) -> None:
    """Send contracts for signature through EDI operators and track them."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if verbose == 0:
        # The throwaway-certificate warning is expected on the mock.
        logging.getLogger("edi_bridge").setLevel(logging.ERROR)
    ctx.obj = Obj(db)


@main.command()
@click.option(
    "--counterparty",
    "counterparty_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Counterparty requisites (JSON).",
)
@click.option(
    "--document",
    "document_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to send.",
)
@click.option(
    "--kind",
    type=click.Choice([k.value for k in DocumentKind]),
    default=DocumentKind.CONTRACT.value,
    show_default=True,
)
@click.option("--number", help="Document number (default: the file name without extension).")
@click.option("--date", "date_", metavar="YYYY-MM-DD", help="Document date (default: today).")
@click.option("--price", help="Contract price, when the operator should show it.")
@click.option("--provider", help="Provider name (default: the counterparty's EDI route).")
@click.option("--idempotency-key", help="Same key again returns the same exchange.")
@click.option("--mock-scenario", help="How the mock counterparty behaves. " + SCENARIO_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print {id, status} as JSON.")
@pass_obj
@handle_errors
def send(
    obj: Obj,
    counterparty_path: Path,
    document_path: Path,
    kind: str,
    number: str | None,
    date_: str | None,
    price: str | None,
    provider: str | None,
    idempotency_key: str | None,
    mock_scenario: str | None,
    as_json: bool,
) -> None:
    """Send a document to a counterparty for signature; prints the exchange id."""
    import datetime as dt

    counterparty = load_counterparty(counterparty_path)
    document = Document.from_path(
        document_path,
        kind=kind,
        number=number or document_path.stem,
        date=date_ or dt.date.today().isoformat(),
        price=price,
    )
    with obj.bridge() as bridge:
        exchange = bridge.send(
            counterparty,
            document,
            idempotency_key=idempotency_key,
            provider=provider,
            scenario=mock_scenario,
        )
    if as_json:
        click.echo(json.dumps({"id": exchange.id, "status": exchange.status}))
    else:
        click.echo(exchange.id)


@main.command()
@click.option("--once", is_flag=True, help="One round (the default when not --watch).")
@click.option("--watch", is_flag=True, help="Keep polling until interrupted.")
@click.option("--interval", type=float, default=30.0, show_default=True, help="Seconds (--watch).")
@click.option("--provider", "providers", multiple=True, help="Only these providers.")
@click.option("--json", "as_json", is_flag=True, help="Print changes as JSON lines.")
@pass_obj
@handle_errors
def poll(
    obj: Obj,
    once: bool,
    watch: bool,
    interval: float,
    providers: tuple[str, ...],
    as_json: bool,
) -> None:
    """Send what is queued, apply pending provider events, print what changed."""
    import time

    with obj.bridge() as bridge:
        while True:
            bridge.dispatch_queued()
            changes = bridge.poll(list(providers) or None)
            print_changes(changes, as_json)
            if once or not watch:
                return
            time.sleep(interval)


@main.command()
@click.argument("exchange_id")
@click.option("--json", "as_json", is_flag=True, help="Print the exchange as JSON.")
@pass_obj
@handle_errors
def status(obj: Obj, exchange_id: str, as_json: bool) -> None:
    """Show an exchange: status, reason, history, signatures."""
    with obj.bridge() as bridge:
        exchange = bridge.status(exchange_id)
    if as_json:
        click.echo(json.dumps(exchange.as_summary(), ensure_ascii=False, indent=2))
    else:
        print_exchange(exchange)


@main.command("list")
@click.option("--status", "status_", help="Only exchanges in this status.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_obj
@handle_errors
def list_(obj: Obj, status_: str | None, as_json: bool) -> None:
    """List exchanges, newest first."""
    with obj.bridge() as bridge:
        exchanges = bridge.list(status=status_)
    if as_json:
        click.echo(json.dumps([_row(e) for e in exchanges], ensure_ascii=False, indent=2))
    else:
        print_exchanges(exchanges)


def _row(exchange: Exchange) -> dict[str, Any]:
    summary = exchange.as_summary()
    summary.pop("history")
    summary.pop("signatures")
    return summary


@main.command()
@click.argument("exchange_id")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write into (created if missing).",
)
@pass_obj
@handle_errors
def fetch(obj: Obj, exchange_id: str, out: Path) -> None:
    """Write the document, each signature and manifest.json (with SHA-256) to --out."""
    with obj.bridge() as bridge:
        manifest = bridge.fetch(exchange_id, out)
    files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    for entry in files:
        click.echo(f"{entry['sha256']}  {entry['name']}")
    click.echo(f"{manifest}")


@main.command()
@click.argument("exchange_id")
@click.option(
    "--force",
    is_flag=True,
    help="Send a failed, rejected or revoked exchange again as a new message linked to it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print {id, status, previous_id}.")
@pass_obj
@handle_errors
def resend(obj: Obj, exchange_id: str, force: bool, as_json: bool) -> None:
    """Send an exchange again (refused for signed or in-flight ones)."""
    with obj.bridge() as bridge:
        exchange = bridge.resend(exchange_id, force=force)
    if as_json:
        click.echo(
            json.dumps(
                {"id": exchange.id, "status": exchange.status, "previous_id": exchange.previous_id}
            )
        )
    else:
        click.echo(exchange.id)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_obj
@handle_errors
def providers(obj: Obj, as_json: bool) -> None:
    """List installed provider adapters and their capabilities."""
    from ..registry import default_registry
    from ..workflow import providers_info

    info = providers_info(default_registry)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    for item in info:
        if "error" in item:
            click.echo(f"{item['name']:<12} unavailable: {item['error']}")
        else:
            caps = ", ".join(item["capabilities"])
            click.echo(f"{item['name']:<12} operator={item['operator'] or '-':<8} {caps}")


from .closing import closing, upd  # noqa: E402
from .contract import contract  # noqa: E402
from .demo import demo  # noqa: E402
from .fake import mock  # noqa: E402
from .intake import intake  # noqa: E402
from .mchd import mchd  # noqa: E402
from .paper import paper  # noqa: E402
from .verify import verify  # noqa: E402
from .worker import worker  # noqa: E402

main.add_command(closing)
main.add_command(upd)
main.add_command(contract)
main.add_command(demo)
main.add_command(intake)
main.add_command(mock)
main.add_command(mchd)
main.add_command(paper)
main.add_command(verify)
main.add_command(worker)

__all__ = ["main"]
