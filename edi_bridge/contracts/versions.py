"""Versions of a contract draft: v1 sent for review, v2 after adjustments, and so on.

Each version keeps the merge fields and the SHA-256 of one render
(:class:`~edi_bridge.contracts.Rendered`); :meth:`Drafts.diff` compares two
versions field by field; :meth:`Drafts.agree` marks the one that goes out; an
exchange records which version it carries (:meth:`Drafts.attach`); a version
made after a rejection names the rejected exchange (``after_exchange``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import NotFound, ValidationError
from ..lifecycle import ExchangeStatus
from ..store import Store, schema, utcnow
from .render import Rendered

DRAFT_NAME = re.compile(r"^[\w.\-/]{1,200}$")
ANSWERED = frozenset({ExchangeStatus.REJECTED, ExchangeStatus.REVOKED})
"""Statuses of an exchange a new version may answer."""


@dataclasses.dataclass(frozen=True)
class Version:
    """One version of a draft."""

    draft: str
    version: int
    sha256: str
    fields: dict[str, Any]
    created_at: dt.datetime
    agreed_at: dt.datetime | None = None
    note: str | None = None
    after_exchange_id: str | None = None

    @property
    def agreed(self) -> bool:
        return self.agreed_at is not None

    def as_json(self) -> dict[str, Any]:
        return {
            "draft": self.draft,
            "version": self.version,
            "sha256": self.sha256,
            "agreed": self.agreed,
            "agreed_at": self.agreed_at.isoformat() if self.agreed_at else None,
            "after_exchange_id": self.after_exchange_id,
            "note": self.note,
            "created_at": self.created_at.isoformat(),
            "fields": self.fields,
        }


@dataclasses.dataclass(frozen=True)
class FieldChange:
    """A merge field that differs between two versions (None: absent)."""

    field: str
    before: Any
    after: Any


def _row(row: Any) -> Version:
    return Version(
        draft=row.draft,
        version=row.version,
        sha256=row.sha256,
        fields=dict(row.fields),
        created_at=row.created_at,
        agreed_at=row.agreed_at,
        note=row.note,
        after_exchange_id=row.after_exchange_id,
    )


class Drafts:
    """Contract drafts and their versions, in the same store as the exchanges."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(
        self,
        draft: str,
        fields: Mapping[str, Any],
        sha256: str,
        *,
        after_exchange: str | None = None,
        note: str | None = None,
    ) -> Version:
        """Record the next version of ``draft`` (v1 when it is new)."""
        if not DRAFT_NAME.match(draft):
            raise ValidationError("draft", "1-200 letters, digits, '.', '-', '_' or '/'")
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValidationError("sha256", "must be 64 lowercase hex digits")
        t = schema.contract_versions
        with self.store.transaction() as conn:
            if after_exchange is not None:
                status = self.store.exchange_row(conn, after_exchange).status
                if status not in ANSWERED:
                    raise ValidationError(
                        "after_exchange",
                        f"{after_exchange} is {status}; a new version answers a rejected "
                        "or revoked exchange",
                    )
            last = conn.execute(
                sa.select(sa.func.max(t.c.version)).where(t.c.draft == draft)
            ).scalar_one_or_none()
            number = (last or 0) + 1
            conn.execute(
                t.insert().values(
                    draft=draft,
                    version=number,
                    sha256=sha256,
                    fields=dict(fields),
                    note=note,
                    after_exchange_id=after_exchange,
                    created_at=utcnow(),
                )
            )
            return self._get(conn, draft, number)

    def add_rendered(
        self, draft: str, rendered: Rendered, *, after_exchange: str | None = None
    ) -> Version:
        """Record a render as the next version of ``draft``."""
        return self.add(draft, rendered.fields, rendered.sha256, after_exchange=after_exchange)

    def versions(self, draft: str) -> list[Version]:
        t = schema.contract_versions
        with self.store.transaction() as conn:
            rows = conn.execute(sa.select(t).where(t.c.draft == draft).order_by(t.c.version)).all()
        if not rows:
            raise NotFound(f"no contract draft {draft!r}")
        return [_row(r) for r in rows]

    def get(self, draft: str, version: int) -> Version:
        with self.store.transaction() as conn:
            return self._get(conn, draft, version)

    def _get(self, conn: Connection, draft: str, version: int) -> Version:
        t = schema.contract_versions
        row = conn.execute(
            sa.select(t).where(t.c.draft == draft, t.c.version == version)
        ).one_or_none()
        if row is None:
            raise NotFound(f"contract draft {draft!r} has no version {version}")
        return _row(row)

    def diff(self, draft: str, before: int, after: int) -> list[FieldChange]:
        """The merge fields that differ between two versions, by field name."""
        old, new = self.get(draft, before).fields, self.get(draft, after).fields
        return [
            FieldChange(name, old.get(name), new.get(name))
            for name in sorted(set(old) | set(new))
            if old.get(name) != new.get(name)
        ]

    def agree(self, draft: str, version: int) -> Version:
        """Mark ``version`` as the one that goes out (any earlier mark moves to it)."""
        t = schema.contract_versions
        with self.store.transaction() as conn:
            self._get(conn, draft, version)
            conn.execute(t.update().where(t.c.draft == draft).values(agreed_at=None))
            conn.execute(
                t.update()
                .where(t.c.draft == draft, t.c.version == version)
                .values(agreed_at=utcnow())
            )
            return self._get(conn, draft, version)

    def agreed(self, draft: str) -> Version | None:
        return next((v for v in self.versions(draft) if v.agreed), None)

    def attach(self, exchange_id: str, draft: str, version: int | None = None) -> Version:
        """Record that ``exchange_id`` carries ``version`` (default: the agreed one)."""
        chosen = self.get(draft, version) if version is not None else self.agreed(draft)
        if chosen is None:
            raise ValidationError("version", f"draft {draft!r} has no agreed version; agree first")
        if not chosen.agreed:
            raise ValidationError(
                "version", f"v{chosen.version} of {draft!r} is not the agreed version"
            )
        t = schema.exchange_versions
        with self.store.transaction() as conn:
            self.store.exchange_row(conn, exchange_id)  # NotFound for an unknown id
            conn.execute(t.delete().where(t.c.exchange_id == exchange_id))
            conn.execute(
                t.insert().values(exchange_id=exchange_id, draft=draft, version=chosen.version)
            )
        return chosen

    def for_exchange(self, exchange_id: str) -> Version | None:
        """The version an exchange carries, if one was recorded."""
        t = schema.exchange_versions
        with self.store.transaction() as conn:
            link = conn.execute(
                sa.select(t.c.draft, t.c.version).where(t.c.exchange_id == exchange_id)
            ).one_or_none()
            return None if link is None else self._get(conn, link.draft, link.version)


__all__ = ["ANSWERED", "Drafts", "FieldChange", "Version"]
