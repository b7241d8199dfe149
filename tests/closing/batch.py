"""Batch files and an SMTP inbox on loopback, for the delivery tests."""

from __future__ import annotations

import email
import json
import socket
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from edi_bridge.testing.samples import sample_counterparty_data

from .conftest import example


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"

    def ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for m in self.messages]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_smtp() -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, inbox


def write_seller(directory: Path) -> Path:
    path = directory / "seller.json"
    path.write_text(json.dumps(example("upd-vat.json")["seller"], ensure_ascii=False), "utf-8")
    return path


def write_batch(directory: Path, n: int, *, edi_every: int = 3) -> Path:
    """``n`` counterparties; every ``edi_every``-th has a mock EDI route, the rest e-mail."""
    lines = example("upd-vat.json")["lines"]
    path = directory / "batch.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            cp = sample_counterparty_data(f"client-{i}", vat_payer=i % 2 == 0, edi=[])
            if i % edi_every == 0:
                cp["edi"] = [{"operator": "mock", "participant_id": f"MCK-{cp['inn']}"}]
            doc = {"number": f"{i:05d}", "date": "2026-03-31", "lines": lines}
            fh.write(json.dumps({"counterparty": cp, "documents": [doc]}, ensure_ascii=False))
            fh.write("\n")
    return path
