"""Database failures leave the library as one-line ``StoreError``s, never raw driver errors,
and a send that loses a race for its idempotency key gets the winner's exchange."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from edi_bridge import Bridge, Counterparty, EdiBridgeError, StoreError
from edi_bridge.store import schema
from edi_bridge.testing import sample_contract


def test_a_garbage_sqlite_file_raises_a_store_error_naming_the_file(tmp_path: Path) -> None:
    db = tmp_path / "garbage.db"
    db.write_bytes(b"this is not a database at all, just bytes" * 200)
    with pytest.raises(StoreError) as caught:
        Bridge.open(db)
    message = str(caught.value)
    assert str(db) in message
    assert "damaged or not an edi-bridge database" in message
    assert "\n" not in message
    assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)


def test_an_unreachable_postgres_never_shows_the_dsn_password() -> None:
    pytest.importorskip("psycopg")
    dsn = "postgresql://edi:Very-Secret-42@127.0.0.1:9/nowhere?connect_timeout=2"
    with pytest.raises(StoreError) as caught:
        Bridge.open(dsn)
    message = str(caught.value)
    assert "cannot reach database" in message
    assert "127.0.0.1:9" in message
    assert "Very-Secret-42" not in message
    assert "\n" not in message


def test_a_schema_version_that_is_not_a_number_is_a_store_error(tmp_path: Path) -> None:
    db = tmp_path / "edi.db"
    Bridge.open(db).close()
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(schema.meta.update().values(value="three"))
    engine.dispose()
    with pytest.raises(StoreError, match="schema version 'three' is not a number"):
        Bridge.open(db)


def test_a_database_failure_mid_operation_is_an_edi_bridge_error(
    bridge: Bridge, counterparty: Counterparty
) -> None:
    with bridge.store.transaction() as conn:
        conn.exec_driver_sql("DROP TABLE edi_history")
    with pytest.raises(EdiBridgeError) as caught:
        bridge.send(counterparty, sample_contract())
    assert isinstance(caught.value, StoreError)
    assert "edi_history" in str(caught.value)


def test_the_loser_of_a_race_for_one_key_gets_the_existing_exchange(
    tmp_path: Path, counterparty: Counterparty, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "edi.db"
    with Bridge.open(db) as winner, Bridge.open(db) as loser:
        first = winner.send(counterparty, sample_contract("R-1"), idempotency_key="race")
        # The loser does not look the key up before its insert (ON CONFLICT DO NOTHING
        # skips it when the key is taken, however late the winner committed); it looks
        # up once, after its insert was skipped, and returns the winner's exchange.
        looked_up = loser.store.exchange_id_for_key
        inserted = loser.store.insert_exchange_new
        calls: list[str] = []

        def counted(conn: sa.Connection, key: str) -> str | None:
            calls.append(key)
            return looked_up(conn, key)

        def insert(conn: sa.Connection, **values: Any) -> bool:
            calls.append("insert")
            return inserted(conn, **values)

        monkeypatch.setattr(loser.store, "exchange_id_for_key", counted)
        monkeypatch.setattr(loser.store, "insert_exchange_new", insert)
        second = loser.send(counterparty, sample_contract("R-1"), idempotency_key="race")
        assert second.id == first.id
        assert calls == ["insert", "race"]
        assert [e.id for e in loser.list()] == [first.id]
