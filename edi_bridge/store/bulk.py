"""Many rows through one statement, without SQLAlchemy's per-row parameter work.

``conn.execute(table.insert(), rows)`` builds and type-processes a parameter
dictionary per row; for the feed's batches (history, outbox, signatures,
applied event ids) that cost more than the database itself. Here a statement is
compiled once per (statement, columns, dialect), each column's bind processor
(the UTC datetime, JSON) is looked up once, and the rows go to the driver as
tuples or dictionaries through ``exec_driver_sql``: same SQL, same transaction,
same values as SQLAlchemy would have bound.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_Processor = Callable[[Any], Any] | None
_Compiled = tuple[str, tuple[str, ...], tuple[_Processor, ...], bool]
_CACHE: dict[tuple[int, tuple[str, ...], str], _Compiled] = {}
_KEEP: dict[int, sa.sql.expression.Executable] = {}  # keeps cached statements' ids valid


def _compile(conn: Connection, stmt: Any, keys: tuple[str, ...]) -> _Compiled:
    dialect = conn.dialect
    cache_key = (id(stmt), keys, dialect.name)
    found = _CACHE.get(cache_key)
    if found is not None:
        return found
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    positional = bool(compiled.positional)
    names = tuple(compiled.positiontup) if positional else keys
    binds = compiled.binds
    procs = tuple(binds[n].type._cached_bind_processor(dialect) for n in names)
    result = (compiled.string, names, procs, positional)
    _KEEP[id(stmt)] = stmt
    _CACHE[cache_key] = result
    return result


def execute_many(
    conn: Connection,
    stmt: Any,
    rows: Sequence[Mapping[str, Any]],
    *,
    bound: Collection[str] = (),
) -> int:
    """Run ``stmt`` once per row (an executemany); every row has the same keys.

    ``stmt`` must be built once and kept (module level): it is cached by identity.
    Columns named in ``bound`` already hold what the driver takes (see
    :func:`bind_processor`); the others are converted here, column by column, a
    value repeated from the row before (the batch's one timestamp) converted once.
    Returns the rows the statement changed.
    """
    if not rows:
        return 0
    keys = tuple(rows[0])
    sql, names, procs, positional = _compile(conn, stmt, keys)
    columns: list[list[Any]] = []
    for name, proc in zip(names, procs, strict=True):
        values = [r[name] for r in rows]
        if proc is not None and name not in bound:
            values = _converted(values, proc)
        columns.append(values)
    params: list[Any] = list(zip(*columns, strict=True))
    if not positional:
        params = [dict(zip(names, p, strict=True)) for p in params]
    return int(conn.exec_driver_sql(sql, params).rowcount)


_IGNORING: dict[tuple[str, str], Any] = {}


def insert_ignoring(conn: Connection, table: sa.Table) -> Any | None:
    """``INSERT … ON CONFLICT DO NOTHING`` for ``table`` on SQLite and PostgreSQL (None
    elsewhere): a row whose key is already stored is skipped by the database, so
    no look-up statement runs first. Built once per table and dialect."""
    name = conn.dialect.name
    key = (table.name, name)
    stmt = _IGNORING.get(key)
    if stmt is None:
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        elif name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
        else:
            return None
        stmt = _IGNORING[key] = insert(table).on_conflict_do_nothing()
    return stmt


_NOTHING = object()


def _converted(values: list[Any], proc: Callable[[Any], Any]) -> list[Any]:
    last: Any = _NOTHING
    out: Any = None
    converted = []
    for value in values:
        if value is not last:
            last, out = value, proc(value)
        converted.append(out)
    return converted


def bind_processor(conn: Connection, column: sa.Column[Any]) -> Callable[[Any], Any]:
    """How ``column``'s type turns a value into the driver's (JSON: encoded once per value)."""
    proc = column.type._cached_bind_processor(conn.dialect)
    return (lambda v: v) if proc is None else proc


__all__ = ["bind_processor", "execute_many", "insert_ignoring"]
