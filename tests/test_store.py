"""The store: versioned schema, chunked content, cursors, PostgreSQL parity."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from edi_bridge import Bridge, ConfigurationError, Store
from edi_bridge.store import database_url, migrations, schema, utcnow
from edi_bridge.testing import sample_contract, sample_counterparty


def test_new_database_is_stamped_with_the_current_version(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    with store.engine.connect() as conn:
        assert migrations.current_version(conn) == schema.SCHEMA_VERSION
    store.close()


def test_newer_database_is_refused(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    with store.transaction() as conn:
        migrations._stamp(conn, schema.SCHEMA_VERSION + 1)
    store.close()
    with pytest.raises(ConfigurationError, match="newer"):
        Store.open(tmp_path / "s.db")


def test_upgrade_steps_run_in_order_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Store.open(tmp_path / "s.db").close()
    ran: list[int] = []
    nxt = schema.SCHEMA_VERSION + 1
    monkeypatch.setattr(schema, "SCHEMA_VERSION", nxt)
    monkeypatch.setitem(migrations.STEPS, nxt, lambda conn: ran.append(nxt))
    Store.open(tmp_path / "s.db").close()
    Store.open(tmp_path / "s.db").close()
    assert ran == [nxt]


def test_database_location_from_flag_env_or_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDI_BRIDGE_DB", raising=False)
    assert database_url(None) == f"sqlite:///{tmp_path / 'edi-bridge.db'}"
    monkeypatch.setenv("EDI_BRIDGE_DB", "/var/lib/x.db")
    assert database_url(None) == "sqlite:////var/lib/x.db"
    assert database_url("a.db") == f"sqlite:///{tmp_path / 'a.db'}"
    assert database_url("postgresql://u@h/db").startswith("postgresql+psycopg://")


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        Store.open(tmp_path / "nope" / "s.db")


def test_content_is_stored_once_in_chunks(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    data = os.urandom((1 << 20) * 2 + 17)
    with store.transaction() as conn:
        sha = store.put_blob(conn, data)
        assert store.put_blob(conn, data) == sha
    with store.engine.connect() as conn:
        chunks = conn.execute(
            sa.select(sa.func.count()).select_from(schema.blob_chunks)
        ).scalar_one()
    assert chunks == 3
    with store.open_blob(sha) as fh:
        assert fh.read() == data
    store.close()


def test_small_content_is_one_blob_row_and_content_in_chunks_still_reads(
    tmp_path: Path,
) -> None:
    store = Store.open(tmp_path / "s.db")
    small, older = os.urandom(5000), os.urandom(3000)
    older_sha = hashlib.sha256(older).hexdigest()
    with store.transaction() as conn:
        sha = store.put_blob(conn, small)
        # As a version before 9 stored it: no data in the blob row, one chunk.
        blob = {"sha256": older_sha, "size": len(older), "created_at": utcnow()}
        conn.execute(schema.blobs.insert().values(**blob))
        conn.execute(schema.blob_chunks.insert().values(sha256=older_sha, seq=0, data=older))
    with store.transaction() as conn:
        count = sa.select(sa.func.count()).select_from(schema.blob_chunks)
        assert conn.execute(count).scalar_one() == 1  # the older content's only
        assert store.read_blob(conn, sha) == small
        assert store.read_blob(conn, older_sha) == older
        assert store.read_blobs(conn, [sha, older_sha]) == {sha: small, older_sha: older}
    for digest, data in ((sha, small), (older_sha, older)):
        with store.open_blob(digest) as fh:
            assert fh.read(10) == data[:10]
            fh.seek(2000)
            assert fh.read() == data[2000:]
    store.close()


def test_password_is_not_in_the_repr() -> None:
    engine = sa.create_engine("postgresql+psycopg://edi:s3cret-pass@db.example/edi")
    store = Store.__new__(Store)
    store.engine = engine
    assert "s3cret-pass" not in repr(store)


@pytest.mark.postgres
def test_same_workflow_runs_on_postgresql(postgres_url: str) -> None:
    with Bridge.open(postgres_url) as bridge:
        ex = bridge.send(sample_counterparty("pg"), sample_contract())
        bridge.poll()
        assert bridge.status(ex.id).status == "signed"
        assert bridge.send(sample_counterparty("pg"), sample_contract()).id == ex.id


def test_a_version_1_database_gains_the_early_events_table(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "v1.db")
    with store.transaction() as conn:
        schema.early_events.drop(conn)
        migrations._stamp(conn, 1)
    store.close()
    upgraded = Store.open(tmp_path / "v1.db")
    with upgraded.engine.connect() as conn:
        assert sa.inspect(conn).has_table("edi_early_events")
        assert migrations.current_version(conn) == schema.SCHEMA_VERSION
    upgraded.close()
