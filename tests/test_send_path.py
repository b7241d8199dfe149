"""The send path: what is durable before the provider call, and where content is read from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from edi_bridge_providers.mock import MockProvider

from edi_bridge import Bridge, Counterparty, Document
from edi_bridge.errors import NotFound
from edi_bridge.provider import SendRequest, SendResult
from edi_bridge.store import Store, schema
from edi_bridge.store.blobs import CHUNK
from edi_bridge.testing import sample_contract


class Interrupted(BaseException):
    """Stands for the process dying inside the provider call."""


def _mock(bridge: Bridge) -> MockProvider:
    adapter = bridge.provider("mock")
    assert isinstance(adapter, MockProvider)
    return adapter


def _committed(db: Path, exchange_id: str) -> dict[str, Any]:
    """What another process would see in the store right now."""
    store = Store.open(db)
    try:
        with store.engine.connect() as conn:
            row = conn.execute(
                sa.select(schema.exchanges).where(schema.exchanges.c.id == exchange_id)
            ).one()
            ours = conn.execute(
                sa.select(schema.signatures.c.sha256).where(
                    schema.signatures.c.exchange_id == exchange_id,
                    schema.signatures.c.role == "ours",
                )
            ).scalar_one()
            return {
                "status": row.status,
                "attempts": row.attempts,
                "lease_owner": row.lease_owner,
                "content": store.read_blob(conn, row.content_sha256),
                "signature": store.read_blob(conn, ours),
            }
    finally:
        store.close()


def test_send_commits_queued_content_signature_and_attempt_before_the_provider_call(
    tmp_path: Path, counterparty: Counterparty, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "edi.db"
    document = sample_contract("SP-1")
    seen: dict[str, Any] = {}
    with Bridge.open(db) as bridge:
        adapter = _mock(bridge)
        real_send = adapter.send

        def send(request: SendRequest) -> SendResult:
            seen.update(_committed(db, request.exchange_id), request=request)
            return real_send(request)

        monkeypatch.setattr(adapter, "send", send)
        exchange = bridge.send(counterparty, document)
        assert exchange.status == "sent"
        owner = bridge.owner
    request = seen["request"]
    assert seen["status"] == "queued"
    assert seen["attempts"] == 1
    assert seen["lease_owner"] == owner
    assert seen["content"] == document.source
    assert seen["signature"] == request.signature
    assert request.content.read_all() == document.source


def test_send_signs_and_sends_the_callers_copy_without_reading_the_store(
    bridge: Bridge, counterparty: Counterparty, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_a: object, **_k: object) -> bytes:
        raise AssertionError("content read back from the store")

    monkeypatch.setattr(bridge.store, "open_blob", refuse)
    monkeypatch.setattr(bridge.store, "read_blob", refuse)
    document = sample_contract("SP-2")
    exchange = bridge.send(counterparty, document)
    assert exchange.status == "sent"
    assert [s.role for s in exchange.signatures] == ["ours"]


def test_send_resumed_by_another_bridge_reuses_the_stored_content_and_signature(
    tmp_path: Path, counterparty: Counterparty, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "edi.db"
    document = sample_contract("SP-3")
    first_requests: list[SendRequest] = []
    with Bridge.open(db, lease_seconds=0.0) as first:

        def die(request: SendRequest) -> SendResult:
            first_requests.append(request)
            raise Interrupted

        monkeypatch.setattr(_mock(first), "send", die)
        with pytest.raises(Interrupted):
            first.send(counterparty, document, idempotency_key="resume-me")
    monkeypatch.undo()
    with Bridge.open(db) as second:
        resumed: list[SendRequest] = []
        adapter = _mock(second)
        real_send = adapter.send

        def send(request: SendRequest) -> SendResult:
            resumed.append(request)
            return real_send(request)

        monkeypatch.setattr(adapter, "send", send)
        (exchange_id,) = second.claim_queued()
        exchange = second.dispatch(exchange_id)
    assert exchange.status == "sent"
    (before,), (after,) = first_requests, resumed
    assert after.signature == before.signature  # the identical body as the first attempt
    assert after.content.read_all() == document.source
    assert after.idempotency_key == before.idempotency_key == "resume-me"
    assert len(exchange.signatures) == 1


def test_a_failing_signer_leaves_nothing_stored_or_sent(
    bridge: Bridge, counterparty: Counterparty, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_chunks: object) -> bytes:
        raise RuntimeError("token not inserted")

    monkeypatch.setattr(bridge.signer, "sign_stream", broken)
    with pytest.raises(RuntimeError, match="token not inserted"):
        bridge.send(counterparty, sample_contract("SP-4"))
    assert bridge.list() == []
    assert _mock(bridge).document_count() == 0


@pytest.mark.parametrize("size", [0, 10, CHUNK, 2 * CHUNK + 5])
def test_read_blob_returns_whole_content_over_the_callers_connection(
    bridge: Bridge, size: int
) -> None:
    content = bytes(range(256)) * (size // 256) + bytes(size % 256)
    with bridge.store.transaction() as conn:
        sha = bridge.store.put_blob(conn, content)
        # Same transaction: content not yet committed is readable over it.
        assert bridge.store.read_blob(conn, sha) == content


def test_read_blob_of_unknown_content_is_not_found(bridge: Bridge) -> None:
    with bridge.store.transaction() as conn, pytest.raises(NotFound):
        bridge.store.read_blob(conn, "0" * 64)


def test_large_file_is_prepared_from_the_store_after_the_record_commits(
    bridge: Bridge, counterparty: Counterparty, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import edi_bridge.workflow.sending as sending

    monkeypatch.setattr(sending, "INLINE_CONTENT", 1000)
    path = tmp_path / "big.pdf"
    path.write_bytes(b"%PDF-1.4\n" + bytes(5000))
    document = Document.from_path(path, number="SP-5", date="2026-11-01")
    exchange = bridge.send(counterparty, document)
    assert exchange.status == "sent"
    with bridge.content(exchange.id) as fh:
        assert fh.read() == path.read_bytes()
