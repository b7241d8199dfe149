"""Opening the database: URLs, the SQLite engine (WAL, ``BEGIN IMMEDIATE``),
read-only connections, and the base every table family of the store builds on."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..errors import ConfigurationError
from .failures import wrap_errors
from .migrations import migrate

DEFAULT_DB = "edi-bridge.db"
WRITER_WAIT = 30.0  # seconds, SQLite's busy timeout below
CACHE_KIB = 2000  # SQLite's page cache per connection: its default, 2 MB
BATCH_CACHE_KIB = 16 * 1024  # for a transaction that writes a batch (see transaction)


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
        cur.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
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


def open_engine(location: str | os.PathLike[str] | None = None) -> Engine:
    """The engine for ``--db`` / ``EDI_BRIDGE_DB`` (a path or a URL)."""
    url = database_url(location)
    if url.startswith("sqlite"):
        db_path = url.removeprefix("sqlite:///")
        if db_path and db_path != ":memory:":
            parent = Path(db_path).parent
            if not parent.is_dir():
                raise ConfigurationError(f"database directory does not exist: {parent}")
        return _sqlite_engine(url)
    try:
        engine = sa.create_engine(url)
    except (ImportError, sa.exc.ArgumentError) as exc:
        raise ConfigurationError(
            f"cannot open database {sa.engine.make_url(url).render_as_string()}: {exc}"
        ) from None
    _ping_when_idle(engine)
    return engine


# A pooled connection unused for this long is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 2.0
_CHECKED_IN = "edi_bridge.checked_in"


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it sat idle a while.

    A connection the server dropped (a restart, an idle timeout) is replaced before
    it fails a transaction. ``pool_pre_ping`` would ping at every checkout, one round
    trip per transaction (a worker's send is two); one checked in moments ago is
    live, and should it not be, the driver's disconnect error invalidates the pool
    and the next transaction gets a new connection.
    """

    @sa.event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return  # new, or in use moments ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            # The pool replaces the connection (and the others as old) and retries.
            raise sa.exc.DisconnectionError(str(exc)) from exc


class StoreBase:
    """An engine whose database is migrated on open, and its write transactions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = wrap_errors(engine)  # database failures leave as StoreError
        # SQLite has one writer at a time. Threads of this process wait for it here, and
        # go on as soon as the writer before them commits, instead of in SQLite's busy
        # handler, which polls (sleeping 1, 2, 5, 10 ms and longer between tries).
        self._writer = threading.RLock() if engine.dialect.name == "sqlite" else None
        with self.engine.begin() as conn:
            migrate(conn)

    @classmethod
    def open(cls, location: str | os.PathLike[str] | None = None) -> Self:
        return cls(open_engine(location))

    def __repr__(self) -> str:
        # render_as_string hides the password by default.
        return f"<Store {self.engine.url.render_as_string()}>"

    @contextlib.contextmanager
    def transaction(self, *, batch: bool = False) -> Iterator[Connection]:
        """A write transaction (SQLite: ``BEGIN IMMEDIATE``).

        ``batch``: on SQLite, a page cache of up to 16 MiB for this transaction, back to
        2 MB after. A feed transaction of a thousand events touches far more pages than
        2 MB hold, in indexes keyed by random ids; with the default cache it re-reads
        them and spills them to the WAL before the commit writes them again (about half
        the reads and writes of a poll). Memory only, and only while the batch runs:
        what commits, and when, is unchanged.
        """
        writer = self._writer
        # Bounded as SQLite's own wait is: past it, SQLite's busy handling decides.
        held = writer is not None and writer.acquire(timeout=WRITER_WAIT)
        try:
            with self.engine.begin() as conn:
                large = batch and conn.dialect.name == "sqlite"
                if large:
                    conn.exec_driver_sql(f"PRAGMA cache_size=-{BATCH_CACHE_KIB}")
                try:
                    yield conn
                except BaseException:
                    if large:  # the error is the news; the connection may be unusable
                        with contextlib.suppress(Exception):
                            conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")
                    raise
                if large:
                    conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")
        finally:
            if held:
                assert writer is not None
                writer.release()

    def close(self) -> None:
        self.engine.dispose()


__all__ = [
    "DEFAULT_DB",
    "PING_AFTER_IDLE_SECONDS",
    "StoreBase",
    "database_url",
    "open_engine",
    "read_connection",
]
