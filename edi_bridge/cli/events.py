"""``edi-bridge events``: the durable event log, as a backend catching up reads it."""

from __future__ import annotations

import time

import click

from .common import Obj, handle_errors, pass_obj
from .render import print_events

PAGE = 1000


@click.command()
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
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per line.")
@pass_obj
@handle_errors
def events(obj: Obj, after: int, follow: bool, interval: float, as_json: bool) -> None:
    """Print the durable event log (what changed, in order, with sequence numbers).

    It only reads the log: ``poll`` or a worker is what records new events.
    """
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


__all__ = ["events"]
