"""Database failures as :class:`~edi_bridge.errors.StoreError`: one line that says what is
wrong and what to do, with the DSN's password masked.

Every engine the store opens gets a ``handle_error`` hook (:func:`wrap_errors`), so a driver
or SQLAlchemy exception never leaves the library raw, whichever table family raised it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from ..errors import DuplicateRecord, StoreError
from ..masking import MASK, mask_secrets


def where(url: URL) -> str:
    """The database as shown to a person: a path, or a URL without its password."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


def describe(exc: BaseException, at: str) -> str:
    """One sentence for a database failure ``exc`` on the database shown as ``at``."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    low = text.lower()
    if "locked" in low:
        return f"database {at} is locked by another process; try again when it finishes"
    if "readonly" in low or "read-only" in low:
        return (
            f"database {at} is read-only: edi-bridge writes to it "
            "(and to its directory, for the -wal and -shm files)"
        )
    if "not a database" in low or "malformed" in low or "disk image" in low:
        return (
            f"database {at} is damaged or not an edi-bridge database ({text}); "
            "restore it from a backup or point --db elsewhere"
        )
    if "unable to open" in low and Path(at).is_file():
        # The file is there but SQLite cannot open it for writing (nor its -wal/-shm).
        return (
            f"database {at} is read-only or in a read-only directory: edi-bridge writes to "
            "it and to the -wal and -shm files beside it"
        )
    if "unable to open" in low:
        return f"cannot open database {at}: check the path and its permissions"
    if isinstance(exc, sa.exc.IntegrityError):
        return f"database {at} refused a duplicate or inconsistent record: {text}"
    if isinstance(exc, sa.exc.ProgrammingError | sa.exc.NoSuchTableError):
        return f"database {at} does not look like an edi-bridge database: {text}"
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return f"cannot reach database {at}: {text}"
    return f"database {at} failed: {text}"


def hide_password(text: str, url: URL) -> str:
    if url.password:
        text = text.replace(str(url.password), MASK)
    return str(mask_secrets(text))


def store_error(exc: BaseException, url: URL) -> StoreError:
    """The :class:`StoreError` (or :class:`DuplicateRecord`) that stands for ``exc``."""
    kind = DuplicateRecord if isinstance(exc, sa.exc.IntegrityError) else StoreError
    return kind(hide_password(describe(exc, where(url)), url))


def _wrap(context: Any) -> None:
    exc = context.sqlalchemy_exception
    if exc is None or getattr(context, "is_pre_ping", False):
        return  # not the database's error; or the pool's liveness check, which reconnects
    engine = context.engine
    url = engine.url if engine is not None else sa.engine.make_url("sqlite://")
    raise store_error(exc, url) from exc


def wrap_errors(engine: Engine) -> Engine:
    """Make ``engine`` raise :class:`StoreError` instead of driver and SQLAlchemy errors."""
    if not sa.event.contains(engine, "handle_error", _wrap):
        sa.event.listen(engine, "handle_error", _wrap)
    return engine


__all__ = ["describe", "hide_password", "store_error", "where", "wrap_errors"]
