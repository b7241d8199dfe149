"""``edi-bridge demo``: the main job on the embedded default, nothing configured."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shlex
from pathlib import Path

import click

from ..models import Document, DocumentKind, ExchangeStatus
from ..testing.samples import sample_counterparty_data, sample_pdf
from . import outcome
from .common import Obj, fail, handle_errors, pass_obj
from .dberrors import where
from .render import print_exchange

MAX_POLLS = 10


@click.command()
@click.option("--scenario", default="sign", show_default=True, help="How the client behaves.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as one JSON object.")
@pass_obj
@handle_errors
def demo(obj: Obj, scenario: str, as_json: bool) -> None:
    """Send a sample contract through the mock and poll until the client answers.

    Writes the sample requisites and contract next to the database, so the
    same files can be sent again with ``edi-bridge send``.
    """
    from ..models import parse_counterparty

    run = dt.datetime.now().strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
    data = sample_counterparty_data("demo")
    counterparty = parse_counterparty(data)
    samples = Path("edi-bridge-demo")
    samples.mkdir(exist_ok=True)
    (samples / "counterparty.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    pdf = samples / f"contract-DEMO-{run}.pdf"
    pdf.write_bytes(sample_pdf(f"Contract DEMO-{run}"))
    document = Document.from_path(
        pdf, kind=DocumentKind.CONTRACT, number=f"DEMO-{run}", date=dt.date.today()
    )
    say = (lambda _text="": None) if as_json else click.echo
    say(f"counterparty  {counterparty.name}, INN {counterparty.inn}")
    say(f"contract      {document.file_name} ({document.size} bytes)")
    with obj.bridge() as bridge:
        exchange = bridge.send(
            counterparty,
            document,
            idempotency_key=f"demo-{run}",
            provider="mock",
            scenario=scenario,
        )
        say(f"sent          {exchange.id} via mock ({exchange.status})")
        for _ in range(MAX_POLLS):
            if exchange.is_terminal or exchange.status == ExchangeStatus.SIGNED:
                break
            for event in bridge.poll(["mock"]):
                if event.exchange_id == exchange.id:
                    say(f"polled        {event.kind}")
            exchange = bridge.status(exchange.id)
        tries = exchange.attempts
    db = _db_option(obj)
    hints = [
        f"edi-bridge{db} status {exchange.id} --json",
        f"edi-bridge{db} fetch {exchange.id} --out ./{exchange.id}",
    ]
    if as_json:
        data = {**outcome.as_json(exchange), "samples": str(samples), "next": hints}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo()
        print_exchange(exchange, attempts=tries)
        click.echo()
        click.echo(f"next: {hints[0]}")
        click.echo(f"      {hints[1]}")
    if exchange.status != ExchangeStatus.SIGNED and scenario == "sign":
        fail(f"the contract did not get signed: {exchange.status}")


def _db_option(obj: Obj) -> str:
    """`` --db X`` when the database is not the one a plain command would open."""
    if not obj.db or obj.db == os.environ.get("EDI_BRIDGE_DB"):
        return ""
    shown = where(obj.db) if "://" in obj.db else obj.db  # a URL's password stays hidden
    return f" --db {shlex.quote(shown)}"


__all__ = ["demo"]
