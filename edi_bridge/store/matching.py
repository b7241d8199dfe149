"""Finding our exchanges by the operator's document ids: what a feed page, the
quarantine and the paper desk ask before they apply news about a document."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import schema
from .bulk import rows_in
from .engine import StoreBase
from .limits import fit_id
from .rows import ExchangeState

_x = schema.exchanges
_OF_DOCUMENTS = (
    _x.c.provider == sa.bindparam("provider"),
    _x.c.provider_document_id.in_(sa.bindparam("ids", expanding=True)),
)
_IDS = sa.select(_x.c.provider_document_id, _x.c.id).where(*_OF_DOCUMENTS)
_STATES = sa.select(
    _x.c.provider_document_id,
    _x.c.id,
    _x.c.channel,
    _x.c.status,
    _x.c.document["file_name"].as_string(),
).where(*_OF_DOCUMENTS)
_STATES_LOCKED = _STATES.with_for_update()


def _fitted(document_ids: Iterable[str]) -> dict[str, set[str]]:
    # Stored ids are fitted (see limits.fit_id): look them up fitted, answer as asked.
    wanted: dict[str, set[str]] = {}
    for d in document_ids:
        wanted.setdefault(fit_id(d), set()).add(d)
    return wanted


class MatchStore(StoreBase):
    """Look-ups of ``edi_exchanges`` by (provider, provider document id)."""

    def exchange_id_for_document(
        self, conn: Connection, provider: str, document_id: str
    ) -> str | None:
        return self.exchange_ids_for_documents(conn, provider, [document_id]).get(document_id)

    def exchange_ids_for_documents(
        self, conn: Connection, provider: str, document_ids: Iterable[str]
    ) -> dict[str, str]:
        """{provider document id: exchange id} for those we sent (one query)."""
        wanted = _fitted(document_ids)
        rows = rows_in(conn, _IDS, "ids", list(wanted), {"provider": provider})
        return {asked: str(i) for d, i in rows for asked in wanted.get(str(d), ())}

    def exchange_states_for_documents(
        self,
        conn: Connection,
        provider: str,
        document_ids: Iterable[str],
        *,
        for_update: bool = False,
    ) -> dict[str, ExchangeState]:
        """{provider document id: state} for those we sent, in one query: the ids and what
        the batch writer needs (a feed page reads both)."""
        wanted = _fitted(document_ids)
        locked = for_update and conn.dialect.name != "sqlite"
        query = _STATES_LOCKED if locked else _STATES
        rows = rows_in(conn, query, "ids", list(wanted), {"provider": provider})
        return {
            asked: ExchangeState(str(r[1]), str(r[2]), str(r[3]), str(r[4]))
            for r in rows
            for asked in wanted.get(str(r[0]), ())
        }


__all__ = ["MatchStore"]
