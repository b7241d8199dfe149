"""``edi-bridge events``: the durable event log, as a backend catching up reads it, and the
operator events put aside (``--quarantined``, ``reapply``, ``dismiss``)."""

from __future__ import annotations

import json
import time

import click

from ..models import QuarantinedEvent
from ..safedir import printable
from .common import Obj, handle_errors, pass_obj
from .render import print_events, table

PAGE = 1000


@click.group(invoke_without_command=True)
@click.option(
    "--after",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    metavar="SEQ",
    help="Only events after this sequence number.",
)
@click.option("--follow", is_flag=True, help="Keep printing new events until interrupted.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.2),
    default=2.0,
    show_default=True,
    help="Seconds between reads with --follow.",
)
@click.option(
    "--quarantined",
    is_flag=True,
    help="List operator events put aside because they could not be applied (held ones).",
)
@click.option(
    "--all", "settled", is_flag=True, help="With --quarantined: also re-applied and dismissed."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per line.")
@click.pass_context
@handle_errors
def events(
    ctx: click.Context,
    after: int,
    follow: bool,
    interval: float,
    quarantined: bool,
    settled: bool,
    as_json: bool,
) -> None:
    """Print the durable event log (what changed, in order, with sequence numbers).

    It only reads the log: ``poll`` or a worker is what records new events.
    ``--quarantined`` lists operator events that could not be applied;
    ``events reapply ID`` and ``events dismiss ID --reason ...`` settle them.
    """
    if ctx.invoked_subcommand is not None:
        return
    obj = ctx.find_object(Obj)
    assert obj is not None
    if quarantined:
        if follow:
            raise click.UsageError("--follow cannot be used with --quarantined")
        _list_quarantined(obj, settled, as_json)
        return
    with obj.bridge() as bridge:
        seen = 0
        while True:
            batch = bridge.events(after=after, limit=PAGE)
            print_events(batch, as_json, header=not seen)
            seen += len(batch)
            if batch:
                after = batch[-1].seq
                obj.done[:] = [f"printed {seen} events, up to seq {after}"]
                if len(batch) == PAGE:
                    continue  # more are waiting: no pause
            if not follow:
                break
            time.sleep(interval)
    if not seen and not as_json and not follow:
        click.echo("no events", err=True)


def _list_quarantined(obj: Obj, settled: bool, as_json: bool) -> None:
    with obj.bridge() as bridge:
        found = bridge.quarantined(None if settled else "held")
    if as_json:
        for q in found:
            click.echo(json.dumps(q.model_dump(mode="json"), ensure_ascii=False))
        return
    if not found:
        click.echo("no quarantined events", err=True)
        return
    rows = [
        [
            str(q.id),
            q.status,
            q.provider,
            q.first_seen.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
            printable(q.event_id),
            printable(q.reason),
        ]
        for q in found
    ]
    table(["ID", "STATUS", "PROVIDER", "FIRST SEEN", "EVENT", "REASON"], rows, status_column=1)


def _settled(q: QuarantinedEvent, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(q.model_dump(mode="json"), ensure_ascii=False))
    else:
        why = f": {printable(q.settled_why)}" if q.settled_why else ""
        click.echo(f"quarantined event {q.id} {q.status} by {printable(q.settled_by or '?')}{why}")


@events.command("reapply")
@click.argument("quarantine_id", metavar="ID", type=click.IntRange(min=1))
@click.option("--by", help="Who re-applies it (default: the system user and host).")
@click.option("--json", "as_json", is_flag=True, help="Print the settled record as JSON.")
@pass_obj
@handle_errors
def reapply(obj: Obj, quarantine_id: int, by: str | None, as_json: bool) -> None:
    """Apply a quarantined operator event again, once its cause is fixed (twice: no change)."""
    with obj.bridge() as bridge:
        q = bridge.reapply(quarantine_id, by=by)
        bridge.dispatch_events()
    obj.done[:] = [f"quarantined event {q.id}: {q.status}"]
    _settled(q, as_json)


@events.command("dismiss")
@click.argument("quarantine_id", metavar="ID", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Why it is dismissed (kept with the record).")
@click.option("--by", help="Who dismisses it (default: the system user and host).")
@click.option("--json", "as_json", is_flag=True, help="Print the settled record as JSON.")
@pass_obj
@handle_errors
def dismiss(obj: Obj, quarantine_id: int, reason: str, by: str | None, as_json: bool) -> None:
    """Close a quarantined operator event without applying it, saying why."""
    with obj.bridge() as bridge:
        q = bridge.dismiss(quarantine_id, reason, by=by)
    obj.done[:] = [f"quarantined event {q.id}: {q.status}"]
    _settled(q, as_json)


__all__ = ["events"]
