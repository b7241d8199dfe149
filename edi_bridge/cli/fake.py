"""``edi-bridge mock serve NAME|all``: run operator and carrier fakes on loopback;
``mock stop`` ends one started with ``--detach``."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from ..errors import ConfigurationError, ValidationError
from ..fakes.scenario import SCENARIO_HELP, parse_scenario
from ..fakes.server import FakeOptions, FakeServer, Faults, fake_names, load_fake
from ..paper.scenario import SHIPMENT_SCENARIO_HELP, parse_shipment_scenario
from .common import handle_errors

DEFAULT_PID_FILE = "edi-bridge-mock.pid"
READY_TIMEOUT = 30.0  # seconds a detached server may take to listen
F = TypeVar("F", bound=Callable[..., Any])


def carrier_names() -> set[str]:
    """Fakes that play carriers (shipment scenarios) rather than EDI operators."""
    return {ep.name for ep in importlib.metadata.entry_points(group="edi_bridge.carriers")}


def pid_file_option(text: str) -> Callable[[F], F]:
    return click.option(
        "--pid-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_PID_FILE,
        show_default=True,
        help=text,
    )


class ServeCommand(click.Command):
    """``serve --help`` lists the installed fakes, each with its own scenarios."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        carriers = carrier_names()
        rows = [
            (name, SHIPMENT_SCENARIO_HELP if name in carriers else SCENARIO_HELP)
            for name in fake_names()
        ]
        with formatter.section("Fakes and their scenarios"):
            formatter.write_dl(rows)
        super().format_epilog(ctx, formatter)


@click.group()
def mock() -> None:
    """Fakes of the operators and carriers, for development."""


@mock.command("list")
def list_fakes() -> None:
    """Installed fakes."""
    for name in fake_names():
        click.echo(name)


def _scenario_for(name: str, scenario: str, everyone: bool) -> str:
    """With ``all``, a scenario goes to the fakes that play its kind; the others play
    their default (an operator's client signs, a carrier's parcel is delivered)."""
    if not everyone:
        return scenario
    is_carrier = name in carrier_names()
    try:
        parse_shipment_scenario(scenario) if is_carrier else parse_scenario(scenario)
    except ValidationError:
        return "delivered" if is_carrier else "sign"
    return scenario


def _check(names: list[str], scenario: str, *, everyone: bool) -> None:
    installed = fake_names()
    for name in names:
        if name not in installed:
            known = ", ".join(installed) or "none"
            raise ConfigurationError(f"no fake named {name!r} (installed: {known})")
        if not everyone:
            carrier = name in carrier_names()
            parse_shipment_scenario(scenario) if carrier else parse_scenario(scenario)


def _options(options: tuple[str, ...], names: list[str]) -> dict[str, dict[str, str]]:
    """``--set KEY=VALUE`` goes to every fake served; ``--set NAME.KEY=VALUE`` to one."""
    extra: dict[str, dict[str, str]] = {name: {} for name in names}
    for item in options:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValidationError("set", f"{item!r} is not KEY=VALUE")
        target, dot, own = key.partition(".")
        if dot and target in extra:
            extra[target][own] = value
        else:
            for found in extra.values():
                found[key] = value
    return extra


def env_text(servers: list[tuple[str, FakeServer]]) -> str:
    """What ``serve`` prints and ``--env-file`` holds: a shell can ``source`` it and
    :func:`edi_bridge.config.load_env_file` reads it."""
    lines: list[str] = []
    for name, server in servers:
        lines.append(f"# {name} fake on {server.url}; point edi-bridge at it with:")
        lines += [f"export {k}={shlex.quote(v)}" for k, v in server.exports().items()]
    return "\n".join(lines) + "\n"


def _write_private(path: Path, text: str) -> None:
    """Write atomically, readable by the owner only (the fakes' credentials are in it)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    tmp.replace(path)


@mock.command(cls=ServeCommand)
@click.argument("name")
@click.option(
    "--port",
    type=int,
    default=0,
    help="Port on 127.0.0.1 (default: any free one); with 'all', the first of consecutive ports.",
)
@click.option("--scenario", default="sign", show_default=True, help="How the counterparty plays.")
@click.option(
    "--faults", "fault_spec", help="Injected faults, e.g. '500=0.1,429=0.05,timeout=0.02'."
)
@click.option("--seed", type=int, help="Seed for the fault dice (repeatable runs).")
@click.option(
    "--set",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="A fake's own option (e.g. duplicate_events=0.2 for diadoc; with 'all', "
    "diadoc.duplicate_events=0.2); repeatable.",
)
@click.option("--latency", type=float, default=0.0, help="Seconds added to every answer.")
@click.option(
    "--record",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append every request and answer (secrets masked) as JSON lines.",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the settings to FILE, for `source FILE` or load_env_file(FILE).",
)
@click.option("--detach", is_flag=True, help="Serve in the background; `mock stop` ends it.")
@pid_file_option("Where --detach keeps the server's process id.")
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
    env_file: Path | None,
    detach: bool,
    pid_file: Path,
) -> None:
    """Serve the fake NAME (or 'all' installed fakes, each on its own port) on
    127.0.0.1 until interrupted.

    Prints the settings (environment variables) that point edi-bridge at it.
    """
    names = fake_names() if name == "all" else [name]
    # Refuse bad input before anything starts (or detaches).
    extra = _options(options, names)
    Faults.parse(fault_spec, seed=seed, latency=latency)
    _check(names, scenario, everyone=name == "all")
    if detach:
        args = ["mock", "serve", name, "--port", str(port), "--scenario", scenario]
        args += ["--latency", str(latency), *(f"--set={item}" for item in options)]
        for flag, value in (("--faults", fault_spec), ("--seed", seed), ("--record", record)):
            if value is not None:
                args += [flag, str(value)]
        _detach(args, pid_file, env_file)
        return
    with contextlib.ExitStack() as stack:
        sink: IO[str] | None = None
        if record is not None:
            sink = stack.enter_context(record.open("a", encoding="utf-8"))
        servers: list[tuple[str, FakeServer]] = []
        for index, fake_name in enumerate(names):
            faults = Faults.parse(fault_spec, seed=seed, latency=latency)
            play = _scenario_for(fake_name, scenario, name == "all")
            # Each fake checks its own scenarios (operators: sign/reject…, carriers: delivered…).
            fake = load_fake(
                fake_name, FakeOptions(scenario=play, faults=faults, extra=extra[fake_name])
            )
            server = FakeServer(fake, port=port + index if port else 0, faults=faults, record=sink)
            stack.callback(server.stop)
            servers.append((fake_name, server.start()))
        text = env_text(servers)
        if env_file is not None:
            _write_private(env_file, text)
        click.echo(text, nl=False)
        sys.stdout.flush()
        _wait_for_signal()


def _wait_for_signal() -> None:
    """Block until SIGTERM or Ctrl-C; the caller's clean-up then stops the servers."""
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        if stat.read_text().rpartition(")")[2].split()[0] == "Z":
            return False  # exited, not yet reaped by its parent
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(pid_file: Path) -> int | None:
    try:
        text = pid_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not text.isdigit():
        raise ValidationError(str(pid_file), f"holds {text[:20]!r}, not a process id")
    return int(text)


def _detach(args: list[str], pid_file: Path, env_file: Path | None) -> None:
    """Run the same command without --detach in a new session; return once it listens."""
    running = _read_pid(pid_file)
    if running is not None and _alive(running):
        raise ConfigurationError(
            f"a detached mock server already runs (pid {running}, {pid_file}); "
            "stop it with: edi-bridge mock stop"
        )
    ready = env_file or pid_file.with_suffix(".env")
    ready.unlink(missing_ok=True)
    args = [*args, "--env-file", str(ready)]
    log = pid_file.with_suffix(".log")
    with log.open("ab") as log_out:
        child = subprocess.Popen(
            [sys.executable, "-m", "edi_bridge.cli", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_out,
            start_new_session=True,  # Ctrl-C in this shell does not reach it
        )
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready.exists():
        if child.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            raise ConfigurationError(
                f"the mock server exited ({child.returncode}): {tail[-1] if tail else log}"
            )
        if time.monotonic() > deadline:
            child.terminate()
            raise ConfigurationError(f"the mock server did not listen in {READY_TIMEOUT:.0f} s")
        time.sleep(0.05)
    _write_private(pid_file, f"{child.pid}\n")
    click.echo(ready.read_text(encoding="utf-8"), nl=False)
    click.echo(f"# detached: pid {child.pid} in {pid_file}; stop with: edi-bridge mock stop")


@mock.command()
@pid_file_option("The pid file `mock serve --detach` wrote.")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds to wait.")
@handle_errors
def stop(pid_file: Path, timeout: float) -> None:
    """Stop a mock server started with `mock serve --detach`."""
    pid = _read_pid(pid_file)
    if pid is None:
        raise ConfigurationError(f"no detached mock server: {pid_file} does not exist")
    if not _alive(pid) or not _is_mock_server(pid):
        pid_file.unlink()
        raise ConfigurationError(f"the mock server (pid {pid}) is not running; removed {pid_file}")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            raise ConfigurationError(f"the mock server (pid {pid}) did not stop in {timeout} s")
        time.sleep(0.05)
    pid_file.unlink()
    click.echo(f"stopped the mock server (pid {pid})")


def _is_mock_server(pid: int) -> bool:
    """Whether the pid still runs our server (a stale file may name a reused pid)."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return True  # no /proc here: trust the pid file
    args = cmdline.read_bytes().split(b"\0")
    return b"edi_bridge.cli" in args and b"serve" in args


__all__ = ["mock"]
