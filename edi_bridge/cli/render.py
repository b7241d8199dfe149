"""Human-readable output of the CLI (``--json`` output is built elsewhere).

Tables have a header and aligned columns; colour is added by ``click.style`` and
``click.echo`` strips it when the output is not a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..models import Event, Exchange

_STATUS_COLOURS = {
    "signed": "green",
    "rejected": "red",
    "revoked": "red",
    "failed": "red",
    "lost": "red",
    "returned": "red",
    "queued": "yellow",
    "prepared": "yellow",
    "revocation_requested": "yellow",
    "revocation_rejected": "green",
    "ok": "green",
    "warning": "yellow",
}


def _status(status: str) -> str:
    return click.style(status, fg=_STATUS_COLOURS.get(status), bold=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], status_column: int = -1) -> None:
    """Print rows under a header, columns padded to the widest cell (the last one is not)."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    last = len(headers) - 1

    def cells(row: Sequence[str], header: bool) -> str:
        out = []
        for i, cell in enumerate(row):
            padded = cell if i == last else cell.ljust(widths[i])
            if header:
                padded = click.style(padded, bold=True)
            elif i == status_column:
                padded = padded.replace(cell, _status(cell), 1)
            out.append(padded)
        return "  ".join(out).rstrip()

    click.echo(cells(headers, header=True))
    for row in rows:
        click.echo(cells(row, header=False))


def print_exchange(exchange: Exchange, attempts: int | None = None) -> None:
    doc = exchange.document
    cp = exchange.counterparty
    click.echo(f"{exchange.id}  {_status(exchange.status)}")
    click.echo(f"  channel      {exchange.channel.value} via {exchange.provider}")
    click.echo(f"  counterparty {cp.name} (INN {cp.inn}{f', KPP {cp.kpp}' if cp.kpp else ''})")
    click.echo(f"  document     {doc.kind} No. {doc.number} of {doc.date} ({doc.file_name})")
    if attempts is not None:
        click.echo(f"  attempts     {attempts}")
    if exchange.reason:
        click.echo(f"  reason       {exchange.reason}")
    if exchange.revocation is not None:
        click.echo(f"  revocation   {_revocation(exchange.revocation)}")
    if exchange.last_error and exchange.last_error != exchange.reason:
        click.echo(f"  last error   {exchange.last_error}")
    if exchange.needs_attention:
        click.echo(f"  attention    {exchange.last_error or 'needs attention'}")
    if exchange.previous_id:
        click.echo(f"  resends      {exchange.previous_id}")
    click.echo("  timeline")
    for entry in exchange.history:
        at = entry.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"    {at}  {entry.status:<13} {entry.cause}")
    for sig in exchange.signatures:
        verdict = ""
        if sig.verdict is not None:
            verdict = f"  [{sig.verdict.get('status', sig.verdict.get('ok'))}]"
        click.echo(
            f"  signature    {sig.role:<12} {sig.file_name}  sha256 {sig.sha256[:16]}…{verdict}"
        )
        if sig.role == "counterparty":
            click.echo(f"    authority  {_authority(sig.verdict)}")
    title = exchange.buyer_title
    if title is not None:
        click.echo(f"  buyer title  {_title(title)}")


def _title(title: Mapping[str, Any]) -> str:
    """One line of what the buyer's title says."""
    if not title.get("readable", True):
        return f"kept, not readable: {title.get('error')}"
    text = f"{title.get('result_text')}, accepted {title.get('accepted_on') or '(no date)'}"
    text += f", signed by {title.get('signer_name')} ({title.get('signer_position')})"
    disagreements = title.get("disagreements") or {}
    if disagreements.get("document_name") or disagreements.get("document_number"):
        text += (
            f"; disagreements: {disagreements.get('document_name') or ''} "
            f"{disagreements.get('document_number') or ''}".rstrip()
        )
    return text


def _revocation(info: Mapping[str, Any]) -> str:
    """Who asked to annul and why, and who refused and why (``edi-bridge status``)."""
    text = f"requested by {info['requested_by']}: {info.get('reason') or 'no reason given'}"
    if info.get("rejected_by"):
        text += f"; rejected by {info['rejected_by']}: {info.get('rejection_reason')}"
    elif info["requested_by"] == "counterparty":
        text += " (answer: edi-bridge revocation accept|reject ID)"
    return text


def _authority(verdict: Mapping[str, Any] | None) -> str:
    """Whose authority a counterparty signature carries, as the check recorded it."""
    if verdict is None:
        return "not checked (no signature check was configured)"
    if verdict.get("status") == "not_checked":
        return f"not checked: {verdict.get('reason') or 'the check was off'}"
    authority = verdict.get("authority") or {}
    if authority.get("kind") == "power_of_attorney":
        text = f"МЧД {authority.get('number')}"
        operator = authority.get("operator_status") or {}
        if operator.get("status"):
            text += f" (operator: {operator['status']})"
    elif authority.get("kind") == "certificate":
        text = "certificate"
    else:
        text = "unknown"
    if not verdict.get("ok", False) and verdict.get("reason"):
        text += f"; not accepted: {verdict['reason']}"
    return text


def print_exchanges(exchanges: Sequence[Exchange]) -> None:
    if not exchanges:
        click.echo("no exchanges")
        return
    rows = [
        [
            e.id,
            e.status,
            e.provider,
            e.document.kind,
            e.document.number,
            e.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
            e.counterparty.inn,
            e.counterparty.name + ("  (needs attention)" if e.needs_attention else ""),
        ]
        for e in exchanges
    ]
    headers = ["ID", "STATUS", "PROVIDER", "KIND", "NUMBER", "CREATED", "INN", "COUNTERPARTY"]
    table(headers, rows, status_column=1)


def print_events(events: Sequence[Event], as_json: bool, header: bool = False) -> None:
    if header and events and not as_json:
        click.secho(f"{'SEQ':>6}  {'AT':<19}  {'EXCHANGE':<20}  EVENT  REASON", bold=True)
    for event in events:
        if as_json:
            click.echo(json.dumps(event.model_dump(mode="json"), ensure_ascii=False))
            continue
        at = event.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        why = f"  {event.reason}" if event.reason else ""
        exchange = (event.exchange_id or "-").ljust(20)
        click.echo(f"{event.seq:>6}  {at}  {exchange}  {_status(event.kind)}{why}")


__all__ = ["print_events", "print_exchange", "print_exchanges", "table"]
