"""The bytes stored, signed and sent are the bytes whose hash is recorded."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from edi_bridge import Bridge, Counterparty, Document, ValidationError
from edi_bridge.testing import sample_counterparty


def _described(tmp_path: Path) -> tuple[Path, Document]:
    path = tmp_path / "contract.pdf"
    path.write_bytes(b"%PDF-1.4 the contract as agreed\n")
    return path, Document.from_path(path, number="D-1", date="2026-11-30")


def test_a_file_changed_after_it_was_described_is_refused_naming_document(
    bridge: Bridge, counterparty: Counterparty, tmp_path: Path
) -> None:
    path, document = _described(tmp_path)
    path.write_bytes(b"%PDF-1.4 other terms, same name\n")
    with pytest.raises(ValidationError) as refused:
        bridge.send(counterparty, document)
    assert refused.value.field == "document"
    assert "changed" in str(refused.value)
    assert bridge.list() == []  # nothing stored, nothing sent


def test_a_file_changed_before_a_paper_send_is_refused_too(bridge: Bridge, tmp_path: Path) -> None:
    path, document = _described(tmp_path)
    path.write_bytes(b"%PDF-1.4 other terms\n")
    with pytest.raises(ValidationError, match="changed"):
        bridge.send(sample_counterparty("paper", edi=[]), document)
    assert bridge.list() == []


def test_the_content_stored_and_sent_has_the_recorded_hash(
    bridge: Bridge, counterparty: Counterparty, tmp_path: Path
) -> None:
    _, document = _described(tmp_path)
    exchange = bridge.send(counterparty, document)
    with bridge.content(exchange.id) as fh:
        stored = fh.read()
    assert hashlib.sha256(stored).hexdigest() == exchange.document.sha256 == document.sha256
