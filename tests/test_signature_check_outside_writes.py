"""A slow counterparty-signature check runs before the poll's write transaction, so
a concurrent send is not locked out of the database while it runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edi_bridge import Bridge, Exchange
from edi_bridge.testing import sample_contract, sample_counterparty


class SlowCheck:
    """Holds the poll inside the check until the test says so (or 15 s pass)."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.go_on = threading.Event()
        self.timed_out = False

    def __call__(self, exchange: Exchange, signature: bytes) -> Mapping[str, Any]:
        self.running.set()
        self.timed_out = not self.go_on.wait(15)
        return {"ok": True, "status": "valid"}


def test_a_send_goes_through_while_a_slow_signature_check_runs(tmp_path: Path) -> None:
    db = tmp_path / "edi.db"
    check = SlowCheck()
    with Bridge.open(db, signature_check=check) as poller, Bridge.open(db) as sender:
        first = poller.send(sample_counterparty("a"), sample_contract("S-1"))
        errors: list[BaseException] = []

        def poll() -> None:
            try:
                for _ in range(10):
                    poller.poll()
                    if poller.status(first.id).status == "signed":
                        return
            except BaseException as exc:  # the test's failure is seen below
                errors.append(exc)

        polling = threading.Thread(target=poll)
        polling.start()
        assert check.running.wait(30)  # the check holds the counterparty signature
        started = time.monotonic()
        other = sender.send(sample_counterparty("b"), sample_contract("S-2"))
        took = time.monotonic() - started
        check.go_on.set()
        polling.join(60)
        assert other.status == "sent"
        assert not check.timed_out  # the send finished while the check still ran
        assert took < 5
        assert errors == []
        assert poller.status(first.id).status == "signed"
