"""``edi-bridge worker``: send and poll until stopped (SIGTERM or Ctrl-C)."""

from __future__ import annotations

import json
import logging
import signal
from types import FrameType

import click

from ..logs import configure
from ..worker import Worker
from ..workflow import DEFAULT_LEASE_SECONDS
from .common import EXIT_FAILED, EXIT_PARTIAL, Obj, handle_errors, pass_obj


@click.command()
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--poll-interval", type=float, default=30.0, show_default=True, help="Seconds.")
@click.option(
    "--lease-seconds",
    type=click.FloatRange(1.0),
    default=DEFAULT_LEASE_SECONDS,
    show_default=True,
    help="How long a crashed worker's work stays held before others take it.",
)
@click.option("--until-idle", is_flag=True, help="Exit when nothing is queued (batch runs).")
@click.option(
    "--log-format", type=click.Choice(["json", "text"]), default="json", show_default=True
)
@pass_obj
@handle_errors
def worker(
    obj: Obj,
    concurrency: int,
    poll_interval: float,
    lease_seconds: float,
    until_idle: bool,
    log_format: str,
) -> None:
    """Send queued exchanges and poll providers, several workers per database.

    With --until-idle it exits 3 when some sends or polls failed and others went
    through, 1 when only failures happened (the log has each error's text).
    """
    configure(logging.INFO, log_format)
    logging.getLogger("edi_bridge").setLevel(logging.INFO)  # the CLI quiets it by default
    with obj.bridge(watch_locks=False, lease_seconds=lease_seconds) as bridge:
        runner = Worker(bridge, concurrency=concurrency, poll_interval=poll_interval)

        def _stop(signum: int, _frame: FrameType | None) -> None:
            logging.getLogger("edi_bridge.worker").info(
                "stopping", extra={"signal": signal.Signals(signum).name}
            )
            runner.stop()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        stats = runner.run(until_idle=until_idle)
    click.echo(json.dumps(vars(stats)))
    if until_idle and (stats.errors or stats.failed):
        raise SystemExit(EXIT_PARTIAL if stats.sent or stats.changes else EXIT_FAILED)


__all__ = ["worker"]
