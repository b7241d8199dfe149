"""Ctrl-C during ``closing send``: the partial summary, a quiet 130, safe to run again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .batch import start_smtp, write_batch, write_seller


def test_ctrl_c_prints_the_partial_summary_and_says_the_run_is_safe_to_repeat(
    tmp_path: Path,
) -> None:
    controller, inbox = start_smtp()
    try:
        batch = write_batch(tmp_path, 40)
        env = {
            **os.environ,
            "EDI_BRIDGE_DB": str(tmp_path / "edi.db"),
            "EDI_BRIDGE_SMTP_HOST": "127.0.0.1",
            "EDI_BRIDGE_SMTP_PORT": str(controller.port),
            "EDI_BRIDGE_SMTP_SENDER": "docs@example.ru",
            "EDI_BRIDGE_CLOSING_SELLER": str(write_seller(tmp_path)),
            "EDI_BRIDGE_MOCK_LATENCY": "0.05",
        }
        cmd = [sys.executable, "-m", "edi_bridge.cli", "closing", "send"]
        cmd += ["--period", "2026-03", "--batch", str(batch), "--concurrency", "2", "--json"]
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 30
        while len(inbox.messages) < 4 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        assert "Aborted" not in err
        assert "interrupted" in err
        assert "safe to repeat" in err
        partial = json.loads(out)
        done = partial["sent"] + partial["already_sent"] + partial["pending"]
        assert 0 < done < 40 * 2

        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        ids = inbox.ids()
        assert len(ids) == len(set(ids)), "an e-mail went out twice"
    finally:
        controller.stop()
