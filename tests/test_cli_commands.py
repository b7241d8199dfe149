"""The commands operations staff reach for, and the shape of the command line itself:
doctor, events, list filters, global options anywhere, start-up cost, the test-certificate
warning, no silent typos."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from edi_bridge_providers.diadoc.fake import DiadocFake

from edi_bridge.cli import COMMANDS, main
from edi_bridge.fakes.server import FakeOptions, FakeServer
from edi_bridge.testing.samples import sample_counterparty_data, sample_pdf

EXE = [sys.executable, "-m", "edi_bridge.cli"]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDI_BRIDGE_DB", raising=False)
    for n in range(2):
        data = sample_counterparty_data(f"cmd{n}")
        (tmp_path / f"client{n}.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    (tmp_path / "contract.pdf").write_bytes(sample_pdf("Contract CMD-1"))
    return tmp_path


def send(client: str = "client0.json", *extra: str) -> str:
    result = run("send", "--counterparty", client, "--document", "contract.pdf", "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return str(json.loads(result.stdout)["id"])


# -- start-up ----------------------------------------------------------------


def _import_seconds(*args: str) -> tuple[float, set[str]]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "edi_bridge.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    total = 0
    modules = set()
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( +)(\S+)", line)
        if match:
            modules.add(match[3])
            if len(match[2]) == 1:  # top level: its cumulative time counts once
                total += int(match[1])
    return total / 1e6, modules


@pytest.mark.parametrize("args", [("--version",), ("--help",)])
def test_version_and_help_import_only_the_command_line(args: tuple[str, ...]) -> None:
    seconds, modules = _import_seconds(*args)
    heavy = {"sqlalchemy", "pydantic", "requests", "edi_bridge.workflow", "edi_bridge.models"}
    assert not heavy & modules
    assert seconds < 0.3  # about 0.08 s on a quiet machine; the goal is 0.2 s


def test_help_table_matches_each_command_short_help() -> None:
    for name, (target, short) in COMMANDS.items():
        module, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        assert command.get_short_help_str(limit=70) == short, name
    listed = run("--help").stdout
    assert all(f"  {name} " in listed for name in COMMANDS)


# -- global options anywhere ----------------------------------------------------


def test_global_options_work_before_or_after_the_command(workdir: Path) -> None:
    assert run("list", "--db", "after.db").exit_code == 0
    assert (workdir / "after.db").exists()
    assert run("list", "--db=eq.db", "-v").exit_code == 0
    assert (workdir / "eq.db").exists()
    before = run("--db", "after.db", "--json", "list")
    assert before.exit_code == 0, before.stderr
    assert json.loads(before.stdout) == []
    refused = run("--json", "mock", "list")
    assert refused.exit_code == 2
    assert "--json does not apply to 'mock list'" in refused.stderr


def test_paper_commands_take_db_after_the_subcommand(workdir: Path) -> None:
    ex_id = send("client0.json", "--provider", "paper", "--db", "p.db")
    pack = run("paper", "print", ex_id, "--out", "pack.pdf", "--db", "p.db", "--json")
    assert pack.exit_code == 0, pack.stderr
    assert json.loads(pack.stdout)["status"] == "prepared"
    track = run("paper", "track", "--json", "--db", "p.db")
    assert json.loads(track.stdout) == {"applied": 0, "overdue": 0}


# -- list --------------------------------------------------------------------------


def test_list_is_newest_first_with_filters(workdir: Path) -> None:
    first = send("client0.json", "--mock-scenario", "reject:no")
    second = send("client1.json", "--idempotency-key", "k2")
    third = send("client0.json", "--idempotency-key", "k3", "--provider", "paper")
    run("poll")

    def ids(*args: str) -> list[str]:
        result = run("list", "--json", *args)
        assert result.exit_code == 0, result.stderr
        return [e["id"] for e in json.loads(result.stdout)]

    assert ids() == [third, second, first]
    assert ids("--limit", "2") == [third, second]
    assert ids("--provider", "paper") == [third]
    inn = json.loads((workdir / "client1.json").read_text("utf-8"))["inn"]
    assert ids("--inn", inn) == [second]
    assert ids("--status", "rejected") == [first]
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert ids("--since", tomorrow) == []
    assert ids("--since", dt.date.today().isoformat()) == [third, second, first]
    table = run("list").stdout.splitlines()
    assert table[0].split()[:3] == ["ID", "STATUS", "PROVIDER"]
    assert [row.split()[0] for row in table[1:]] == [third, second, first]


def test_list_refuses_an_unknown_status(workdir: Path) -> None:
    result = run("list", "--status", "sined")
    assert result.exit_code == 2
    assert "'sined' is not one of" in result.stderr
    assert "'signed'" in result.stderr


# -- events ------------------------------------------------------------------------


def test_events_prints_the_log_after_a_sequence_number(workdir: Path) -> None:
    ex_id = send()
    run("poll")
    events = [json.loads(line) for line in run("events", "--json").stdout.splitlines()]
    assert [(e["exchange_id"], e["kind"]) for e in events] == [
        (ex_id, "sent"),
        (ex_id, "delivered"),
        (ex_id, "signed"),
    ]
    later = run("events", "--after", str(events[0]["seq"]), "--json").stdout.splitlines()
    assert [json.loads(line)["kind"] for line in later] == ["delivered", "signed"]
    table = run("events").stdout.splitlines()
    assert table[0].split()[:3] == ["SEQ", "AT", "EXCHANGE"]
    assert len(table) == 4


def test_events_follow_prints_new_events_until_interrupted(workdir: Path) -> None:
    send()
    proc = subprocess.Popen(
        [*EXE, "events", "--follow", "--json", "--interval", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert json.loads(proc.stdout.readline())["kind"] == "sent"
    run("poll")  # another process records news; the follower prints it
    assert json.loads(proc.stdout.readline())["kind"] == "delivered"
    proc.send_signal(2)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "Traceback" not in err


# -- doctor -------------------------------------------------------------------------


@pytest.fixture
def diadoc() -> Iterator[FakeServer]:
    with FakeServer(DiadocFake(FakeOptions())) as server:
        yield server


def _doctor(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> tuple[int, dict[str, dict]]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = run("doctor", "--json")
    assert "Traceback" not in result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    return result.exit_code, checks


def test_doctor_passes_a_good_diadoc_configuration(
    workdir: Path, diadoc: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, checks = _doctor(monkeypatch, diadoc.exports())
    assert code == 0
    assert checks["diadoc"]["result"] == "ok"
    assert checks["diadoc"]["detail"] == "settings present; reachable; credentials accepted"
    assert checks["sbis"]["result"] == "skipped"
    assert checks["signer"]["result"] == "warning"


def test_doctor_fails_on_a_wrong_password_without_printing_it(
    workdir: Path, diadoc: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**diadoc.exports(), "EDI_BRIDGE_DIADOC_PASSWORD": "hunter2-wrong"}
    code, checks = _doctor(monkeypatch, env)
    assert code == 1
    assert checks["diadoc"]["result"] == "failed"
    assert "credentials were refused" in checks["diadoc"]["detail"]
    shown = run("doctor")
    assert "hunter2-wrong" not in shown.stdout + shown.stderr


def test_doctor_fails_on_missing_settings_and_an_unreachable_operator(
    workdir: Path, diadoc: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**diadoc.exports(), "EDI_BRIDGE_DIADOC_BASE_URL": "http://127.0.0.1:1"}
    env["EDI_BRIDGE_DIADOC_TIMEOUT"] = "1"
    env["EDI_BRIDGE_SBIS_LOGIN"] = "someone"  # configured, but no password or token
    code, checks = _doctor(monkeypatch, env)
    assert code == 1
    assert checks["diadoc"]["detail"].startswith("unreachable")
    assert checks["sbis"]["result"] == "failed"
    assert checks["sbis"]["detail"].startswith("settings: ")


# -- the throwaway certificate ---------------------------------------------------------


def test_the_test_certificate_warning_shows_without_verbose(workdir: Path) -> None:
    result = run("send", "--counterparty", "client0.json", "--document", "contract.pdf")
    assert result.exit_code == 0
    assert "throwaway test certificate" in result.stderr


def test_demo_next_hint_keeps_a_custom_db(workdir: Path) -> None:
    result = run("--db", "custom.db", "demo")
    assert result.exit_code == 0, result.stderr
    assert "next: edi-bridge --db custom.db status ex_" in result.stdout
    data = json.loads(run("demo", "--db", "custom.db", "--json").stdout)
    assert data["status"] == "signed"
    assert data["next"][0].startswith("edi-bridge --db custom.db status ")


# -- --json where a command reports something ------------------------------------------


def test_fetch_closing_fetch_and_upd_build_report_as_json(workdir: Path) -> None:
    ex_id = send()
    run("poll")
    fetched = json.loads(run("fetch", ex_id, "--out", "out", "--json").stdout)
    assert fetched["exchange"] == ex_id
    assert fetched["status"] == "signed"
    assert Path(fetched["manifest"]).is_file()
    archive = json.loads(
        run("closing", "fetch", "--period", "2026-03", "--out", "a", "--json").stdout
    )
    assert archive == {
        "period": "2026-03",
        "manifests": [],
        "verified_at": "signing-time",
        "signatures": {},
    }
    example = Path(__file__).resolve().parent.parent / "examples" / "closing" / "upd-vat.json"
    built = json.loads(run("upd", "build", str(example), "--out", "upd", "--json").stdout)
    assert Path(built["path"]).is_file()
    assert built["size"] == Path(built["path"]).stat().st_size


def test_tables_are_coloured_only_on_a_terminal(workdir: Path) -> None:
    send()
    plain = CliRunner().invoke(main, ["list"]).stdout
    assert "\x1b[" not in plain
    terminal = CliRunner().invoke(main, ["list"], color=True).stdout
    assert "\x1b[" in terminal
    assert click.unstyle(terminal) == plain
