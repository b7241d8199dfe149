"""Exchanges, their history and their signatures (``edi_exchanges``,
``edi_history``, ``edi_signatures``), read as typed rows and models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any, Unpack

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import NotFound
from ..models import Counterparty, Document, Exchange, HistoryEntry, SignatureRecord
from . import schema
from .blobs import BlobStore
from .bulk import execute_many, insert_ignoring, rows_in
from .clock import utcnow
from .limits import clean_text, fit_id, fit_name
from .rows import (
    ExchangeChanges,
    ExchangeRow,
    ExchangeState,
    HistoryInsert,
    NewExchange,
    SignatureAuthority,
    SignatureInsert,
    poa_files,
    poa_json,
)


class _Q:
    """Statements built once: building one per call costs more than running it."""

    _x = schema.exchanges
    exchange = sa.select(_x).where(_x.c.id == sa.bindparam("id"))
    exchange_locked = exchange.with_for_update()
    exchange_by_key = sa.select(_x.c.id).where(_x.c.idempotency_key == sa.bindparam("key"))
    update_exchange = _x.update().where(_x.c.id == sa.bindparam("_id"))
    insert_exchange = _x.insert()
    history = (
        sa.select(schema.history)
        .where(schema.history.c.exchange_id == sa.bindparam("id"))
        .order_by(schema.history.c.id)
    )
    _s = schema.signatures
    insert_history = schema.history.insert()
    insert_signature = _s.insert()
    signatures = sa.select(_s).where(_s.c.exchange_id == sa.bindparam("id")).order_by(_s.c.id)
    first_signature = (
        sa.select(_s.c.sha256)
        .where(_s.c.exchange_id == sa.bindparam("id"), _s.c.role == sa.bindparam("role"))
        .order_by(_s.c.id)
        .limit(1)
    )
    histories = (
        sa.select(schema.history)
        .where(schema.history.c.exchange_id.in_(sa.bindparam("ids", expanding=True)))
        .order_by(schema.history.c.id)
    )
    signatures_of = (
        sa.select(_s)
        .where(_s.c.exchange_id.in_(sa.bindparam("ids", expanding=True)))
        .order_by(_s.c.id)
    )
    # IN lists as one expanding parameter each: compiled once, not per call.
    signatures_kept = sa.select(_s.c.exchange_id, _s.c.role, _s.c.sha256).where(
        _s.c.exchange_id.in_(sa.bindparam("ids", expanding=True)),
        _s.c.sha256.in_(sa.bindparam("shas", expanding=True)),
    )
    states = sa.select(_x.c.id, _x.c.channel, _x.c.status, _x.c.document["file_name"].as_string())
    states = states.where(_x.c.id.in_(sa.bindparam("ids", expanding=True)))
    states_locked = states.with_for_update()


# Batch updates by the columns they set, built once (execute_many caches by statement).
_UPDATES: dict[tuple[str, ...], sa.Update] = {}


def _clean_changes(values: ExchangeChanges) -> ExchangeChanges:
    """Operators' text (a refusal reason, an error) cleaned in place before it is written."""
    if "reason" in values:
        values["reason"] = clean_text(values["reason"])
    if "last_error" in values:
        values["last_error"] = clean_text(values["last_error"])
    # The operator's id of the document: fitted as every lookup fits it.
    if values.get("provider_document_id"):
        values["provider_document_id"] = fit_id(str(values["provider_document_id"]))
    return values


class ExchangeStore(BlobStore):
    """The exchange table family."""

    def insert_exchange(self, conn: Connection, **values: Unpack[NewExchange]) -> None:
        conn.execute(_Q.insert_exchange, dict(values))

    def insert_exchange_new(self, conn: Connection, **values: Unpack[NewExchange]) -> bool:
        """Insert unless the idempotency key is taken (False then, nothing written): ON
        CONFLICT DO NOTHING, so a send needs no look-up statement before it."""
        stmt = insert_ignoring(conn, schema.exchanges)
        if stmt is None:  # a database without ON CONFLICT: look up first
            if self.exchange_id_for_key(conn, values["idempotency_key"]) is not None:
                return False
            stmt = _Q.insert_exchange
        return bool(conn.execute(stmt, dict(values)).rowcount)

    def update_exchange(
        self, conn: Connection, exchange_id: str, **values: Unpack[ExchangeChanges]
    ) -> None:
        values.setdefault("updated_at", utcnow())
        _clean_changes(values)
        # The SET clause comes from the parameter names (columns); ``_id`` picks the row.
        conn.execute(_Q.update_exchange, {"_id": exchange_id, **values})

    def update_exchanges(self, conn: Connection, changes: Mapping[str, ExchangeChanges]) -> None:
        """Apply ``{exchange id: values}``; rows changing the same columns go in one statement."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for exchange_id, values in changes.items():
            values = _clean_changes(ExchangeChanges(**values))
            cols = tuple(sorted(values))
            groups.setdefault(cols, []).append(
                {"_id": exchange_id, **{f"_v_{c}": v for c, v in values.items()}}
            )
        for cols, params in groups.items():
            stmt = _UPDATES.get(cols)
            if stmt is None:
                t = schema.exchanges
                stmt = _UPDATES[cols] = (
                    t.update()
                    .where(t.c.id == sa.bindparam("_id"))
                    .values({c: sa.bindparam(f"_v_{c}") for c in cols})
                )
            execute_many(conn, stmt, params)

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

    def exchange_states(
        self, conn: Connection, exchange_ids: Iterable[str], *, for_update: bool = False
    ) -> dict[str, ExchangeState]:
        """Status, channel and file name of many exchanges (the feed's batch reads only these)."""
        wanted = list(set(exchange_ids))
        if not wanted:
            return {}
        locked = for_update and conn.dialect.name != "sqlite"
        query = _Q.states_locked if locked else _Q.states
        return {
            str(r[0]): ExchangeState(str(r[0]), str(r[1]), str(r[2]), str(r[3]))
            for r in rows_in(conn, query, "ids", wanted)
        }

    def exchange_id_for_key(self, conn: Connection, key: str) -> str | None:
        return conn.execute(_Q.exchange_by_key, {"key": key}).scalar_one_or_none()

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

    def provider_refs(
        self, conn: Connection, provider: str, statuses: Sequence[str]
    ) -> list[dict[str, str]]:
        """The operator references of ``provider``'s exchanges in one of ``statuses``."""
        t = schema.exchanges
        query = sa.select(t.c.provider_ref).where(
            t.c.provider == provider, t.c.status.in_([str(s) for s in statuses])
        )
        return [dict(r) for r in conn.execute(query).scalars() if r]

    def unfinished_flows(
        self, conn: Connection, provider: str, statuses: Sequence[str], step: str, limit: int
    ) -> list[tuple[str, str, dict[str, str]]]:
        """(id, status, provider_ref) of ``provider``'s exchanges in ``statuses`` with no
        history row of ``step`` (their operator's document flow not recorded finished),
        the oldest first."""
        t, h = schema.exchanges, schema.history
        done = sa.select(h.c.id).where(h.c.exchange_id == t.c.id, h.c.status == step).exists()
        query = (
            sa.select(t.c.id, t.c.status, t.c.provider_ref)
            .where(t.c.provider == provider, t.c.status.in_([str(s) for s in statuses]), ~done)
            .order_by(t.c.updated_at, t.c.id)
            .limit(limit)
        )
        return [(str(i), str(s), dict(r or {})) for i, s, r in conn.execute(query)]

    def providers_with(self, conn: Connection, channel: str, statuses: Sequence[str]) -> list[str]:
        """Providers (or carriers) of the channel's exchanges in one of ``statuses``."""
        t = schema.exchanges
        query = (
            sa.select(t.c.provider)
            .where(t.c.channel == str(channel), t.c.status.in_([str(s) for s in statuses]))
            .distinct()
        )
        return sorted(str(p) for p in conn.execute(query).scalars())

    def load_exchange(self, conn: Connection, exchange_id: str) -> Exchange:
        row = self.exchange_row(conn, exchange_id)
        hist = conn.execute(_Q.history, {"id": exchange_id}).all()
        sigs = conn.execute(_Q.signatures, {"id": exchange_id}).all()
        return _exchange(row, hist, sigs)

    def load_exchanges(self, conn: Connection, exchange_ids: Iterable[str]) -> dict[str, Exchange]:
        """Many exchanges in three statements (rows, history, signatures), by id; ids
        not stored are left out."""
        wanted = list(set(exchange_ids))
        if not wanted:
            return {}
        rows = self.exchange_rows(conn, wanted)
        hist: dict[str, list[Any]] = {i: [] for i in rows}
        sigs: dict[str, list[Any]] = {i: [] for i in rows}
        for h in conn.execute(_Q.histories, {"ids": wanted}):
            hist[str(h.exchange_id)].append(h)
        for g in conn.execute(_Q.signatures_of, {"ids": wanted}):
            sigs[str(g.exchange_id)].append(g)
        return {i: _exchange(r, hist[i], sigs[i]) for i, r in rows.items()}

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

    def add_history(
        self,
        conn: Connection,
        exchange_id: str,
        status: str,
        cause: str,
        detail: dict[str, Any] | None = None,
        at: dt.datetime | None = None,
    ) -> None:
        row = HistoryInsert(
            exchange_id=exchange_id,
            status=status,
            at=at or utcnow(),
            cause=cause,
            detail=detail or {},
        )
        self.add_history_rows(conn, [row])

    def add_history_rows(self, conn: Connection, rows: Sequence[HistoryInsert]) -> None:
        """History rows, in one statement."""
        if rows:
            execute_many(
                conn, _Q.insert_history, [{**r, "cause": clean_text(r["cause"])} for r in rows]
            )

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
        item = SignatureInsert(
            exchange_id=exchange_id,
            role=role,
            file_name=file_name,
            content=content,
            verdict=verdict,
        )
        return self.add_signatures(conn, [item]) == 1

    def add_signatures(self, conn: Connection, items: Sequence[SignatureInsert]) -> int:
        """Keep signatures with a few statements; one already kept (same exchange, role
        and content) is not kept again. Returns how many were new."""
        if not items:
            return 0
        now = utcnow()
        shas = self.put_blobs(conn, [i["content"] for i in items], [i.get("sha256") for i in items])
        insert = insert_ignoring(conn, schema.signatures)
        kept: set[tuple[str, str, str]] = set()
        if insert is None:  # neither SQLite nor PostgreSQL: look first
            ids = list({i["exchange_id"] for i in items})
            found = conn.execute(_Q.signatures_kept, {"ids": ids, "shas": list(set(shas))})
            kept = {(str(r.exchange_id), str(r.role), str(r.sha256)) for r in found}
            insert = _Q.insert_signature
        # Otherwise the unique (exchange, role, content) makes the database skip a kept one.
        rows: list[dict[str, Any]] = []
        for item, sha in zip(items, shas, strict=True):
            key = (item["exchange_id"], item["role"], sha)
            if key in kept:
                continue
            kept.add(key)
            rows.append(
                {
                    "exchange_id": item["exchange_id"],
                    "role": item["role"],
                    "file_name": fit_name(item["file_name"]),
                    "sha256": sha,
                    "size": len(item["content"]),
                    "at": now,
                    "verdict": item["verdict"],
                    "powers_of_attorney": poa_json(item.get("powers_of_attorney") or ()),
                    "operator_status": item.get("operator_status"),
                }
            )
        return execute_many(conn, insert, rows)

    def first_signature(self, conn: Connection, exchange_id: str, role: str) -> bytes | None:
        """The content of the first signature kept for ``exchange_id`` in ``role``."""
        sha = conn.execute(_Q.first_signature, {"id": exchange_id, "role": role}).scalar()
        return None if sha is None else self.read_blob(conn, sha)

    def signature_authority(
        self, conn: Connection, exchange_id: str, role: str
    ) -> SignatureAuthority:
        """The МЧД and operator status kept with the first signature in ``role``."""
        t = schema.signatures
        row = conn.execute(
            sa.select(t.c.powers_of_attorney, t.c.operator_status)
            .where(t.c.exchange_id == exchange_id, t.c.role == role)
            .order_by(t.c.id)
            .limit(1)
        ).one_or_none()
        if row is None:
            return SignatureAuthority()
        status = row.operator_status if isinstance(row.operator_status, dict) else None
        return SignatureAuthority(poa_files(row.powers_of_attorney), status)


def _exchange(row: ExchangeRow, hist: Sequence[Any], sigs: Sequence[Any]) -> Exchange:
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
        attempts=int(row.attempts or 0),
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


__all__ = ["ExchangeStore"]
