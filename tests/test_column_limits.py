"""The columns store/limits.py did not guard yet: the operator's document id, the closing
ledger's columns and the idempotency key fit (or are refused) the same way on SQLite and
PostgreSQL, so no DataError stops a send, a poll or a closing run."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from edi_bridge import Bridge, ValidationError
from edi_bridge.closing.ledger import FAILED, PENDING, SENT, Ledger
from edi_bridge.provider import EventPage, SendRequest, SendResult
from edi_bridge.store import schema
from edi_bridge.testing import sample_contract, sample_counterparty

LONG_DOC = "doc-" + "y" * 300 + "\x00"  # an operator's id: 305 characters with a NUL


def _long_document_id_case(db: str | Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Bridge.open(db) as bridge:
        bridge.signature_check = None
        mock = bridge.provider("mock")
        real_send, real_poll = mock.send, mock.poll
        renamed: dict[str, str] = {}

        def send(request: SendRequest) -> SendResult:
            result = real_send(request)
            renamed[result.document_id] = LONG_DOC
            return dataclasses.replace(result, document_id=LONG_DOC)

        def poll(cursor: str | None) -> EventPage:
            page = real_poll(cursor)
            events = [
                dataclasses.replace(e, document_id=renamed.get(e.document_id, e.document_id))
                for e in page.events
            ]
            return dataclasses.replace(page, events=events)

        monkeypatch.setattr(mock, "send", send)
        monkeypatch.setattr(mock, "poll", poll)
        sent = bridge.send(sample_counterparty("a"), sample_contract("L-9"), scenario="sign")
        assert sent.status == "sent"
        bridge.poll()
        assert bridge.status(sent.id).status == "signed"  # its events found it again
        with bridge.store.engine.connect() as conn:
            stored = conn.execute(sa.select(schema.exchanges.c.provider_document_id)).scalar_one()
            assert len(stored) <= 256
            assert "\x00" not in stored
            found = bridge.store.exchange_ids_for_documents(conn, "mock", [LONG_DOC])
        assert found == {LONG_DOC: sent.id}


def test_a_long_operator_document_id_with_a_nul_is_sent_and_signed_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _long_document_id_case(tmp_path / "edi.db", monkeypatch)


def test_a_long_operator_document_id_with_a_nul_is_sent_and_signed_on_postgresql(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _long_document_id_case(postgres_url, monkeypatch)


def _delivery(number: str) -> dict[str, Any]:
    return {
        "key": f"7701234560:2026-11:{number}",
        "period": "2026-11",
        "counterparty_key": "k" * 32,
        "counterparty_name": "ООО «Ромашка»\x00",
        "number": number,
        "kind": "upd",
        "channel": "email",
        "provider": None,
        "recipient": "buh@example.test\x1b[31m",
        "status": PENDING,
        "exchange_ids": [],
        "files": [],
    }


def _ledger_case(db: str | Path) -> None:
    with Bridge.open(db) as bridge:
        ledger = Ledger(bridge.store.engine)
        long_a, long_b = "A/" + "1" * 298 + "\x00", "A/" + "1" * 299
        for number in (long_a, long_b):
            assert ledger.insert(**_delivery(number))
        assert not ledger.insert(**_delivery(long_a))
        key = _delivery(long_a)["key"]
        ledger.move(key, FAILED, reason="SMTP said \x00 no " + "x" * 5000)
        ledger.move(key, SENT, message_id="<" + "m" * 400 + "@example.test>")
        row = ledger.get(key)
        assert row is not None
        assert row.status == SENT
        assert len(row.number) <= 100
        assert "\x00" not in row.counterparty_name + row.recipient
        assert row.message_id is not None
        assert len(row.message_id) <= 255
        rows = ledger.for_period("2026-11")
        assert len(rows) == 2  # two long numbers stay two rows
        assert all(len(r.key) <= 300 for r in rows)


def test_closing_ledger_strings_fit_their_columns_on_sqlite(tmp_path: Path) -> None:
    _ledger_case(tmp_path / "edi.db")


def test_closing_ledger_strings_fit_their_columns_on_postgresql(postgres_url: str) -> None:
    _ledger_case(postgres_url)


def _key_case(db: str | Path) -> None:
    with Bridge.open(db) as bridge:
        with pytest.raises(ValidationError) as refused:
            bridge.send(
                sample_counterparty("a"), sample_contract("K-1"), idempotency_key="order-7\x00"
            )
        assert refused.value.field == "idempotency_key"
        assert bridge.list() == []


def test_an_idempotency_key_with_a_nul_is_refused_naming_it_on_sqlite(tmp_path: Path) -> None:
    _key_case(tmp_path / "edi.db")


def test_an_idempotency_key_with_a_nul_is_refused_naming_it_on_postgresql(
    postgres_url: str,
) -> None:
    _key_case(postgres_url)
