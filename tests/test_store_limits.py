"""Every stored string fits its column on SQLite and PostgreSQL alike: derived names
are shortened keeping their extension, operators' text is cleaned and cut, and
operators' over-long ids become a stable hash-derived id (never a DataError)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from edi_bridge import Bridge, Document, DocumentKind, Event
from edi_bridge.provider import EventPage
from edi_bridge.store import schema
from edi_bridge.store.limits import CUT_MARKER, clean_text, fit_id, fit_name
from edi_bridge.testing import sample_contract, sample_counterparty
from edi_bridge.testing.samples import sample_pdf


def _long_named_contract() -> Document:
    return Document.from_bytes(
        sample_pdf("Contract L-1"),
        kind=DocumentKind.CONTRACT,
        number="L-1",
        date=dt.date(2026, 11, 24),
        file_name="c" * 236 + ".pdf",  # 240 characters
    )


def _long_name_case(db: str | Path) -> None:
    with Bridge.open(db) as bridge:
        sent = bridge.send(sample_counterparty("a"), _long_named_contract(), scenario="sign")
        bridge.poll()
        assert bridge.status(sent.id).status == "signed"
        bridge.poll()  # the next poll does not fail either
        with bridge.store.engine.connect() as conn:
            names = conn.execute(sa.select(schema.signatures.c.file_name)).scalars().all()
        assert len(names) >= 2
        assert len(set(names)) == len(names)
        assert all(len(n) <= 255 and n.endswith(".sig") for n in names)
        assert any(n.endswith(".counterparty.sig") for n in names)


def test_a_240_character_document_name_is_signed_and_kept_on_sqlite(tmp_path: Path) -> None:
    _long_name_case(tmp_path / "edi.db")


def test_a_240_character_document_name_is_signed_and_kept_on_postgresql(
    postgres_url: str,
) -> None:
    _long_name_case(postgres_url)


LONG_ID = "ev-" + "x" * 297  # 300 characters


def _rough_event_case(db: str | Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Bridge.open(db) as bridge:
        bridge.signature_check = None
        seen: list[Event] = []
        bridge.on("*", seen.append)
        rough = bridge.send(
            sample_counterparty("a"), sample_contract("A-1"), scenario="reject:wrong price"
        )
        fine = bridge.send(sample_counterparty("b"), sample_contract("B-1"), scenario="sign")
        with bridge.store.engine.connect() as conn:
            t = schema.exchanges
            rough_doc = conn.execute(
                sa.select(t.c.provider_document_id).where(t.c.id == rough.id)
            ).scalar_one()
        mock = bridge.provider("mock")
        real_poll = mock.poll

        def poll(cursor: str | None) -> EventPage:
            # The operator reports the refusal with a NUL in its reason and a 300-character id.
            page = real_poll(cursor)
            events = [
                dataclasses.replace(e, event_id=LONG_ID, reason="wrong\x00 price\x1b")
                if e.document_id == rough_doc and e.reason
                else e
                for e in page.events
            ]
            return dataclasses.replace(page, events=events)

        monkeypatch.setattr(mock, "poll", poll)
        bridge.poll()
        assert bridge.status(rough.id).status == "rejected"
        assert bridge.status(rough.id).reason == "wrong price"
        assert bridge.status(fine.id).status == "signed"  # the other exchange in the same poll
        assert "wrong price" in {e.reason for e in seen if e.exchange_id == rough.id}
        with bridge.store.engine.connect() as conn:
            scopes = conn.execute(sa.select(schema.applied_events.c.scope)).scalars().all()
            # The long id is found again as asked: applying it twice stays a no-op.
            assert bridge.store.applied_event_ids(conn, scopes[0], [LONG_ID]) == {LONG_ID}
        bridge.poll()


def test_an_event_with_a_nul_reason_and_a_300_character_id_is_applied_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rough_event_case(tmp_path / "edi.db", monkeypatch)


def test_an_event_with_a_nul_reason_and_a_300_character_id_is_applied_on_postgresql(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rough_event_case(postgres_url, monkeypatch)


def test_a_long_name_keeps_its_extensions_and_stays_unique() -> None:
    a, b = fit_name("a" * 300 + ".counterparty.sig"), fit_name("a" * 301 + ".counterparty.sig")
    assert len(a) == len(b) == 255
    assert a.endswith(".counterparty.sig")
    assert a != b
    assert fit_name("short.pdf") == "short.pdf"


def test_a_long_or_unclean_id_becomes_a_stable_hash_and_fitting_twice_changes_nothing() -> None:
    long_id = "z" * 300
    assert fit_id(long_id) == fit_id(long_id) == fit_id(fit_id(long_id))
    assert len(fit_id(long_id)) <= 256
    assert fit_id(long_id) != fit_id(long_id + "z")
    assert fit_id("a\x00b") != "a\x00b"
    assert fit_id("ok-1") == "ok-1"


def test_operator_text_loses_control_characters_and_is_cut_with_a_marker() -> None:
    assert clean_text("a\x00b\tc\nd\x7f") == "ab\tc\nd"
    cut = clean_text("y" * 5000)
    assert cut is not None
    assert len(cut) == 4000
    assert cut.endswith(CUT_MARKER)
    assert clean_text(None) is None
