"""``edi-bridge demo``: the main job on the embedded default, nothing configured."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path

import click

from ..models import Document, DocumentKind, ExchangeStatus
from ..testing.samples import sample_counterparty_data, sample_pdf
from .common import Obj, handle_errors, pass_obj
from .render import print_exchange

MAX_POLLS = 10


@click.command()
@click.option("--scenario", default="sign", show_default=True, help="How the client behaves.")
@pass_obj
@handle_errors
def demo(obj: Obj, scenario: str) -> None:
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
    click.echo(f"counterparty  {counterparty.name}, INN {counterparty.inn}")
    click.echo(f"contract      {document.file_name} ({document.size} bytes)")
    with obj.bridge() as bridge:
        exchange = bridge.send(
            counterparty,
            document,
            idempotency_key=f"demo-{run}",
            provider="mock",
            scenario=scenario,
        )
        click.echo(f"sent          {exchange.id} via mock ({exchange.status})")
        for _ in range(MAX_POLLS):
            if exchange.is_terminal or exchange.status == ExchangeStatus.SIGNED:
                break
            for event in bridge.poll(["mock"]):
                if event.exchange_id == exchange.id:
                    click.echo(f"polled        {event.kind}")
            exchange = bridge.status(exchange.id)
        click.echo()
        print_exchange(exchange)
    click.echo()
    click.echo(f"next: edi-bridge status {exchange.id} --json")
    click.echo(f"      edi-bridge fetch {exchange.id} --out ./{exchange.id}")
    if exchange.status != ExchangeStatus.SIGNED and scenario == "sign":
        raise click.ClickException(f"the contract did not get signed: {exchange.status}")


__all__ = ["demo"]
