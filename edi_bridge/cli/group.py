"""The root group: subcommands load on first use, global options go anywhere.

Importing a subcommand's module pulls in pydantic, SQLAlchemy and the adapters, which
costs half a second; ``edi-bridge --version`` and ``--help`` need none of it, so the
root lists its commands from a table of ``name -> (module:attribute, short help)`` and
imports a module only when its command runs (or its own ``--help`` is asked for).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import click

# Options of the root that may also be written after the subcommand.
VALUED_GLOBALS = ("--db", "--lock-wait")
_VERBOSE = re.compile(r"-v+|--verbose")

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as any Unix tool whose reader went away

ONLY_HELP = "edi_bridge.only_help"  # ctx.meta key: this run prints help and nothing else


class LazyGroup(click.Group):
    """A click group whose commands are imported when used."""

    def __init__(self, *args: Any, lazy: Mapping[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, _, attr = self.lazy[cmd_name][0].partition(":")
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(n) for n in self.list_commands(ctx))
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is None:
                rows.append((name, self.lazy[name][1]))
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    # -- global options after the subcommand -------------------------------

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = self._hoist(ctx, list(args))
        ctx.meta[ONLY_HELP] = self._only_help(ctx, args)
        return super().parse_args(ctx, args)

    def _only_help(self, ctx: click.Context, args: list[str]) -> bool:
        """Whether the run can only print help (``-h``/``--help``, or a group with no
        subcommand), which must work whatever the environment holds."""
        tail = args[_command_start(args) :]
        tail = tail[: tail.index("--")] if "--" in tail else tail
        leaf, _ = self._leaf(ctx, tail)
        return (
            leaf is None
            or isinstance(leaf, click.Group)
            or any(a in ctx.help_option_names for a in tail)
        )

    def _hoist(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Move --db/-v written after the subcommand before it; --json the other way."""
        i = _command_start(args)
        if i >= len(args) or args[i] == "--":
            return args
        head, tail = args[:i], args[i:]
        leaf, path = self._leaf(ctx, tail)
        own = _option_names(leaf) if leaf is not None else set()
        moved: list[str] = []
        kept: list[str] = []
        j = 0
        while j < len(tail):
            arg = tail[j]
            if arg == "--":
                kept.extend(tail[j:])
                break
            name = arg.split("=", 1)[0]
            if name in VALUED_GLOBALS and name not in own:
                step = 1 if "=" in arg else 2
                moved.extend(tail[j : j + step])
                j += step
                continue
            if _VERBOSE.fullmatch(arg) and not own & {"-v", "--verbose"}:
                moved.append(arg)
            else:
                kept.append(arg)
            j += 1
        if "--json" in head:
            head = [a for a in head if a != "--json"]
            if "--json" not in own:
                raise click.UsageError(f"--json does not apply to '{' '.join(path)}'", ctx)
            cut = kept.index("--") if "--" in kept else len(kept)
            kept.insert(cut, "--json")
        return head + moved + kept

    def _leaf(
        self, ctx: click.Context, tail: Sequence[str]
    ) -> tuple[click.Command | None, list[str]]:
        command: click.Command = self
        path: list[str] = []
        for token in tail:
            if token.startswith("-") or not isinstance(command, click.Group):
                break
            sub = command.get_command(ctx, token)
            if sub is None:
                break
            command, path = sub, [*path, token]
        return (None if command is self else command), path

    # -- Ctrl-C and closed pipes ----------------------------------------------

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            interrupted(ctx)
        except BrokenPipeError:
            broken_pipe()


def _command_start(args: Sequence[str]) -> int:
    """Where the subcommand starts: after the root's own options."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        i += 2 if args[i] in VALUED_GLOBALS else 1
    return i


def _option_names(command: click.Command) -> set[str]:
    names: set[str] = set()
    for param in command.params:
        if isinstance(param, click.Option):
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


def interrupted(ctx: click.Context) -> NoReturn:
    """Ctrl-C: say what was done so far, quietly, and exit 130 (no "Aborted!")."""
    from .common import Obj

    try:
        obj = ctx.find_object(Obj)
        lines = obj.interrupt_summary() if obj is not None else []
        click.echo("edi-bridge: interrupted", err=True)
        for line in lines:
            click.echo(f"  {line}", err=True)
    except (KeyboardInterrupt, Exception):  # noqa: S110 - a second Ctrl-C or a dead database
        pass  # nothing more to say; the exit code still tells
    sys.exit(EXIT_INTERRUPTED)


def broken_pipe() -> NoReturn:
    """The reader of our output went away (``| head``): stop without a word."""
    try:
        # Later writes, and the interpreter's final flush, go nowhere instead of failing.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a real file (a test runner): nothing to silence
    sys.exit(EXIT_BROKEN_PIPE)


__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_INTERRUPTED",
    "ONLY_HELP",
    "LazyGroup",
    "broken_pipe",
    "interrupted",
]
