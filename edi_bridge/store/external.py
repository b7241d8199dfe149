"""Working inside a backend's own transaction.

The backend hands us its SQLAlchemy Connection, or a raw psycopg connection;
we write through it and never commit, roll back or close it: its transaction
decides whether the exchange exists.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.pool import StaticPool

from ..errors import ConfigurationError


@contextlib.contextmanager
def borrowed_connection(connection: Any) -> Iterator[Connection]:
    if isinstance(connection, Connection):
        if not connection.in_transaction():
            raise ConfigurationError(
                "connection: must be inside a transaction (begin() first), "
                "or the exchange would commit on its own"
            )
        yield connection
        return
    module = type(connection).__module__
    if not module.startswith("psycopg"):
        raise ConfigurationError(
            f"connection: expected a SQLAlchemy Connection or a psycopg connection, "
            f"got {type(connection).__name__}"
        )
    # Wrap the psycopg connection without taking ownership. SQLAlchemy would
    # roll back after its first-connect checks and when the wrapper closes;
    # here commit, rollback and close are the backend's alone.
    engine = sa.create_engine(
        "postgresql+psycopg://",
        creator=lambda: connection,
        poolclass=StaticPool,
        pool_reset_on_return=None,
    )
    engine.dialect.do_rollback = _leave_alone  # type: ignore[method-assign,assignment]
    engine.dialect.do_commit = _leave_alone  # type: ignore[method-assign,assignment]
    engine.dialect.do_close = _leave_alone  # type: ignore[method-assign,assignment]
    conn = engine.connect()
    try:
        yield conn
    finally:
        conn.close()
        engine.dispose()


def _leave_alone(_dbapi_connection: Any) -> None:
    return None


__all__ = ["borrowed_connection"]
