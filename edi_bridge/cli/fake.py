"""``edi-bridge mock serve NAME``: run an operator or carrier fake on loopback."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from ..errors import ValidationError
from ..fakes.scenario import SCENARIO_HELP
from ..fakes.server import FakeOptions, FakeServer, Faults, fake_names, load_fake
from .common import handle_errors


@click.group()
def mock() -> None:
    """Fakes of the operators and carriers, for development."""


@mock.command("list")
def list_fakes() -> None:
    """Installed fakes."""
    for name in fake_names():
        click.echo(name)


@mock.command()
@click.argument("name")
@click.option("--port", type=int, default=0, help="Port on 127.0.0.1 (default: any free one).")
@click.option("--scenario", default="sign", show_default=True, help=SCENARIO_HELP)
@click.option(
    "--faults", "fault_spec", help="Injected faults, e.g. '500=0.1,429=0.05,timeout=0.02'."
)
@click.option("--seed", type=int, help="Seed for the fault dice (repeatable runs).")
@click.option(
    "--set",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="A fake's own option (e.g. duplicate_events=0.2 for diadoc); repeatable.",
)
@click.option("--latency", type=float, default=0.0, help="Seconds added to every answer.")
@click.option(
    "--record",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append every request and answer (secrets masked) as JSON lines.",
)
@handle_errors
def serve(
    name: str,
    port: int,
    scenario: str,
    fault_spec: str | None,
    seed: int | None,
    options: tuple[str, ...],
    latency: float,
    record: Path | None,
) -> None:
    """Serve the fake NAME on 127.0.0.1 until interrupted.

    Prints the settings (environment variables) that point edi-bridge at it.
    """
    faults = Faults.parse(fault_spec, seed=seed, latency=latency)
    extra: dict[str, str] = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError("set", f"{item!r} is not KEY=VALUE")
        extra[key.strip()] = value
    # Each fake checks its own scenarios (operators: sign/reject…, carriers: delivered…).
    fake = load_fake(name, FakeOptions(scenario=scenario, faults=faults, extra=extra))
    server = FakeServer(fake, port=port, faults=faults, record=record)
    click.echo(f"# {name} fake on {server.url}; point edi-bridge at it with:")
    for key, value in server.exports().items():
        click.echo(f"export {key}={shlex.quote(value)}")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


__all__ = ["mock"]
