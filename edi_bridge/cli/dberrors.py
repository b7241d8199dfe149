"""Database trouble as one line: unreachable, corrupt, read-only, locked, odd schema.

The store wraps database failures in ``StoreError`` (worded by ``store.failures``); what
still reaches the CLI raw (opening an engine elsewhere) is worded here the same way, with
any password in a DSN masked.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import sqlalchemy as sa

from ..masking import MASK, mask_secrets
from .failure import fail

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ..workflow import Bridge


def _url(db: str | None) -> str:
    from ..store import database_url

    return database_url(db)


def where(db: str | None) -> str:
    """The database as shown to a person: a path, or a URL without its password."""
    url = _url(db)
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: show its scheme only
        return url.split("://", 1)[0] + "://…"


def hide_passwords(text: str, db: str | None) -> str:
    """``text`` with the DSN's password (and anything that looks like one) masked."""
    try:
        from sqlalchemy.engine import make_url

        password = make_url(_url(db)).password
    except Exception:
        password = None
    if password:
        text = text.replace(str(password), MASK)
    return str(mask_secrets(text))


def wait_for_lock(db: str | None, wait: float) -> None:
    """If another process holds the SQLite write lock, say so, wait up to ``wait`` s, or fail."""
    url = _url(db)
    if not url.startswith("sqlite:///"):
        return
    path = Path(url.removeprefix("sqlite:///"))
    if not path.is_file():
        return
    if _try_lock(path, 0.0) != "locked":
        return  # free, or a problem the store reports in its own words
    click.echo(
        f"edi-bridge: database {path} is locked by another process; waiting up to {wait:g} s…",
        err=True,
    )
    if _try_lock(path, wait) == "locked":
        fail(
            f"database {path} is still locked by another process after {wait:g} s; "
            "try again when it finishes (--lock-wait S waits longer)"
        )


class LockWatch:
    """Says on stderr, once, when a SQLite transaction waits for another process's lock.

    The store waits up to 30 s for the lock (busy timeout) without a word; a person at the
    terminal should know the command is waiting, not hung.
    """

    def __init__(
        self, engine: Engine, where: str, after: float = 1.0, *, enabled: bool = True
    ) -> None:
        self.engine, self.where, self.after, self.enabled = engine, where, after, enabled
        self._waiting: dict[int, float] = {}  # thread id -> when its BEGIN started
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="lock-watch", daemon=True)

    def __enter__(self) -> LockWatch:
        if self.enabled and self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "before_cursor_execute", self._before)
            sa.event.listen(self.engine, "after_cursor_execute", self._after)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
            sa.event.remove(self.engine, "before_cursor_execute", self._before)
            sa.event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN"):
            self._waiting[threading.get_ident()] = time.monotonic()

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN"):
            self._waiting.pop(threading.get_ident(), None)

    def _watch(self) -> None:
        while not self._stop.wait(0.25):
            started = list(self._waiting.values())
            if started and time.monotonic() - min(started) > self.after:
                click.echo(
                    f"edi-bridge: database {self.where} is locked by another process; "
                    "waiting for it…",
                    err=True,
                )
                self._stop.wait(30)  # the busy timeout: say it again only if it lasts


def _try_lock(path: Path, timeout: float) -> str:
    try:
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    except sqlite3.Error:
        return "error"
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return "free"
    except sqlite3.OperationalError as exc:
        return "locked" if "locked" in str(exc).lower() else "error"
    except sqlite3.Error:
        return "error"
    finally:
        conn.close()


def database_message(exc: BaseException, db: str | None) -> str | None:
    """One line for a database failure; None when ``exc`` is not one."""
    import sqlalchemy.exc as sa_exc

    if not isinstance(exc, sa_exc.SQLAlchemyError | sqlite3.Error) and not _driver_error(exc):
        return None
    from ..store.failures import describe

    message = describe(exc, where(db))
    return hide_passwords(message, db)


def _driver_error(exc: BaseException) -> bool:
    # psycopg's errors, without importing psycopg when it is not installed.
    return type(exc).__module__.split(".")[0] == "psycopg"


def unreadable_schema(exc: BaseException, db: str | None) -> str:
    return hide_passwords(
        f"database {where(db)} has a schema version edi-bridge cannot read ({exc}); "
        "it was damaged or written by something else",
        db,
    )


def last_seq(bridge: Bridge) -> int:
    """The newest event's sequence number (what a Ctrl-C summary and poll start after)."""
    return bridge.last_event_seq()


__all__ = [
    "LockWatch",
    "database_message",
    "hide_passwords",
    "last_seq",
    "unreadable_schema",
    "wait_for_lock",
    "where",
]
