"""send, resend, poll and worker say what happened, with exit codes that tell the truth.

Against the Diadoc fake on 127.0.0.1: a wrong password, an operator answering 503.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from edi_bridge_providers.diadoc.fake import DiadocFake

from edi_bridge import Bridge
from edi_bridge.cli import main
from edi_bridge.fakes.server import FakeOptions, FakeServer, Faults
from edi_bridge.models import parse_counterparty
from edi_bridge.testing.samples import sample_counterparty_data, sample_pdf

EXIT_NOT_SENT = 5


@pytest.fixture
def fake() -> DiadocFake:
    return DiadocFake(FakeOptions())


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: DiadocFake) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EDI_BRIDGE_DB", str(tmp_path / "edi.db"))
    data = sample_counterparty_data("results")
    counterparty = parse_counterparty(data)
    fake.add_counterparty(counterparty, "sign")
    data["edi"] = [{"operator": "diadoc", "participant_id": f"2BM-{counterparty.inn}-1"}]
    (tmp_path / "client.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    (tmp_path / "contract.pdf").write_bytes(sample_pdf("Contract RES-1"))
    return tmp_path


def point_at(server: FakeServer, monkeypatch: pytest.MonkeyPatch, **overrides: str) -> None:
    for key, value in server.exports().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("EDI_BRIDGE_DIADOC_TIMEOUT", "2")
    for key, value in overrides.items():
        monkeypatch.setenv(f"EDI_BRIDGE_DIADOC_{key.upper()}", value)


@pytest.fixture
def server(fake: DiadocFake) -> Iterator[FakeServer]:
    with FakeServer(fake) as srv:
        yield srv


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def send(*extra: str) -> Result:
    return run("send", "--counterparty", "client.json", "--document", "contract.pdf", *extra)


def test_send_that_reaches_the_operator_says_sent_and_exits_0(
    workdir: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(server, monkeypatch)
    result = send()
    assert result.exit_code == 0, result.stderr
    ex_id, status, *rest = result.stdout.split()
    assert ex_id.startswith("ex_")
    assert (status, rest) == ("sent", ["via", "diadoc"])


def test_wrong_password_is_named_as_ours_and_exits_1(
    workdir: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(server, monkeypatch, password="not-the-password")
    result = send()
    assert result.exit_code == 1
    line = result.stdout.strip()
    assert " failed: diadoc rejected our credentials" in line
    assert "check the diadoc.* credential settings" in line
    assert "edi-bridge resend ex_" in line
    assert "not-the-password" not in result.stdout + result.stderr

    data = json.loads(send("--json").stdout)
    assert data["status"] == "failed"
    assert data["attempts"] == 1
    assert "401" in data["last_error"]
    assert data["next"].startswith("fix the cause")


def test_operator_down_leaves_it_queued_exits_5_and_the_next_poll_sends_it(
    workdir: Path, fake: DiadocFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeServer(fake, faults=Faults.parse("503=1.0")) as down:
        point_at(down, monkeypatch)
        result = send("--json")
    assert result.exit_code == EXIT_NOT_SENT, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "queued"
    assert data["attempts"] == 1
    assert "503" in data["last_error"]
    assert data["reason"].startswith("diadoc unreachable or busy")
    assert data["next"] == "retried on the next poll (or by a running worker)"

    with FakeServer(fake) as up:
        point_at(up, monkeypatch)
        polled = run("poll")
    assert polled.exit_code == 0, polled.stderr
    assert f"{data['id']}  sent via diadoc" in polled.stdout  # the poll's own dispatch


def test_worker_until_idle_exits_non_zero_and_logs_the_error_text(
    workdir: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(server, monkeypatch)
    assert send().exit_code == 0
    env = {**os.environ, "EDI_BRIDGE_DIADOC_PASSWORD": "wrong-one"}
    proc = subprocess.run(
        [sys.executable, "-m", "edi_bridge.cli", "worker", "--until-idle", "--log-format", "text"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    stats = json.loads(proc.stdout)
    assert stats["errors"] >= 1
    assert proc.returncode == 1, proc.stderr
    failure = next(line for line in proc.stderr.splitlines() if "poll failed" in line)
    assert "wrong login or password" in failure
    assert "wrong-one" not in proc.stderr


def _recorded(db: Path) -> bool:
    if not db.exists():
        return False
    with Bridge.open(db) as bridge:
        return bool(bridge.list(status="queued"))


def test_ctrl_c_during_a_send_says_the_exchange_is_recorded(
    workdir: Path, fake: DiadocFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeServer(fake, faults=Faults.parse("503=1.0,latency=1.5")) as down:
        point_at(down, monkeypatch)
        cmd = [sys.executable, "-m", "edi_bridge.cli", "send"]
        cmd += ["--counterparty", "client.json", "--document", "contract.pdf"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not _recorded(workdir / "edi.db") and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # now in the provider call, which retries the 503s for seconds
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert out == ""
    assert "Traceback" not in err
    assert "Aborted" not in err
    assert "edi-bridge: interrupted\n" in err
    assert "queued: recorded; a later poll or worker sends it" in err


def test_concurrent_sends_with_one_key_all_get_the_same_exchange(tmp_path: Path) -> None:
    data = sample_counterparty_data("race")
    (tmp_path / "client.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    (tmp_path / "contract.pdf").write_bytes(sample_pdf("Contract RACE-1"))
    env = {**os.environ, "EDI_BRIDGE_DB": str(tmp_path / "edi.db")}
    cmd = [sys.executable, "-m", "edi_bridge.cli", "send", "--json"]
    cmd += ["--counterparty", "client.json", "--document", "contract.pdf"]
    cmd += ["--idempotency-key", "race-1"]
    subprocess.run([*cmd[:3], "list"], cwd=tmp_path, env=env, check=True, capture_output=True)
    procs = [
        subprocess.Popen(
            cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    results = [(p.communicate(timeout=120), p.returncode) for p in procs]
    for (_out, err), code in results:
        assert code == 0, err
        assert "Traceback" not in err
    assert len({json.loads(out)["id"] for (out, _err), _code in results}) == 1
