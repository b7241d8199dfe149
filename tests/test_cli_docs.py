"""Every ``edi-bridge`` command line in README.md and docs/*.md parses, so docs cannot drift.

Lines come from fenced blocks and from inline code. ``[optional]`` parts count as given,
``a|b`` alternatives are each tried, placeholders (``ID``, ``FILE.json``) stand as values.
Each line must name only options its command has, and every required option it has; lines
without placeholders are also run for real, against the mock or a fake on loopback.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from edi_bridge.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
GLOBAL = {"--db", "-v", "-vv", "--verbose", "--json", "--lock-wait", "-h", "--help"}
LONG_RUNNING = {"worker", "mock serve", "poll --watch", "events --follow"}


@dataclass(frozen=True)
class DocLine:
    where: str
    text: str
    full: bool  # a command line to copy (fenced, or a table row), not a mention in prose

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


def _command_spans(text: str) -> list[tuple[str, bool]]:
    found: list[tuple[str, bool]] = []
    for block in re.findall(r"```[^\n]*\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("edi-bridge "):
                found.append((line, True))
    for row in re.sub(r"```.*?```", "", text, flags=re.S).splitlines():
        spans = re.findall(r"`([^`]+)`", row.replace("\\|", "|"))
        table = row.startswith("|")
        lead = False
        for span in spans:
            full = table and "…" not in span
            if span.startswith("edi-bridge "):
                found.append((span, full))
                lead = True
            elif lead and span.split(" ", 1)[0] in COMMANDS and " " in span:
                found.append(("edi-bridge " + span, full))  # `closing status …` after a `/`
    return found


def doc_lines() -> list[DocLine]:
    lines = []
    for path in DOCS:
        for span, full in _command_spans(path.read_text(encoding="utf-8")):
            lines.append(DocLine(path.relative_to(ROOT).as_posix(), span, full))
    return lines


def expand(text: str) -> list[list[str]]:
    """The argument lists a documented line stands for (alternatives multiplied out)."""
    tokens = shlex.split(text, comments=True)[1:]
    choices: list[list[str]] = []
    depth = 0
    for raw in tokens:
        if raw == "|" and depth == 0:
            break  # a shell pipe: the rest is another program
        depth += raw.count("[") - raw.count("]")
        token = raw.replace("[", "").replace("]", "").replace("…", "").strip()
        if token in ("", "|", "...") or token.startswith("<"):
            continue
        choices.append([t for t in token.split("|") if t] if "|" in token else [token])
    return [list(combo) for combo in itertools.islice(itertools.product(*choices), 50)]


def resolve(args: list[str]) -> tuple[click.Command, list[str], list[str]]:
    """The command the arguments reach, its path, and the arguments left for it."""
    command: click.Command = main
    path: list[str] = []
    rest = list(args)
    ctx = click.Context(main)
    while rest and isinstance(command, click.Group) and not rest[0].startswith("-"):
        sub = command.get_command(ctx, rest[0])
        assert sub is not None, f"no command {rest[0]!r} under {' '.join(path) or 'edi-bridge'}"
        command, path = sub, [*path, rest.pop(0)]
    return command, path, rest


def _options(command: click.Command) -> dict[str, click.Option]:
    return {
        name: p
        for p in command.params
        if isinstance(p, click.Option)
        for name in (*p.opts, *p.secondary_opts)
    }


LINES = doc_lines()


def test_the_docs_have_command_lines() -> None:
    where = {line.where for line in LINES}
    assert {"README.md", "docs/paper.md", "docs/closing.md"} <= where
    assert len(LINES) > 20


@pytest.mark.parametrize("line", LINES, ids=str)
def test_documented_line_parses(line: DocLine) -> None:
    for args in expand(line.text):
        command, path, rest = resolve(args)
        options = _options(command)
        given = {a.split("=", 1)[0] for a in rest if a.startswith("-")}
        unknown = given - set(options) - GLOBAL
        assert not unknown, f"{line}: {' '.join(path)} has no option {sorted(unknown)}"
        if isinstance(command, click.Group) or not line.full or _mention(command, rest):
            continue  # a command named in prose: it exists and its options are real
        # Required even when an environment variable can give it: a reader copies the line.
        missing = sorted(
            p.opts[0] for p in set(options.values()) if p.required and not set(p.opts) & given
        )
        assert not missing, f"{line}: required {missing} not shown"
        result = CliRunner().invoke(main, [*args, "--help"])
        assert result.exit_code == 0, f"{line}: {result.stderr or result.output}"


def _mention(command: click.Command, rest: list[str]) -> bool:
    """`edi-bridge verify` in a table of settings: the command named, its arguments not."""
    required = [p for p in command.params if isinstance(p, click.Argument) and p.required]
    return bool(required) and not [a for a in rest if not a.startswith("-")]


def _runnable(line: DocLine) -> bool:
    """A full line whose every value is literal (no ID, FILE.json, cp.json to provide)."""
    if not line.full or "[" in line.text or "|" in line.text:
        return False
    command, _path, rest = resolve(expand(line.text)[0])
    literal = re.compile(r"\d+|sign|diadoc|sbis|russianpost|cdek")
    return not _mention(command, rest) and all(
        a.startswith("-") or literal.fullmatch(a) for a in rest
    )


RUNNABLE = [line for line in LINES if _runnable(line)]


@pytest.mark.parametrize("line", RUNNABLE, ids=str)
def test_documented_line_without_placeholders_runs(line: DocLine, tmp_path: Path) -> None:
    args = expand(line.text)[0]
    env = {**os.environ, "EDI_BRIDGE_DB": str(tmp_path / "edi.db")}
    exe = [sys.executable, "-m", "edi_bridge.cli"]
    joined = " ".join(args)
    if joined.startswith("mock serve"):
        # Long-running: it must start and print the settings; any free port will do.
        if "--port" in args:
            args[args.index("--port") + 1] = "0"
        with subprocess.Popen(
            [*exe, *args], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
        ) as proc:
            assert proc.stdout is not None
            assert proc.stdout.readline().startswith("# ")
            assert proc.stdout.readline().startswith("export EDI_BRIDGE_")
            proc.terminate()
        return
    if joined.startswith("worker"):
        args.append("--until-idle")  # the documented service, run as a batch
    proc = subprocess.run(
        [*exe, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"{line}: {proc.stderr}"
    assert "Traceback" not in proc.stderr
    if joined.startswith("worker"):
        assert json.loads(proc.stdout)["errors"] == 0


def test_mock_serve_help_lists_each_fakes_own_scenarios() -> None:
    shown = CliRunner().invoke(main, ["mock", "serve", "--help"]).stdout
    assert "russianpost" in shown
    assert "delivered" in shown


def test_mock_serve_takes_the_set_option_docs_diadoc_shows() -> None:
    result = CliRunner().invoke(main, ["mock", "serve", "diadoc", "--set", "a=b", "--help"])
    assert result.exit_code == 0, result.stderr


def test_every_paper_command_takes_json_as_docs_paper_md_says() -> None:
    assert "Every command takes `--json`" in (ROOT / "docs" / "paper.md").read_text("utf-8")
    paper, _path, _rest = resolve(["paper"])
    assert isinstance(paper, click.Group)
    for name in paper.list_commands(click.Context(paper)):
        command = paper.get_command(click.Context(paper), name)
        assert command is not None
        assert "--json" in _options(command), f"paper {name} lacks --json"
