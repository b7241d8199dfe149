"""Human-readable output of the CLI (``--json`` output is built elsewhere)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from ..models import Event, Exchange

_STATUS_COLOURS = {
    "signed": "green",
    "rejected": "red",
    "revoked": "red",
    "failed": "red",
    "queued": "yellow",
}


def _status(status: str) -> str:
    return click.style(status, fg=_STATUS_COLOURS.get(status), bold=True)


def print_exchange(exchange: Exchange) -> None:
    doc = exchange.document
    cp = exchange.counterparty
    click.echo(f"{exchange.id}  {_status(exchange.status)}")
    click.echo(f"  channel      {exchange.channel.value} via {exchange.provider}")
    click.echo(f"  counterparty {cp.name} (INN {cp.inn}{f', KPP {cp.kpp}' if cp.kpp else ''})")
    click.echo(f"  document     {doc.kind} No. {doc.number} of {doc.date} ({doc.file_name})")
    if exchange.reason:
        click.echo(f"  reason       {exchange.reason}")
    if exchange.needs_attention:
        click.echo(f"  attention    {exchange.last_error or 'needs attention'}")
    if exchange.previous_id:
        click.echo(f"  resends      {exchange.previous_id}")
    click.echo("  timeline")
    for entry in exchange.history:
        at = entry.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"    {at}  {entry.status:<10} {entry.cause}")
    for sig in exchange.signatures:
        verdict = ""
        if sig.verdict is not None:
            verdict = f"  [{sig.verdict.get('status', sig.verdict.get('ok'))}]"
        click.echo(
            f"  signature    {sig.role:<12} {sig.file_name}  sha256 {sig.sha256[:16]}…{verdict}"
        )


def print_exchanges(exchanges: Sequence[Exchange]) -> None:
    if not exchanges:
        click.echo("no exchanges")
        return
    for e in exchanges:
        click.echo(
            f"{e.id}  {e.status:<10} {e.provider:<8} {e.document.kind:<10} "
            f"{e.document.number:<14} {e.counterparty.inn:<12} {e.counterparty.name}"
        )


def print_changes(changes: Sequence[Event], as_json: bool) -> None:
    for event in changes:
        if as_json:
            click.echo(json.dumps(event.model_dump(mode="json"), ensure_ascii=False))
            continue
        reason = f": {event.reason}" if event.reason else ""
        click.echo(f"{event.exchange_id}  {event.kind}{reason}")
    if not changes and not as_json:
        click.echo("no changes")


__all__ = ["print_changes", "print_exchange", "print_exchanges"]
