"""Every error a user can cause or meet is one line on stderr, never a traceback."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from edi_bridge.cli import main
from edi_bridge.testing.samples import sample_counterparty_data, sample_pdf

EXE = [sys.executable, "-m", "edi_bridge.cli"]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_one_line(result: Result | subprocess.CompletedProcess[str], *words: str) -> str:
    stderr = result.stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDI_BRIDGE_DB", raising=False)
    path = tmp_path / "edi.db"
    assert run("--db", str(path), "list").exit_code == 0
    return path


def test_unreachable_postgres_is_one_line_without_the_password() -> None:
    result = run("--db", "postgresql://edi:s3cret-pw@127.0.0.1:1/edi", "list")
    assert result.exit_code == 1
    line = assert_one_line(result, "cannot reach database", "127.0.0.1:1")
    assert "s3cret-pw" not in result.output + result.stderr
    assert "***" in line


def test_misspelled_scheme_is_one_line_without_the_password() -> None:
    result = run("--db", "postgress://edi:s3cret-pw@127.0.0.1/edi", "list")
    assert result.exit_code == 1
    assert_one_line(result, "postgress")
    assert "s3cret-pw" not in result.stderr


def test_missing_postgres_database_is_one_line(postgres_url: str) -> None:
    base = postgres_url.rsplit("/", 1)[0]
    result = run("--db", f"{base}/no_such_db_here", "list")
    assert result.exit_code == 1
    assert_one_line(result, "no_such_db_here")


def test_garbage_file_is_called_damaged(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(os.urandom(4096))
    result = run("--db", str(path), "list")
    assert result.exit_code == 1
    assert_one_line(result, "damaged or not an edi-bridge database", str(path))


def test_truncated_database_is_called_damaged(db: Path) -> None:
    data = db.read_bytes()
    for extra in ("-wal", "-shm"):
        Path(f"{db}{extra}").unlink(missing_ok=True)
    db.write_bytes(data[: len(data) // 3])
    result = run("--db", str(db), "list")
    assert result.exit_code == 1
    assert_one_line(result, str(db))


@contextlib.contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Really read-only, even for root (immutable), or skip."""
    chattr = shutil.which("chattr")
    if os.geteuid() == 0:
        if chattr is None:
            pytest.skip("running as root without chattr: nothing is read-only for root")
        done = subprocess.run([chattr, "+i", *map(str, paths)], capture_output=True, check=False)
        if done.returncode:
            pytest.skip(f"cannot make files read-only as root here: {done.stderr!r}")
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", *map(str, paths)], check=False)
        return
    modes = [p.stat().st_mode for p in paths]
    for p in paths:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        yield
    finally:
        for p, mode in zip(paths, modes, strict=True):
            p.chmod(mode)


def test_read_only_database_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "edi.db"
    assert run("--db", str(path), "list").exit_code == 0
    with read_only(path, folder):
        result = run("--db", str(path), "list")
    assert result.exit_code == 1
    assert_one_line(result, "read-only", str(path))


@pytest.mark.parametrize(
    ("version", "words"),
    [("v2-beta", ("schema version", "v2-beta")), ("999", ("999", "upgrade edi-bridge"))],
    ids=["not a number", "newer than this edi-bridge"],
)
def test_unreadable_or_unknown_schema_version_is_one_line(
    db: Path, version: str, words: tuple[str, ...]
) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE edi_meta SET value = ? WHERE key = 'schema_version'", (version,))
    result = run("--db", str(db), "list")
    assert result.exit_code == 1
    assert_one_line(result, *words)


@contextlib.contextmanager
def locked(path: Path, seconds: float | None = None) -> Iterator[None]:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(seconds, conn.rollback) if seconds else None
    if timer:
        timer.start()
    try:
        yield
    finally:
        if timer:
            timer.join()
        else:
            conn.rollback()
        conn.close()


def test_locked_database_waits_visibly_then_fails_in_one_line(db: Path) -> None:
    with locked(db):
        started = time.monotonic()
        result = run("--db", str(db), "--lock-wait", "1", "list")
        waited = time.monotonic() - started
    assert result.exit_code == 1
    assert "waiting up to 1 s" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("edi-bridge: database ")
    assert "still locked" in result.stderr
    assert "Traceback" not in result.stderr
    assert 0.9 < waited < 10


def test_locked_database_is_used_once_the_lock_goes(db: Path) -> None:
    with locked(db, seconds=1.0):
        result = run("--db", str(db), "list", "--lock-wait", "20")
    assert result.exit_code == 0, result.stderr
    assert "is locked by another process; waiting" in result.stderr
    assert result.stdout.strip() == "no exchanges"


@pytest.mark.parametrize("interval", ["-5", "0", "0.01"])
def test_poll_refuses_intervals_that_would_busy_loop(db: Path, interval: str) -> None:
    result = run("--db", str(db), "poll", "--watch", "--interval", interval)
    assert result.exit_code == 2
    assert "--interval" in result.stderr
    assert "Traceback" not in result.stderr


def _send(db: Path, tmp_path: Path) -> str:
    (tmp_path / "c.json").write_text(json.dumps(sample_counterparty_data("err")), "utf-8")
    (tmp_path / "d.pdf").write_bytes(sample_pdf("Contract ERR-1"))
    result = run(
        "--db", str(db), "send", "--counterparty", "c.json", "--document", "d.pdf", "--json"
    )
    assert result.exit_code == 0, result.stderr
    return str(json.loads(result.stdout)["id"])


def test_closed_pipe_exits_quietly(db: Path, tmp_path: Path) -> None:
    ex_id = _send(db, tmp_path)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (``| head -1``) is gone before we write
    try:
        proc = subprocess.run(
            [*EXE, "--db", str(db), "status", ex_id],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == 141


def _watch_then_interrupt(db: Path, interval: str, meanwhile: Callable[[str], None]) -> str:
    """``poll --watch``: after its first round, ``meanwhile(first line)``, then Ctrl-C."""
    proc = subprocess.Popen(
        [*EXE, "--db", str(db), "poll", "--watch", "--interval", interval],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    meanwhile(proc.stdout.readline())
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    return err


def test_ctrl_c_is_a_quiet_130_saying_what_was_done(db: Path, tmp_path: Path) -> None:
    ex_id = _send(db, tmp_path)

    def first_round(line: str) -> None:
        assert ex_id in line  # applied and printed before the interrupt

    err = _watch_then_interrupt(db, "30", first_round)
    assert "Aborted" not in err
    assert "Traceback" not in err
    assert err.startswith("edi-bridge: interrupted")
    assert f"{ex_id}  signed" in err  # what this run recorded before the interrupt


def test_a_lock_taken_during_a_command_is_waited_for_visibly(db: Path, tmp_path: Path) -> None:
    _send(db, tmp_path)

    def hold_the_lock(_line: str) -> None:
        with locked(db, seconds=3.0):  # the next round starts within a second and waits
            pass
        time.sleep(1.5)  # the round after the lock went runs normally

    err = _watch_then_interrupt(db, "1", hold_the_lock)
    assert f"database {db} is locked by another process; waiting for it…" in err
    assert "Traceback" not in err
