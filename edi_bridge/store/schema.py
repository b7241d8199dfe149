"""The store's tables (SQLAlchemy Core), portable between SQLite and PostgreSQL.

This module is the *current* schema. A new database is created from it and
stamped with :data:`SCHEMA_VERSION`; an older database is brought up to date
by the steps in :mod:`edi_bridge.store.migrations`. Change both together.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

SCHEMA_VERSION = 9


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Stores naive UTC, returns aware UTC, on every backend."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC)


def lease_holder_columns() -> list[sa.Column[Any]]:
    """Who holds a lease: host (and PID namespace), pid, process start (version 6)."""
    return [
        sa.Column("lease_host", sa.String(128)),
        sa.Column("lease_pid", sa.Integer),
        sa.Column("lease_started", sa.String(32)),
    ]


metadata = sa.MetaData()

meta = sa.Table(
    "edi_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

# A content of at most one chunk (a signature, the usual document) is kept in its
# blob row (``data``, version 9): one row and one index entry instead of two each.
# Larger content has ``data`` NULL and lives in 1 MiB chunks, so large documents
# stream in and out of the database on both engines without holding the whole file
# in memory (so does any content stored before version 9).
blobs = sa.Table(
    "edi_blobs",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("data", sa.LargeBinary),
)

blob_chunks = sa.Table(
    "edi_blob_chunks",
    metadata,
    sa.Column("sha256", sa.String(64), sa.ForeignKey("edi_blobs.sha256"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

exchanges = sa.Table(
    "edi_exchanges",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("idempotency_key", sa.String(256), nullable=False, unique=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("counterparty_key", sa.String(32), nullable=False, index=True),
    sa.Column("counterparty", sa.JSON, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("content_sha256", sa.String(64), sa.ForeignKey("edi_blobs.sha256"), nullable=False),
    sa.Column("status", sa.String(32), nullable=False, index=True),
    sa.Column("reason", sa.Text),
    sa.Column("provider_ref", sa.JSON, nullable=False),
    sa.Column("provider_document_id", sa.String(256)),
    sa.Column("scenario", sa.String(128)),
    sa.Column("previous_id", sa.String(40)),
    sa.Column("needs_attention", sa.Boolean, nullable=False, default=False),
    sa.Column("last_error", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Work claiming for concurrent workers: who holds the exchange, until when.
    sa.Column("lease_owner", sa.String(128)),
    sa.Column("lease_until", UTCDateTime),
    *lease_holder_columns(),
    sa.UniqueConstraint("provider", "provider_document_id", name="uq_edi_exchanges_provider_doc"),
)

history = sa.Table(
    "edi_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("exchange_id", sa.String(40), sa.ForeignKey("edi_exchanges.id"), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("cause", sa.Text, nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Index("ix_edi_history_exchange", "exchange_id", "id"),
)

# The durable record of changes for the backend (an outbox): callbacks are
# dispatched from here after commit, and a backend that was down reads it.
events = sa.Table(
    "edi_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(300), nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False),
    # None only for news about no exchange of ours (a quarantined operator event).
    sa.Column("exchange_id", sa.String(40), sa.ForeignKey("edi_exchanges.id")),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("dispatched_at", UTCDateTime),
    sa.Index("ix_edi_events_pending", "dispatched_at", "seq"),
)

# Signing deadlines: one given per send (``sign_by``), and when the exchange
# expired. Exchanges without a row take the deadline from the settings.
deadlines = sa.Table(
    "edi_deadlines",
    metadata,
    sa.Column("exchange_id", sa.String(40), sa.ForeignKey("edi_exchanges.id"), primary_key=True),
    sa.Column("sign_by", UTCDateTime),
    sa.Column("expired_at", UTCDateTime),
)

# Versions of a contract draft (v1 for review, v2 after adjustments, ...): the
# merge fields and hash of each render, which one is agreed, and the rejected
# exchange a version answers. An exchange records the version it carries.
contract_versions = sa.Table(
    "edi_contract_versions",
    metadata,
    sa.Column("draft", sa.String(200), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("after_exchange_id", sa.String(40), sa.ForeignKey("edi_exchanges.id")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("agreed_at", UTCDateTime),
)

exchange_versions = sa.Table(
    "edi_exchange_versions",
    metadata,
    sa.Column("exchange_id", sa.String(40), sa.ForeignKey("edi_exchanges.id"), primary_key=True),
    sa.Column("draft", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.ForeignKeyConstraint(
        ["draft", "version"], ["edi_contract_versions.draft", "edi_contract_versions.version"]
    ),
)

# Provider event ids already applied, per feed: the at-most-once guard.
# Events about a document we have not recorded yet: the operator can report on a
# document before our record of the send commits (another worker polled in
# between). They wait here and are applied when the send is recorded.
early_events = sa.Table(
    "edi_early_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("document_id", sa.String(256), nullable=False),
    sa.Column("event_id", sa.String(256), nullable=False),
    # 32 since version 8: the revocation kinds ("revocation_requested") are longer than 16.
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("signature", sa.LargeBinary),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # With a signature: the МЧД it was made under, and the operator's status (version 7).
    sa.Column("powers_of_attorney", sa.JSON),
    sa.Column("operator_status", sa.JSON),
    sa.Index("ix_edi_early_events_doc", "provider", "document_id"),
)

applied_events = sa.Table(
    "edi_applied_events",
    metadata,
    sa.Column("scope", sa.String(256), primary_key=True),
    sa.Column("event_id", sa.String(256), primary_key=True),
    sa.Column("exchange_id", sa.String(40)),
    sa.Column("at", UTCDateTime, nullable=False),
)

# Operator events that could not be applied (unreadable, refused by a check, any
# error while turning them into a change), put aside so the feed moves on; a
# person re-applies or dismisses each (see edi_bridge.workflow.quarantine).
quarantine = sa.Table(
    "edi_quarantine",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope", sa.String(256), nullable=False),
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("event_id", sa.String(256), nullable=False),
    sa.Column("document_id", sa.String(256)),
    sa.Column("exchange_id", sa.String(40)),
    sa.Column("body", sa.JSON, nullable=False),  # secrets masked
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("settled_by", sa.String(128)),
    sa.Column("settled_why", sa.Text),
    sa.Column("settled_at", UTCDateTime),
    sa.UniqueConstraint("scope", "event_id", name="uq_edi_quarantine_event"),
)

cursors = sa.Table(
    "edi_cursors",
    metadata,
    sa.Column("scope", sa.String(256), primary_key=True),
    sa.Column("value", sa.Text),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("lease_owner", sa.String(128)),
    sa.Column("lease_until", UTCDateTime),
    *lease_holder_columns(),
)

signatures = sa.Table(
    "edi_signatures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("exchange_id", sa.String(40), sa.ForeignKey("edi_exchanges.id"), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("sha256", sa.String(64), sa.ForeignKey("edi_blobs.sha256"), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("verdict", sa.JSON),
    # A counterparty's МЧД (base64 EMCHD_1 files, the original first) and the operator's
    # status on it, so a held signature can be checked again (version 7).
    sa.Column("powers_of_attorney", sa.JSON),
    sa.Column("operator_status", sa.JSON),
    sa.UniqueConstraint("exchange_id", "role", "sha256", name="uq_edi_signatures"),
)

# The closing run's ledger: one row per (counterparty, period, document); see
# edi_bridge.closing.ledger.
closing_deliveries = sa.Table(
    "closing_deliveries",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("period", sa.String(7), nullable=False, index=True),
    sa.Column("counterparty_key", sa.String(32), nullable=False),
    sa.Column("counterparty_name", sa.Text, nullable=False),
    sa.Column("number", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(8), nullable=False),  # edi, email, paper
    sa.Column("provider", sa.String(64)),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("exchange_ids", sa.JSON, nullable=False),
    sa.Column("message_id", sa.String(255)),
    sa.Column("files", sa.JSON, nullable=False),
    sa.Column("formed_at", UTCDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# The mock provider keeps its world (the operator and the counterparty it plays)
# in the same database, so a demo or a test needs nothing else.
mock_messages = sa.Table(
    "mock_messages",
    metadata,
    sa.Column("document_id", sa.String(40), primary_key=True),
    sa.Column("idempotency_key", sa.String(256), nullable=False, unique=True),
    sa.Column("scenario", sa.String(128), nullable=False),
    sa.Column("polls", sa.Integer, nullable=False),
    sa.Column("done", sa.Boolean, nullable=False),
    sa.Column("counterparty", sa.JSON, nullable=False),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("signature", sa.LargeBinary, nullable=False),
    sa.Column("counterparty_signature", sa.LargeBinary),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
mock_events = sa.Table(
    "mock_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(40), nullable=False, unique=True),
    sa.Column("document_id", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("at", UTCDateTime, nullable=False),
)
mock_calls = sa.Table(
    "mock_calls",
    metadata,
    sa.Column("idempotency_key", sa.String(256), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)
