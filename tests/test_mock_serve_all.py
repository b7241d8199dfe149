"""``edi-bridge mock serve all --env-file --detach`` and ``mock stop``, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from edi_bridge import Bridge
from edi_bridge.cli import main
from edi_bridge.config import load_env_file, read_env_file
from edi_bridge.errors import ValidationError
from edi_bridge.fakes import fake_names
from edi_bridge.testing import sample_contract
from edi_bridge.testing.pytest_plugin import counterparty_for, poll_until


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edi_bridge.cli", "mock", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_serve_all_detached_writes_an_env_file_a_bridge_loads_and_stop_ends_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = _cli(tmp_path, "serve", "all", "--detach", "--env-file", "sandbox.env")
    assert started.returncode == 0, started.stderr
    pid = int((tmp_path / "edi-bridge-mock.pid").read_text())
    try:
        env_file = tmp_path / "sandbox.env"
        assert env_file.stat().st_mode & 0o077 == 0  # the fakes' credentials are in it
        assert started.stdout.startswith(env_file.read_text(encoding="utf-8"))
        urls = {
            name: value
            for name, value in read_env_file(env_file).items()
            if name.endswith(("_BASE_URL", "_URL"))
        }
        assert len(urls) == len(fake_names())  # every installed fake, each on its own port
        assert len({value.split("/")[2] for value in urls.values()}) == len(urls)
        again = _cli(tmp_path, "serve", "all", "--detach")
        assert again.returncode == 1
        assert f"already runs (pid {pid}" in again.stderr

        for name in list(os.environ):
            if name.startswith("EDI_BRIDGE_"):
                monkeypatch.delenv(name)
        environ: dict[str, str] = {}
        load_env_file(env_file, environ)
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        client = counterparty_for("diadoc", "serve-all")
        answer = requests.post(
            environ["EDI_BRIDGE_DIADOC_BASE_URL"] + "/_fake/counterparties",
            json={"counterparty": client.model_dump(mode="json"), "scenario": "sign"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        with Bridge.open(tmp_path / "edi.db") as bridge:
            exchange = bridge.send(client, sample_contract("S-1"))
            assert exchange.provider == "diadoc"
            assert poll_until(bridge, exchange.id, "signed").status == "signed"
    finally:
        stopped = _cli(tmp_path, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert f"pid {pid}" in stopped.stdout
    assert not (tmp_path / "edi-bridge-mock.pid").exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(environ["EDI_BRIDGE_DIADOC_BASE_URL"] + "/_fake/state", timeout=5)


def test_stop_without_a_detached_server_says_so_and_fails(tmp_path: Path) -> None:
    result = _cli(tmp_path, "stop")
    assert result.returncode == 1
    assert "no detached mock server" in result.stderr


def test_stop_with_a_stale_pid_file_removes_it_and_fails(tmp_path: Path) -> None:
    (tmp_path / "stale.pid").write_text("999999999\n")
    result = _cli(tmp_path, "stop", "--pid-file", "stale.pid")
    assert result.returncode == 1
    assert "is not running" in result.stderr
    assert not (tmp_path / "stale.pid").exists()


def test_detach_with_a_bad_scenario_fails_before_anything_starts(tmp_path: Path) -> None:
    result = _cli(tmp_path, "serve", "diadoc", "--detach", "--scenario", "dance")
    assert result.returncode == 1
    assert "unknown scenario 'dance'" in result.stderr
    assert not (tmp_path / "edi-bridge-mock.pid").exists()
    assert not (tmp_path / "edi-bridge-mock.log").exists()  # no server was started


def test_env_file_refuses_a_line_that_is_not_an_assignment_naming_it(tmp_path: Path) -> None:
    env_file = tmp_path / "bad.env"
    env_file.write_text("# ok\nexport EDI_BRIDGE_SBIS_LOGIN=demo\nrm -rf /\n")
    with pytest.raises(ValidationError) as refused:
        read_env_file(env_file)
    assert refused.value.field.endswith("bad.env:3")


def test_serve_help_lists_each_fakes_own_scenarios() -> None:
    shown = CliRunner().invoke(main, ["mock", "serve", "--help"]).stdout
    assert "russianpost" in shown
    assert "delivered" in shown
    assert "reject:REASON" in shown
