"""The durable record: exchanges, history, events for the backend, provider
cursors, applied provider event ids, signatures and document content.

:class:`Store` wraps a SQLAlchemy engine. SQLite (the default) runs in WAL mode
with ``BEGIN IMMEDIATE`` transactions, so several CLI processes can share one
file; every method that writes takes the caller's open connection, so one
transaction can cover a state change, its history, its events and the cursor
that produced it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..errors import ConfigurationError, NotFound
from ..models import (
    Counterparty,
    Document,
    Event,
    Exchange,
    HistoryEntry,
    SignatureRecord,
)
from . import schema
from .clock import utcnow
from .migrations import migrate
from .rows import EarlyEventRow, ExchangeRow

CHUNK = 1 << 20
DEFAULT_DB = "edi-bridge.db"


class _Q:
    """Statements built once: building one per call costs more than running it."""

    _x = schema.exchanges
    exchange = sa.select(_x).where(_x.c.id == sa.bindparam("id"))
    exchange_locked = exchange.with_for_update()
    exchange_by_key = sa.select(_x.c.id).where(_x.c.idempotency_key == sa.bindparam("key"))
    update_exchange = _x.update().where(_x.c.id == sa.bindparam("_id"))
    insert_exchange = _x.insert()
    insert_history = schema.history.insert()
    history = (
        sa.select(schema.history)
        .where(schema.history.c.exchange_id == sa.bindparam("id"))
        .order_by(schema.history.c.id)
    )
    _s = schema.signatures
    signatures = sa.select(_s).where(_s.c.exchange_id == sa.bindparam("id")).order_by(_s.c.id)
    signature_kept = sa.select(_s.c.id).where(
        _s.c.exchange_id == sa.bindparam("id"),
        _s.c.role == sa.bindparam("role"),
        _s.c.sha256 == sa.bindparam("sha"),
    )
    insert_signature = _s.insert()
    event_by_key = sa.select(schema.events.c.seq).where(schema.events.c.key == sa.bindparam("key"))
    insert_event = schema.events.insert()
    blob_exists = sa.select(schema.blobs.c.sha256).where(
        schema.blobs.c.sha256 == sa.bindparam("sha")
    )
    insert_blob = schema.blobs.insert()
    insert_chunk = schema.blob_chunks.insert()
    chunks = (
        sa.select(schema.blob_chunks.c.data)
        .where(schema.blob_chunks.c.sha256 == sa.bindparam("sha"))
        .order_by(schema.blob_chunks.c.seq)
    )


def database_url(location: str | os.PathLike[str] | None = None) -> str:
    """Turn ``--db`` / ``EDI_BRIDGE_DB`` (a path or a URL) into a SQLAlchemy URL."""
    value = os.fspath(location) if location else os.environ.get("EDI_BRIDGE_DB") or DEFAULT_DB
    if "://" in value:
        if value.startswith("postgresql://"):
            # psycopg 3 is the driver we support for PostgreSQL.
            value = "postgresql+psycopg://" + value[len("postgresql://") :]
        return value
    return "sqlite:///" + str(Path(value).expanduser().absolute())


_READ = "edi_bridge.read"


@contextlib.contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for reads only (SQLite: a deferred transaction)."""
    with engine.connect() as conn:
        conn.info[_READ] = True
        try:
            yield conn
        finally:
            conn.info.pop(_READ, None)


def _sqlite_engine(url: str) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN below drive transactions instead of pysqlite's.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Transactions take the write lock up front: one that reads then
        # writes would otherwise fail on the upgrade (SQLITE_BUSY, no waiting)
        # when another writer is active. Reads that say so (read_connection)
        # stay deferred, so WAL lets them run beside a writer.
        read_only = conn.info.pop(_READ, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


class ContentReader(io.RawIOBase):
    """Reads a blob chunk by chunk, one query per chunk; seekable (chunks are CHUNK long)."""

    def __init__(self, engine: Engine, sha256: str) -> None:
        self._engine = engine
        self._sha = sha256
        self._seq = 0
        self._buf = b""
        self._eof = False
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        # Adapters re-read parts of large content (shelf uploads resend missing parts).
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("stored content seeks from the start or current position")
        if offset < 0:
            raise ValueError("negative seek position")
        self._seq, skip = divmod(offset, CHUNK)
        self._buf, self._eof = b"", False
        self._pos = offset
        if skip:
            self._fill()
            self._buf = self._buf[skip:]
        return offset

    def _fill(self) -> None:
        with read_connection(self._engine) as conn:
            data = conn.execute(
                sa.select(schema.blob_chunks.c.data).where(
                    schema.blob_chunks.c.sha256 == self._sha,
                    schema.blob_chunks.c.seq == self._seq,
                )
            ).scalar_one_or_none()
        if data is None:
            self._eof = True
        else:
            self._buf = bytes(data)
            self._seq += 1

    def readinto(self, b: Any) -> int:
        while not self._buf and not self._eof:
            self._fill()
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        self._pos += n
        return n


class Store:
    """Durable state behind a :class:`~edi_bridge.workflow.Bridge`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with self.engine.begin() as conn:
            migrate(conn)

    @classmethod
    def open(cls, location: str | os.PathLike[str] | None = None) -> Store:
        url = database_url(location)
        if url.startswith("sqlite"):
            db_path = url.removeprefix("sqlite:///")
            if db_path and db_path != ":memory:":
                parent = Path(db_path).parent
                if not parent.is_dir():
                    raise ConfigurationError(f"database directory does not exist: {parent}")
            return cls(_sqlite_engine(url))
        try:
            engine = sa.create_engine(url, pool_pre_ping=True)
        except (ImportError, sa.exc.ArgumentError) as exc:
            raise ConfigurationError(
                f"cannot open database {sa.engine.make_url(url).render_as_string()}: {exc}"
            ) from None
        return cls(engine)

    def __repr__(self) -> str:
        # render_as_string hides the password by default.
        return f"<Store {self.engine.url.render_as_string()}>"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction (SQLite: ``BEGIN IMMEDIATE``)."""
        with self.engine.begin() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    # -- content ---------------------------------------------------------

    def put_blob(self, conn: Connection, source: Path | bytes | Iterable[bytes]) -> str:
        """Store content (streamed from a path or chunks); returns its SHA-256.

        Content already stored (same hash) is not written again.
        """
        if not isinstance(source, (Path, bytes)):
            with tempfile.TemporaryFile() as spool:
                for piece in source:
                    spool.write(piece)
                spool.seek(0)
                return self._put_file(conn, spool)
        if isinstance(source, bytes):
            return self._put_file(conn, io.BytesIO(source))
        with source.open("rb") as fh:
            return self._put_file(conn, fh)

    def _put_file(self, conn: Connection, fh: IO[bytes]) -> str:
        digest = hashlib.sha256()
        size = 0
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
        sha = digest.hexdigest()
        exists = conn.execute(_Q.blob_exists, {"sha": sha}).first()
        if exists is None:
            conn.execute(_Q.insert_blob, {"sha256": sha, "size": size, "created_at": utcnow()})
            fh.seek(0)
            for seq, chunk in enumerate(iter(lambda: fh.read(CHUNK), b"")):
                conn.execute(_Q.insert_chunk, {"sha256": sha, "seq": seq, "data": chunk})
        return sha

    def open_blob(self, sha256: str) -> IO[bytes]:
        with read_connection(self.engine) as conn:
            found = conn.execute(
                sa.select(schema.blobs.c.size).where(schema.blobs.c.sha256 == sha256)
            ).first()
        if found is None:
            raise NotFound(f"no content with SHA-256 {sha256}")
        return io.BufferedReader(ContentReader(self.engine, sha256), CHUNK)

    def read_blob(self, conn: Connection, sha256: str) -> bytes:
        """A stored content whole, read over ``conn`` in one query (for small content)."""
        data = b"".join(
            bytes(chunk) for chunk in conn.execute(_Q.chunks, {"sha": sha256}).scalars()
        )
        if not data:
            # Empty content has no chunks; absent content has no blob row either.
            size = conn.execute(
                sa.select(schema.blobs.c.size).where(schema.blobs.c.sha256 == sha256)
            ).scalar_one_or_none()
            if size is None:
                raise NotFound(f"no content with SHA-256 {sha256}")
        return data

    def blob_size(self, sha256: str) -> int:
        with read_connection(self.engine) as conn:
            size = conn.execute(
                sa.select(schema.blobs.c.size).where(schema.blobs.c.sha256 == sha256)
            ).scalar_one_or_none()
        if size is None:
            raise NotFound(f"no content with SHA-256 {sha256}")
        return int(size)

    def exchange_content(self, exchange_id: str) -> IO[bytes]:
        """The exchange's document content, streamed from the store."""
        with self.transaction() as conn:
            row = self.exchange_row(conn, exchange_id)
        return self.open_blob(row.content_sha256)

    def stored_document(self, exchange: Exchange) -> Document:
        """The exchange's document with its stored content, ready to send again."""
        with self.exchange_content(exchange.id) as fh:
            data = fh.read()
        meta = exchange.document
        return Document.from_bytes(
            data,
            file_name=meta.file_name,
            kind=meta.kind,
            number=meta.number,
            date=meta.date,
            media_type=meta.media_type,
            price=meta.price,
        )

    # -- exchanges -------------------------------------------------------

    def insert_exchange(self, conn: Connection, **values: Any) -> None:
        conn.execute(_Q.insert_exchange, values)

    def update_exchange(self, conn: Connection, exchange_id: str, **values: Any) -> None:
        values.setdefault("updated_at", utcnow())
        # The SET clause comes from the parameter names (columns); ``_id`` picks the row.
        conn.execute(_Q.update_exchange, {"_id": exchange_id, **values})

    def exchange_row(
        self, conn: Connection, exchange_id: str, *, for_update: bool = False
    ) -> ExchangeRow:
        locked = for_update and conn.dialect.name != "sqlite"
        row = conn.execute(
            _Q.exchange_locked if locked else _Q.exchange, {"id": exchange_id}
        ).first()
        if row is None:
            raise NotFound(f"no exchange {exchange_id!r}")
        return ExchangeRow.of(row)

    def exchange_id_for_key(self, conn: Connection, key: str) -> str | None:
        return conn.execute(_Q.exchange_by_key, {"key": key}).scalar_one_or_none()

    def exchange_id_for_document(
        self, conn: Connection, provider: str, document_id: str
    ) -> str | None:
        return conn.execute(
            sa.select(schema.exchanges.c.id).where(
                schema.exchanges.c.provider == provider,
                schema.exchanges.c.provider_document_id == document_id,
            )
        ).scalar_one_or_none()

    def exchange_ids(
        self,
        conn: Connection,
        *,
        status: str | Sequence[str] | None = None,
        provider: str | None = None,
        limit: int | None = None,
    ) -> list[str]:
        query = sa.select(schema.exchanges.c.id).order_by(
            schema.exchanges.c.created_at, schema.exchanges.c.id
        )
        if isinstance(status, str):
            query = query.where(schema.exchanges.c.status == status)
        elif status is not None:
            query = query.where(schema.exchanges.c.status.in_(list(status)))
        if provider is not None:
            query = query.where(schema.exchanges.c.provider == provider)
        if limit is not None:
            query = query.limit(limit)
        return list(conn.execute(query).scalars())

    def providers_with(self, conn: Connection, channel: str, statuses: Sequence[str]) -> list[str]:
        """Providers (or carriers) of the channel's exchanges in one of ``statuses``."""
        t = schema.exchanges
        query = (
            sa.select(t.c.provider)
            .where(t.c.channel == str(channel), t.c.status.in_([str(s) for s in statuses]))
            .distinct()
        )
        return sorted(str(p) for p in conn.execute(query).scalars())

    def add_history(
        self,
        conn: Connection,
        exchange_id: str,
        status: str,
        cause: str,
        detail: dict[str, Any] | None = None,
        at: dt.datetime | None = None,
    ) -> None:
        conn.execute(
            _Q.insert_history,
            {
                "exchange_id": exchange_id,
                "status": status,
                "at": at or utcnow(),
                "cause": cause,
                "detail": detail or {},
            },
        )

    def load_exchange(self, conn: Connection, exchange_id: str) -> Exchange:
        row = self.exchange_row(conn, exchange_id)
        hist = conn.execute(_Q.history, {"id": exchange_id}).all()
        sigs = conn.execute(_Q.signatures, {"id": exchange_id}).all()
        return Exchange(
            id=row.id,
            idempotency_key=row.idempotency_key,
            channel=row.channel,
            provider=row.provider,
            counterparty=Counterparty.model_validate(row.counterparty),
            document=Document.model_validate(row.document),
            status=row.status,
            reason=row.reason,
            provider_ref=dict(row.provider_ref or {}),
            previous_id=row.previous_id,
            needs_attention=bool(row.needs_attention),
            last_error=row.last_error,
            created_at=row.created_at,
            updated_at=row.updated_at,
            history=[
                HistoryEntry(status=h.status, at=h.at, cause=h.cause, detail=h.detail or {})
                for h in hist
            ],
            signatures=[
                SignatureRecord(
                    role=s.role,
                    file_name=s.file_name,
                    sha256=s.sha256,
                    size=s.size,
                    at=s.at,
                    verdict=s.verdict,
                )
                for s in sigs
            ],
        )

    # -- signatures ------------------------------------------------------

    def add_signature(
        self,
        conn: Connection,
        exchange_id: str,
        role: str,
        file_name: str,
        content: bytes,
        verdict: dict[str, Any] | None = None,
    ) -> bool:
        """Keep a signature; returns False when the same one is already kept."""
        sha = self.put_blob(conn, content)
        exists = conn.execute(
            _Q.signature_kept, {"id": exchange_id, "role": role, "sha": sha}
        ).first()
        if exists is not None:
            return False
        conn.execute(
            _Q.insert_signature,
            {
                "exchange_id": exchange_id,
                "role": role,
                "file_name": file_name,
                "sha256": sha,
                "size": len(content),
                "at": utcnow(),
                "verdict": verdict,
            },
        )
        return True

    def first_signature(self, conn: Connection, exchange_id: str, role: str) -> bytes | None:
        """The content of the first signature kept for ``exchange_id`` in ``role``."""
        t = schema.signatures
        sha = conn.execute(
            sa.select(t.c.sha256)
            .where(t.c.exchange_id == exchange_id, t.c.role == role)
            .order_by(t.c.id)
            .limit(1)
        ).scalar_one_or_none()
        return None if sha is None else self.read_blob(conn, sha)

    # -- backend events (outbox) ----------------------------------------

    def add_event(
        self,
        conn: Connection,
        *,
        key: str,
        kind: str,
        exchange_id: str,
        status: str,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> bool:
        """Record a change for the backend; a repeated key records nothing."""
        exists = conn.execute(_Q.event_by_key, {"key": key}).first()
        if exists is not None:
            return False
        conn.execute(
            _Q.insert_event,
            {
                "key": key,
                "kind": kind,
                "exchange_id": exchange_id,
                "status": status,
                "at": utcnow(),
                "reason": reason,
                "data": data or {},
            },
        )
        return True

    def events_after(
        self, seq: int = 0, *, limit: int = 1000, undispatched: bool = False
    ) -> list[Event]:
        query = (
            sa.select(schema.events)
            .where(schema.events.c.seq > seq)
            .order_by(schema.events.c.seq)
            .limit(limit)
        )
        if undispatched:
            query = query.where(schema.events.c.dispatched_at.is_(None))
        with read_connection(self.engine) as conn:
            rows = conn.execute(query).all()
        return [
            Event(
                seq=r.seq,
                key=r.key,
                kind=r.kind,
                exchange_id=r.exchange_id,
                status=r.status,
                at=r.at,
                reason=r.reason,
                data=r.data or {},
            )
            for r in rows
        ]

    def last_event_seq(self) -> int:
        with read_connection(self.engine) as conn:
            return int(conn.execute(sa.select(sa.func.max(schema.events.c.seq))).scalar() or 0)

    def count_events_after(self, seq: int = 0) -> int:
        with read_connection(self.engine) as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(schema.events.c.seq > seq)
                ).scalar_one()
            )

    def mark_dispatched(self, seq: int) -> None:
        with self.transaction() as conn:
            conn.execute(
                schema.events.update()
                .where(schema.events.c.seq == seq)
                .values(dispatched_at=utcnow())
            )

    # -- provider feeds --------------------------------------------------

    def claim_provider_event(
        self, conn: Connection, scope: str, event_id: str, exchange_id: str | None
    ) -> bool:
        """True the first time an event id is seen in a feed, False after."""
        exists = conn.execute(
            sa.select(schema.applied_events.c.event_id).where(
                schema.applied_events.c.scope == scope,
                schema.applied_events.c.event_id == event_id,
            )
        ).first()
        if exists is not None:
            return False
        conn.execute(
            schema.applied_events.insert().values(
                scope=scope, event_id=event_id, exchange_id=exchange_id, at=utcnow()
            )
        )
        return True

    def park_early_events(self, conn: Connection, provider: str, events: Iterable[Any]) -> None:
        """Keep events about documents not recorded yet (see schema.early_events)."""
        now = utcnow()
        rows = [
            {
                "provider": provider,
                "document_id": e.document_id,
                "event_id": e.event_id,
                "kind": str(e.kind),
                "at": e.at,
                "reason": e.reason,
                "signature": e.signature,
                "created_at": now,
            }
            for e in events
        ]
        if rows:
            conn.execute(schema.early_events.insert(), rows)

    def take_early_events(
        self, conn: Connection, provider: str, document_id: str
    ) -> list[EarlyEventRow]:
        t = schema.early_events
        match = (t.c.provider == provider, t.c.document_id == document_id)
        rows = [
            EarlyEventRow(
                event_id=r.event_id,
                kind=r.kind,
                document_id=r.document_id,
                at=r.at,
                reason=r.reason,
                signature=None if r.signature is None else bytes(r.signature),
            )
            for r in conn.execute(sa.select(t).where(*match).order_by(t.c.id)).all()
        ]
        if rows:
            conn.execute(t.delete().where(*match))
        return rows

    def prune_early_events(self, conn: Connection, before: dt.datetime) -> int:
        """Events about documents that never became ours (inbound mail) go eventually."""
        t = schema.early_events
        return int(conn.execute(t.delete().where(t.c.created_at < before)).rowcount)

    def cursor_scopes(self) -> list[str]:
        with read_connection(self.engine) as conn:
            return list(conn.execute(sa.select(schema.cursors.c.scope)).scalars())

    def get_cursor(self, scope: str) -> str | None:
        with read_connection(self.engine) as conn:
            return conn.execute(
                sa.select(schema.cursors.c.value).where(schema.cursors.c.scope == scope)
            ).scalar_one_or_none()

    def set_cursor(self, conn: Connection, scope: str, value: str | None) -> None:
        updated = conn.execute(
            schema.cursors.update()
            .where(schema.cursors.c.scope == scope)
            .values(value=value, updated_at=utcnow())
        ).rowcount
        if not updated:
            conn.execute(
                schema.cursors.insert().values(scope=scope, value=value, updated_at=utcnow())
            )

    # -- batched writes for a page of provider events --------------------------

    def exchange_ids_for_documents(
        self, conn: Connection, provider: str, document_ids: Iterable[str]
    ) -> dict[str, str]:
        """{provider document id: exchange id} for those we sent (one query)."""
        wanted = list(set(document_ids))
        if not wanted:
            return {}
        t = schema.exchanges
        rows = conn.execute(
            sa.select(t.c.provider_document_id, t.c.id).where(
                t.c.provider == provider, t.c.provider_document_id.in_(wanted)
            )
        ).all()
        return {str(r.provider_document_id): str(r.id) for r in rows}

    def exchange_rows(
        self, conn: Connection, exchange_ids: Iterable[str], *, for_update: bool = False
    ) -> dict[str, ExchangeRow]:
        wanted = list(set(exchange_ids))
        if not wanted:
            return {}
        query = sa.select(schema.exchanges).where(schema.exchanges.c.id.in_(wanted))
        if for_update and conn.dialect.name != "sqlite":
            query = query.with_for_update()
        return {str(r.id): ExchangeRow.of(r) for r in conn.execute(query).all()}

    def applied_event_ids(self, conn: Connection, scope: str, event_ids: Iterable[str]) -> set[str]:
        """Which of ``event_ids`` were already applied in feed ``scope``."""
        wanted = list(set(event_ids))
        if not wanted:
            return set()
        t = schema.applied_events
        found = conn.execute(
            sa.select(t.c.event_id).where(t.c.scope == scope, t.c.event_id.in_(wanted))
        ).scalars()
        return {str(e) for e in found}

    def add_applied_events(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Record event ids as applied (``scope``, ``event_id``, ``exchange_id``, ``at``)."""
        if rows:
            conn.execute(schema.applied_events.insert(), list(rows))

    def add_history_rows(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Many :meth:`add_history` rows in one statement."""
        if rows:
            conn.execute(schema.history.insert(), list(rows))

    def add_events(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
        """Many :meth:`add_event` rows; keys already recorded (or repeated) record nothing."""
        keys = [r["key"] for r in rows]
        if not keys:
            return 0
        t = schema.events
        seen = {str(k) for k in conn.execute(sa.select(t.c.key).where(t.c.key.in_(keys))).scalars()}
        fresh = []
        for row in rows:
            if row["key"] not in seen:
                seen.add(row["key"])
                fresh.append({"reason": None, "dispatched_at": None, **row})
        if fresh:
            conn.execute(t.insert(), fresh)
        return len(fresh)

    def update_exchanges(self, conn: Connection, changes: Mapping[str, dict[str, Any]]) -> None:
        """Apply ``{exchange id: values}``; rows changing the same columns go in one statement."""
        t = schema.exchanges
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for exchange_id, values in changes.items():
            cols = tuple(sorted(values))
            groups.setdefault(cols, []).append(
                {"_id": exchange_id, **{f"_v_{c}": v for c, v in values.items()}}
            )
        for cols, params in groups.items():
            stmt = (
                t.update()
                .where(t.c.id == sa.bindparam("_id"))
                .values({c: sa.bindparam(f"_v_{c}") for c in cols})
            )
            conn.execute(stmt, params)

    def add_signatures(self, conn: Connection, items: Sequence[dict[str, Any]]) -> list[bool]:
        """Many :meth:`add_signature` calls (``exchange_id``, ``role``, ``file_name``,
        ``content``, optional ``verdict``); returns, per item, whether it was new."""
        if not items:
            return []
        now = utcnow()
        shas = [hashlib.sha256(i["content"]).hexdigest() for i in items]
        b = schema.blobs
        stored = {
            str(s)
            for s in conn.execute(sa.select(b.c.sha256).where(b.c.sha256.in_(set(shas)))).scalars()
        }
        blobs: list[dict[str, Any]] = []
        chunks: list[dict[str, Any]] = []
        for item, sha in zip(items, shas, strict=True):
            if sha in stored:
                continue
            stored.add(sha)
            content = item["content"]
            blobs.append({"sha256": sha, "size": len(content), "created_at": now})
            for seq, start in enumerate(range(0, len(content), CHUNK)):
                chunks.append({"sha256": sha, "seq": seq, "data": content[start : start + CHUNK]})
        if blobs:
            conn.execute(b.insert(), blobs)
            conn.execute(schema.blob_chunks.insert(), chunks)
        s = schema.signatures
        kept = {
            (str(r.exchange_id), str(r.role), str(r.sha256))
            for r in conn.execute(
                sa.select(s.c.exchange_id, s.c.role, s.c.sha256).where(
                    s.c.exchange_id.in_({i["exchange_id"] for i in items}),
                    s.c.sha256.in_(set(shas)),
                )
            )
        }
        rows: list[dict[str, Any]] = []
        added: list[bool] = []
        for item, sha in zip(items, shas, strict=True):
            key = (item["exchange_id"], item["role"], sha)
            added.append(key not in kept)
            if key in kept:
                continue
            kept.add(key)
            rows.append(
                {
                    "exchange_id": item["exchange_id"],
                    "role": item["role"],
                    "file_name": item["file_name"],
                    "sha256": sha,
                    "size": len(item["content"]),
                    "at": now,
                    "verdict": item.get("verdict"),
                }
            )
        if rows:
            conn.execute(s.insert(), rows)
        return added


__all__ = ["DEFAULT_DB", "EarlyEventRow", "ExchangeRow", "Store", "database_url", "utcnow"]
