"""``send``, ``poll``, ``status``, ``list``, ``fetch``, ``resend``, ``cancel``, ``providers``."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import click

from ..contracts.versions import Drafts
from ..errors import EdiBridgeError, ValidationError
from ..fakes.scenario import SCENARIO_HELP
from ..models import Document, DocumentKind, Event, Exchange, ExchangeStatus, load_counterparty
from ..safedir import printable
from . import outcome
from .common import EXIT_FAILED, EXIT_PARTIAL, Obj, handle_errors, one_line, pass_obj
from .dberrors import last_seq
from .render import print_exchange, print_exchanges

MIN_INTERVAL = 1.0  # --watch never polls faster than this: an operator is not a busy loop


def _report(obj: Obj, bridge: Any, exchanges: list[Exchange], as_json: bool) -> None:
    """Print each exchange's outcome and exit with the code that says how it went."""
    for exchange in exchanges:
        obj.done.append(outcome.line(exchange))
        if as_json:
            data = outcome.as_json(exchange)
            click.echo(json.dumps(data, ensure_ascii=False))
        else:
            click.echo(outcome.line(exchange))
    code = outcome.exit_code(exchanges)
    if code:
        raise SystemExit(code)


@click.command()
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
@click.option("--draft", help="Carry the agreed version of this contract draft (recorded).")
@click.option(
    "--deadline",
    callback=lambda ctx, param, value: _since(ctx, param, value),  # defined below
    metavar="DATE[TIME]",
    help="Signing deadline of this exchange (default: the deadlines.signing_days setting).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print {id, status, attempts, last_error, …}."
)
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
    draft: str | None,
    deadline: dt.datetime | None,
    as_json: bool,
) -> None:
    """Send a document for signature; prints the exchange id, its status and what is next."""
    counterparty = load_counterparty(counterparty_path)
    document = Document.from_path(
        document_path,
        kind=kind,
        number=number or document_path.stem,
        date=date_ or dt.date.today().isoformat(),
        price=price,
    )
    with obj.bridge() as bridge:
        drafts = Drafts(bridge.store)
        if draft and drafts.agreed(draft) is None:  # checked before anything goes out
            raise ValidationError("--draft", f"{draft!r} has no agreed version; contract agree")
        # A concurrent send with the same key gets the existing exchange from the library.
        exchange = bridge.send(
            counterparty,
            document,
            idempotency_key=idempotency_key,
            provider=provider,
            scenario=mock_scenario,
            deadline=deadline,
        )
        if draft:
            drafts.attach(exchange.id, draft)
        _report(obj, bridge, [exchange], as_json)


@click.command()
@click.option("--once", is_flag=True, help="One round (the default when not --watch).")
@click.option("--watch", is_flag=True, help="Keep polling until interrupted.")
@click.option(
    "--interval",
    type=click.FloatRange(min=MIN_INTERVAL),
    default=30.0,
    show_default=True,
    help=f"Seconds between rounds with --watch (at least {MIN_INTERVAL:g}).",
)
@click.option("--provider", "providers", multiple=True, help="Only these providers.")
@click.option("--json", "as_json", is_flag=True, help="Print each round as one JSON object.")
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
    with obj.bridge() as bridge:
        while True:
            code = _poll_round(obj, bridge, list(providers) or None, as_json)
            if once or not watch:
                if code:
                    raise SystemExit(code)
                return
            time.sleep(interval)


def _poll_round(obj: Obj, bridge: Any, providers: list[str] | None, as_json: bool) -> int:
    before = last_seq(bridge)
    dispatched: list[Exchange] = bridge.dispatch_queued()
    error = None
    try:
        bridge.poll(providers)
    except EdiBridgeError as exc:
        # The sends above are recorded; say which feed failed and go on.
        error = one_line(str(exc), type(exc).__name__)
    changes: list[Event] = bridge.events(after=before, limit=100_000)
    sent_now = {e.id for e in dispatched}
    news = [c for c in changes if not (c.exchange_id in sent_now and c.kind == "sent")]
    obj.done.extend(outcome.line(e) for e in dispatched)
    obj.done.extend(f"{c.exchange_id or '-'}  {c.kind}" for c in news)
    if as_json:
        data = {
            "dispatched": [outcome.as_json(e) for e in dispatched],
            "changes": [c.model_dump(mode="json") for c in changes],
            "error": error,
        }
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        for exchange in dispatched:
            click.echo(outcome.line(exchange))
        for change in news:
            why = f": {change.reason}" if change.reason else ""
            click.echo(f"{change.exchange_id or '-'}  {change.kind}{why}")
        if error:
            click.echo(f"edi-bridge: polling failed: {error}", err=True)
        elif not dispatched and not news:
            click.echo("no changes")
    code = outcome.exit_code(dispatched) if dispatched else 0
    if error:
        code = EXIT_PARTIAL if dispatched or news else EXIT_FAILED
    return code


@click.command()
@click.argument("exchange_id")
@click.option("--json", "as_json", is_flag=True, help="Print the exchange as JSON.")
@pass_obj
@handle_errors
def status(obj: Obj, exchange_id: str, as_json: bool) -> None:
    """Show an exchange: status, reason, history, signatures."""
    with obj.bridge() as bridge:
        exchange = bridge.status(exchange_id)
        tries = exchange.attempts
        deadline = bridge.deadlines.deadline(exchange_id)
        version = Drafts(bridge.store).for_exchange(exchange_id)
        receipts, receipts_error, flow, flow_error = _receipts_and_flow(bridge, exchange)
    if as_json:
        data = {
            **exchange.as_summary(),
            "pending_receipts": receipts,
            **({"pending_receipts_error": receipts_error} if receipts_error else {}),
            "document_flow": flow,
            **({"document_flow_error": flow_error} if flow_error else {}),
            "attempts": tries,
            "deadline": deadline.isoformat() if deadline else None,
            "contract_version": None
            if version is None
            else {"draft": version.draft, "version": version.version, "sha256": version.sha256},
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print_exchange(exchange, attempts=tries)
        if deadline is not None and exchange.status != ExchangeStatus.SIGNED:
            click.echo(f"signing deadline: {deadline.isoformat(timespec='minutes')}")
        if version is not None:
            click.echo(f"contract version: {version.draft} v{version.version} ({version.sha256})")
        if receipts_error:
            click.echo(f"receipts pending: unknown ({receipts_error})")
        elif receipts is not None:
            due = ", ".join(f"{r['answers']} {r['file_name']}".strip() for r in receipts)
            click.echo(f"receipts pending: {len(receipts)}" + (f" ({due})" if due else ""))
        if flow_error:
            click.echo(f"document flow: unknown ({flow_error})")
        elif flow is not None and flow["finished"]:
            click.echo("document flow: finished")
        elif flow is not None:
            what = "; ".join(f"{w['what']} ({w['party']})" for w in flow["waiting_for"])
            click.echo(f"document flow: waiting for: {what or 'the operator'}")


def _receipts_and_flow(
    bridge: Any, exchange: Exchange
) -> tuple[list[Any] | None, str | None, dict[str, Any] | None, str | None]:
    """Pending receipts and the document flow, each with its error: one request to the
    operator for a signed exchange whose flow is open (its answer carries both)."""
    from ..workflow import docflow

    edi = exchange.channel.value == "edi" and exchange.provider_ref
    try:
        state = docflow.live(bridge.provider(exchange.provider) if edi else None, exchange)
    except EdiBridgeError as exc:
        error = one_line(str(exc), type(exc).__name__)
        return None, error, None, error
    if state is not None:
        receipts = [dict(r) for r in state.get("pending_receipts") or []]
        return receipts, None, docflow.view(None, exchange, state), None
    # Nothing to ask about the flow: not signed (None), or finished (recorded, or at the
    # signature for an adapter that does not follow flows).
    return (*_pending_receipts(bridge, exchange), docflow.view(None, exchange), None)


def _pending_receipts(bridge: Any, exchange: Exchange) -> tuple[list[Any] | None, str | None]:
    """The receipts the operator still expects from us on this document, when its adapter
    can tell (asked live: Diadoc); (None, None) for an adapter that cannot."""
    if exchange.channel.value != "edi" or not exchange.provider_ref:
        return None, None
    try:
        ask = getattr(bridge.provider(exchange.provider), "pending_receipts", None)
        return (list(ask(exchange.provider_ref)), None) if ask else (None, None)
    except EdiBridgeError as exc:
        return None, one_line(str(exc), type(exc).__name__)


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+TZ]") from None
    return when if when.tzinfo else when.astimezone()  # a bare date/time is local time


@click.command("list")
@click.option(
    "--status",
    "status_",
    type=click.Choice([s.value for s in ExchangeStatus]),
    help="Only exchanges in this status.",
)
@click.option("--provider", help="Only exchanges through this provider (mock, diadoc, paper…).")
@click.option("--inn", help="Only exchanges with the counterparty of this INN.")
@click.option(
    "--since",
    callback=_since,
    metavar="DATE[TIME]",
    help="Only exchanges created at or after (YYYY-MM-DD, local time unless a zone is given).",
)
@click.option("--needs-attention", is_flag=True, help="Only exchanges that need attention.")
@click.option(
    "--overdue",
    is_flag=True,
    help="Only unsigned exchanges past their signing deadline, or paper originals overdue.",
)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (the newest).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_obj
@handle_errors
def list_(
    obj: Obj,
    status_: str | None,
    provider: str | None,
    inn: str | None,
    since: dt.datetime | None,
    needs_attention: bool,
    overdue: bool,
    limit: int | None,
    as_json: bool,
) -> None:
    """List exchanges, newest first."""
    with obj.bridge() as bridge:
        found = bridge.list(status=status_)
        late = {d.exchange_id: d for d in bridge.deadlines.overdue()} if overdue else {}
    # Filtered here over the listing until the store offers these as a query.
    rows = [
        e
        for e in found
        if (provider is None or e.provider == provider)
        and (inn is None or e.counterparty.inn == inn)
        and (since is None or e.created_at >= since)
        and (not needs_attention or e.needs_attention)
        and (not overdue or e.id in late)
    ]
    rows.sort(key=lambda e: e.created_at, reverse=True)
    rows = rows[:limit] if limit else rows
    if as_json:
        data = [_row(e) for e in rows]
        for item in data:
            if item["id"] in late:
                item["overdue"] = {
                    "kind": late[item["id"]].kind,
                    "since": late[item["id"]].due.isoformat(),
                }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print_exchanges(rows)


def _row(exchange: Exchange) -> dict[str, Any]:
    summary = exchange.as_summary()
    summary.pop("history")
    summary.pop("signatures")
    return summary


@click.command()
@click.argument("exchange_id")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write into (created if missing).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@pass_obj
@handle_errors
def fetch(obj: Obj, exchange_id: str, out: Path, as_json: bool) -> None:
    """Write the document, each signature and manifest.json (with SHA-256) to --out.

    Each signature is verified at signing time; its verdict is in the manifest."""
    with obj.bridge() as bridge:
        manifest = bridge.fetch(exchange_id, out)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    if as_json:
        click.echo(json.dumps({**data, "manifest": str(manifest)}, ensure_ascii=False, indent=2))
        return
    for entry in data["files"]:
        verdict = entry.get("verdict")
        note = f"  (verified at signing time: {verdict['status']})" if verdict else ""
        click.echo(f"{entry['sha256']}  {printable(entry['name'])}{note}")
    click.echo(f"{manifest}")


@click.command()
@click.argument("exchange_id")
@click.option(
    "--force",
    is_flag=True,
    help="Send a failed, rejected, revoked or expired exchange again as a new message linked "
    "to it (an expired one is cancelled first).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print {id, status, attempts, last_error, …}."
)
@pass_obj
@handle_errors
def resend(obj: Obj, exchange_id: str, force: bool, as_json: bool) -> None:
    """Send an exchange again (refused for signed or in-flight ones)."""
    with obj.bridge() as bridge:
        exchange = bridge.resend(exchange_id, force=force)
        _report(obj, bridge, [exchange], as_json)


@click.command()
@click.argument("exchange_id")
@click.option("--json", "as_json", is_flag=True, help="Print the exchange as JSON.")
@pass_obj
@handle_errors
def cancel(obj: Obj, exchange_id: str, as_json: bool) -> None:
    """Cancel a queued/prepared exchange, or close an expired EDI one (revoked)."""
    from ..closing.cancelled import reflect_cancel

    with obj.bridge() as bridge:
        exchange = bridge.cancel(exchange_id)
        closing_key = reflect_cancel(bridge, exchange)  # a closing run's: its ledger row too
    if as_json:
        click.echo(json.dumps({**_row(exchange), "closing": closing_key}, ensure_ascii=False))
    else:
        click.echo(f"{exchange.id} {exchange.status}: {exchange.reason}")
        if closing_key:
            click.echo(f"closing delivery {closing_key}: cancelled (closing send leaves it so)")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@handle_errors
def providers(as_json: bool) -> None:
    """List installed provider adapters and their capabilities."""
    from ..registry import default_registry
    from ..workflow import providers_info
    from .render import table

    info = providers_info(default_registry)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    rows = [
        [item["name"], "-", f"unavailable: {item['error']}"]
        if "error" in item
        else [item["name"], item["operator"] or "-", ", ".join(item["capabilities"])]
        for item in info
    ]
    table(["NAME", "OPERATOR", "CAPABILITIES"], rows)


__all__ = ["cancel", "fetch", "list_", "poll", "providers", "resend", "send", "status"]
