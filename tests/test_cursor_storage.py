"""An operator's cursor that a backend cannot store as it is (a NUL or another control
character, a lone surrogate from JSON, the encoding's own prefix) is kept in a reversible
encoding: the feed gets back exactly the cursor the operator gave, on SQLite and
PostgreSQL alike, and no poll after it fails."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa

from edi_bridge import Bridge
from edi_bridge.provider import EventPage
from edi_bridge.store import schema
from edi_bridge.store.limits import CURSOR_ENCODED
from edi_bridge.testing import sample_contract, sample_counterparty

ODD = [
    "idx\x00key",
    "\x1b[31mred\x7f",
    "half \ud800 pair",
    CURSOR_ENCODED + "aGk=",
    "ключ-" + "z" * 5000,  # plain, long: the column has no length to fit
]


def _round_trip(db: str | Path) -> None:
    with Bridge.open(db) as bridge:
        store = bridge.store
        for n, cursor in enumerate(ODD):
            with store.transaction() as conn:
                store.set_cursor(conn, f"feed-{n}", cursor)
            assert store.get_cursor(f"feed-{n}") == cursor
        with store.engine.connect() as conn:
            rows = conn.execute(sa.select(schema.cursors.c.scope, schema.cursors.c.value))
            kept = {scope: value for scope, value in rows}
        assert "\x00" not in kept["feed-0"]
        assert kept["feed-4"] == ODD[4]  # a cursor a backend keeps is stored as it is


def test_cursors_a_backend_cannot_keep_round_trip_exactly_on_sqlite(tmp_path: Path) -> None:
    _round_trip(tmp_path / "edi.db")


def test_cursors_a_backend_cannot_keep_round_trip_exactly_on_postgresql(
    postgres_url: str,
) -> None:
    _round_trip(postgres_url)


def _feed_case(db: str | Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = "\x00\ud800|"  # what an operator put in front of its cursor
    given: list[str | None] = []
    with Bridge.open(db) as bridge:
        bridge.signature_check = None
        mock = bridge.provider("mock")
        real_poll = mock.poll

        def poll(cursor: str | None) -> EventPage:
            given.append(cursor)
            page = real_poll(cursor.removeprefix(prefix) if cursor else None)
            odd = prefix + (page.cursor or "")
            return dataclasses.replace(page, cursor=odd)

        monkeypatch.setattr(mock, "poll", poll)
        sent = bridge.send(sample_counterparty("c"), sample_contract("CUR-1"), scenario="sign")
        for _ in range(3):
            bridge.poll()
        assert bridge.status(sent.id).status == "signed"
    assert given[0] is None
    assert len(given) >= 3
    assert all(c is not None and c.startswith(prefix) for c in given[1:])


def test_a_feed_whose_cursor_holds_a_nul_and_a_lone_surrogate_keeps_polling_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _feed_case(tmp_path / "edi.db", monkeypatch)


def test_a_feed_whose_cursor_holds_a_nul_and_a_lone_surrogate_keeps_polling_on_postgresql(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _feed_case(postgres_url, monkeypatch)
