"""A database made by the previous release (schema version 2, whose closing ledger
and mock tables were created outside the migrations) opens, migrates and works.

``fixtures/store-v2.sql`` is a dump of such a database: four contracts (signed,
sent, rejected, on paper), the mock's world and one closing ledger row.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from edi_bridge import Bridge
from edi_bridge.closing.ledger import Ledger
from edi_bridge.store import Store, migrations, schema
from edi_bridge.testing import sample_contract, sample_counterparty

DUMP = Path(__file__).parent / "fixtures" / "store-v2.sql"


def _old_database(tmp_path: Path) -> Path:
    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    con.executescript(DUMP.read_text(encoding="utf-8"))
    con.close()
    return db


def test_a_database_from_the_previous_release_migrates_on_open(tmp_path: Path) -> None:
    db = _old_database(tmp_path)
    with Bridge.open(db) as bridge:
        with bridge.store.engine.connect() as conn:
            assert migrations.current_version(conn) == schema.SCHEMA_VERSION
            assert set(sa.inspect(conn).get_table_names()) == set(schema.metadata.tables)
        by_key = {e.idempotency_key: e for e in bridge.list()}
        assert {k: e.status for k, e in by_key.items()} == {
            "old-1": "signed",
            "old-2": "sent",
            "old-3": "rejected",
            "old-4": "prepared",
        }
        assert by_key["old-3"].reason == "цена"
        assert [h.status for h in by_key["old-1"].history] == [
            "queued",
            "sent",
            "delivered",
            "signed",
        ]
        rows = Ledger(bridge.store.engine).for_period("2026-10")
        assert [(r.key, r.status) for r in rows] == [("old-ledger-1", "sent")]


def test_an_old_database_keeps_working_after_the_migration(tmp_path: Path) -> None:
    db = _old_database(tmp_path)
    with Bridge.open(db) as bridge:
        before = bridge.events()[-1].seq
        # The same key again is the same exchange: the old record still guards it.
        again = bridge.send(
            sample_counterparty("old-1"), sample_contract("OLD-1"), idempotency_key="old-1"
        )
        assert again.status == "signed"
        fresh = bridge.send(sample_counterparty("new-1"), sample_contract("NEW-1"))
        bridge.poll()
        assert bridge.status(fresh.id).status == "signed"
        # New changes carry on the old sequence, and only the new exchange changed.
        assert {e.exchange_id for e in bridge.events(after=before)} == {fresh.id}


def test_every_table_is_made_by_the_migrations(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "new.db")
    with store.engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
    store.close()
    assert {"closing_deliveries", "mock_messages", "mock_events", "mock_calls"} <= names
    assert names == set(schema.metadata.tables)


def test_an_old_database_gains_the_columns_for_a_signature_s_mchd(tmp_path: Path) -> None:
    store = Store.open(_old_database(tmp_path))
    with store.engine.connect() as conn:
        inspector = sa.inspect(conn)
        for table in ("edi_signatures", "edi_early_events"):
            columns = {c["name"] for c in inspector.get_columns(table)}
            assert {"powers_of_attorney", "operator_status"} <= columns, table
    store.close()


def test_version_8_parks_a_revocation_request_on_postgresql(postgres_url: str) -> None:
    import datetime as dt

    from edi_bridge.provider import ProviderEvent, ProviderEventKind

    store = Store.open(postgres_url)
    try:
        # A database at version 4, whose early events held kinds of 16 characters.
        with store.engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE edi_early_events ALTER COLUMN kind TYPE VARCHAR(16)"))
            conn.execute(
                schema.meta.update().where(schema.meta.c.key == "schema_version").values(value="4")
            )
        with store.engine.begin() as conn:
            assert migrations.migrate(conn) == 4
        event = ProviderEvent(
            event_id="ev-1",
            kind=ProviderEventKind.REVOCATION_REQUESTED,
            document_id="msg:doc",
            at=dt.datetime.now(dt.UTC),
            reason="просим аннулировать",
        )
        with store.transaction() as conn:
            store.park_early_events(conn, "diadoc", [event])
        with store.transaction() as conn:
            (row,) = store.take_early_events(conn, "diadoc", "msg:doc")
        assert row.kind == "revocation_requested"
    finally:
        store.close()


def test_an_old_database_gains_the_lease_holder_columns(tmp_path: Path) -> None:
    store = Store.open(_old_database(tmp_path))
    try:
        with store.engine.connect() as conn:
            for table in (schema.exchanges, schema.cursors):
                have = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
                assert {"lease_host", "lease_pid", "lease_started"} <= have, table.name
    finally:
        store.close()


def test_an_old_database_keeps_its_content_in_chunks_and_stores_new_content_in_the_row(
    tmp_path: Path,
) -> None:
    with Bridge.open(_old_database(tmp_path)) as bridge:
        with bridge.store.engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("edi_blobs")}
        assert "data" in columns
        (old,) = [e for e in bridge.list() if e.idempotency_key == "old-2"]
        # Content stored before version 9 reads back from its chunks.
        assert bridge.store.stored_document(old).sha256 == old.document.sha256
        fresh = bridge.send(sample_counterparty("new-9"), sample_contract("NEW-9"))
        with bridge.store.engine.connect() as conn:
            data = conn.execute(
                sa.select(schema.blobs.c.data).where(schema.blobs.c.sha256 == fresh.document.sha256)
            ).scalar_one()
        assert data is not None
        assert len(data) == fresh.document.size
