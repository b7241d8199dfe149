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

import re
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


_IN_CACHE: dict[tuple[int, str, int, str], tuple[str, tuple[str, ...], dict[str, Any], bool]] = {}
_NAMED = re.compile(r"%\((\w+)\)s")


def rows_in(
    conn: Connection,
    stmt: Any,
    name: str,
    values: Sequence[Any],
    params: Mapping[str, Any] | None = None,
) -> list[Any]:
    """The rows of ``stmt`` (a SELECT built once and kept, with one expanding
    parameter ``name``) for ``values`` and the other ``params``, as the driver returns
    them (no result types: for columns of plain text and numbers).

    SQLAlchemy renders an expanding parameter on every execution; here the SQL is
    rendered once per statement, dialect and length, the list padded to a power of
    two by repeating its last value (the same rows: IN ignores repeats), so a
    statement has a few renderings, not one per page length.
    """
    if not values:
        return []
    given = params or {}
    size = 1 << (len(values) - 1).bit_length()
    dialect = conn.dialect
    key = (id(stmt), name, size, dialect.name)
    found = _IN_CACHE.get(key)
    if found is None:
        # Rendering needs a value for every parameter: placeholders, never the real ones.
        sample = stmt.params({**dict.fromkeys(given, ""), name: [""] * size})
        compiled = sample.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        positional = bool(compiled.positional)
        sql = compiled.string
        names = tuple(compiled.positiontup) if positional else tuple(_NAMED.findall(sql))
        # Values the statement carries itself (a JSON path), as the driver takes them.
        fixed: dict[str, Any] = {}
        for n, bind in compiled.binds.items():
            if n in names and n not in given:
                proc = bind.type._cached_bind_processor(dialect)
                value = bind.effective_value
                fixed[n] = value if proc is None else proc(value)
        _KEEP[id(stmt)] = stmt
        found = _IN_CACHE[key] = (sql, names, fixed, positional)
    sql, names, fixed, positional = found
    padded = [*values, *([values[-1]] * (size - len(values)))]
    every = {**fixed, **given, **{f"{name}_{i + 1}": v for i, v in enumerate(padded)}}
    bound: Any = tuple(every[n] for n in names) if positional else {n: every[n] for n in names}
    return list(conn.exec_driver_sql(sql, bound).fetchall())


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


__all__ = ["bind_processor", "execute_many", "insert_ignoring", "rows_in"]
