"""Schema versions and the steps between them, run when a store is opened.

A new database gets the current schema in one go and is stamped with the
latest version; an existing one runs each step above its version, in order,
inside one transaction. To change the schema: edit ``schema.py``, bump
``SCHEMA_VERSION``, and add the step for the new version here. Steps run in
ascending order of version; a number with no step is skipped, so work
developed side by side may reserve its own version numbers.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import ConfigurationError, StoreError
from . import schema

Step = Callable[[Connection], None]


# version -> the step that brings a database from version-1 to it
def _v2_early_events(conn: Connection) -> None:
    schema.early_events.create(conn)


def _v3_closing_and_mock(conn: Connection) -> None:
    # Before version 3 the closing ledger and the mock created these on first use,
    # so a database may have some of them already (same columns).
    for table in (schema.closing_deliveries, *_MOCK_TABLES):
        table.create(conn, checkfirst=True)


def _v4_deadlines_and_versions(conn: Connection) -> None:
    for table in (schema.deadlines, schema.contract_versions, schema.exchange_versions):
        table.create(conn, checkfirst=True)


def _v5_quarantine(conn: Connection) -> None:
    schema.quarantine.create(conn, checkfirst=True)
    # The outbox's exchange_id becomes optional (a quarantined event may concern none).
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ALTER TABLE edi_events ALTER COLUMN exchange_id DROP NOT NULL"))
        return
    # SQLite cannot drop NOT NULL: rebuild the table with the same rows and sequence.
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_edi_events_pending"))
    conn.execute(sa.text("ALTER TABLE edi_events RENAME TO edi_events_v4"))
    schema.events.create(conn)
    # Only the columns version 4 had: a later version may add more to the table.
    old = {c["name"] for c in sa.inspect(conn).get_columns("edi_events_v4")}
    columns = ", ".join(c.name for c in schema.events.columns if c.name in old)
    conn.execute(sa.text(f"INSERT INTO edi_events ({columns}) SELECT {columns} FROM edi_events_v4"))
    conn.execute(sa.text("DROP TABLE edi_events_v4"))


def _v6_lease_holders(conn: Connection) -> None:
    # A lease names its holder process, so a dead one on this host is seen at once.
    for table in (schema.exchanges, schema.cursors):
        have = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
        for column in schema.lease_holder_columns():
            if column.name not in have:
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))


def _v7_signature_authority(conn: Connection) -> None:
    # The МЧД and the operator's status kept with early events and signatures.
    for table in (schema.early_events, schema.signatures):
        have = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
        for name in ("powers_of_attorney", "operator_status"):
            if name not in have:
                kind = table.c[name].type.compile(dialect=conn.dialect)
                conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}"))


def _v8_longer_early_event_kinds(conn: Connection) -> None:
    # A parked revocation_requested (20 characters) overflowed VARCHAR(16) on PostgreSQL;
    # SQLite does not enforce the length, so it has nothing to change.
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ALTER TABLE edi_early_events ALTER COLUMN kind TYPE VARCHAR(32)"))


def _v9_content_in_the_blob_row(conn: Connection) -> None:
    # Content of at most one chunk is kept in its blob row; what was stored before stays
    # in chunks (data NULL), and readers take either.
    have = {c["name"] for c in sa.inspect(conn).get_columns(schema.blobs.name)}
    if "data" not in have:
        kind = schema.blobs.c.data.type.compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE {schema.blobs.name} ADD COLUMN data {kind}"))


_MOCK_TABLES = (schema.mock_messages, schema.mock_events, schema.mock_calls)
STEPS: dict[int, Step] = {
    2: _v2_early_events,
    3: _v3_closing_and_mock,
    4: _v4_deadlines_and_versions,
    5: _v5_quarantine,
    6: _v6_lease_holders,
    7: _v7_signature_authority,
    8: _v8_longer_early_event_kinds,
    9: _v9_content_in_the_blob_row,
}


def current_version(conn: Connection) -> int | None:
    if not sa.inspect(conn).has_table(schema.meta.name):
        return None
    row = conn.execute(
        sa.select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
    ).scalar_one_or_none()
    if row is None:
        return None
    try:
        return int(row)
    except ValueError:
        raise StoreError(
            f"database schema version {str(row)[:40]!r} is not a number: "
            "the database was damaged or written by something else"
        ) from None


def _stamp(conn: Connection, version: int) -> None:
    updated = conn.execute(
        schema.meta.update().where(schema.meta.c.key == "schema_version").values(value=str(version))
    ).rowcount
    if not updated:
        conn.execute(schema.meta.insert().values(key="schema_version", value=str(version)))


SCHEMA_LOCK = 0x6564_6962  # "edib": PostgreSQL advisory lock id for schema changes


def schema_lock(conn: Connection) -> None:
    """Serialize schema changes of workers that start at the same moment."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": SCHEMA_LOCK})


def migrate(conn: Connection) -> int:
    """Bring the database to SCHEMA_VERSION; returns the version found before."""
    schema_lock(conn)
    found = current_version(conn)
    if found is None:
        schema.metadata.create_all(conn)
        _stamp(conn, schema.SCHEMA_VERSION)
        return 0
    if found > schema.SCHEMA_VERSION:
        raise ConfigurationError(
            f"database schema version {found} is newer than this edi-bridge "
            f"({schema.SCHEMA_VERSION}); upgrade edi-bridge"
        )
    for version in sorted(v for v in STEPS if found < v <= schema.SCHEMA_VERSION):
        STEPS[version](conn)
        _stamp(conn, version)
    if found < schema.SCHEMA_VERSION:
        _stamp(conn, schema.SCHEMA_VERSION)
    return found
