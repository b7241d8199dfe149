"""What applying a page costs does not depend on its length: the same statements
for 10 events as for 100, each event's detail encoded to JSON once, and the
stored history and outbox rows holding the same detail text."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from edi_bridge import Bridge
from edi_bridge.provider import ProviderEvent, ProviderEventKind
from edi_bridge.store import schema
from edi_bridge.testing import sample_contract, sample_counterparty

AT = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)


def _apply(bridge: Bridge, docs: list[str], tag: str) -> int:
    events = [
        ProviderEvent(
            event_id=f"{tag}-{i}",
            kind=ProviderEventKind.SIGNED,
            document_id=doc,
            at=AT,
            signature=f"sig-{tag}-{i}".encode(),
        )
        for i, doc in enumerate(docs)
    ]
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    sa.event.listen(bridge.store.engine, "before_cursor_execute", count)
    try:
        with bridge.store.transaction() as conn:
            bridge.feeds.apply_page(conn, "mock", "feed", events)
    finally:
        sa.event.remove(bridge.store.engine, "before_cursor_execute", count)
    return statements


def _sent(bridge: Bridge, n: int, tag: str) -> list[str]:
    cp = sample_counterparty("cost")
    ids = [bridge.send(cp, sample_contract(f"{tag}-{i}"), scenario="silent").id for i in range(n)]
    with bridge.store.transaction() as conn:
        rows = conn.execute(
            sa.select(schema.exchanges.c.provider_document_id).where(schema.exchanges.c.id.in_(ids))
        )
        return [str(r[0]) for r in rows]


def test_a_page_costs_the_same_statements_whatever_its_length(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoded: list[Any] = []
    real_dumps = json.dumps

    def counting_dumps(obj: Any, *args: Any, **kwargs: Any) -> str:
        if isinstance(obj, dict) and "provider_event_id" in obj:
            encoded.append(obj["provider_event_id"])
        return real_dumps(obj, *args, **kwargs)

    # Before opening: the column types take json.dumps when they first bind.
    monkeypatch.setattr(json, "dumps", counting_dumps)
    # Made-up signature bytes: the batch writer, not a signature check, is under test
    # (with a check configured, signed events are applied one by one).
    off = {"signing.check_counterparty": "false"}
    with Bridge.open(tmp_path / "cost.db", settings=off) as bridge:
        short, long = _sent(bridge, 10, "S"), _sent(bridge, 100, "L")
        few = _apply(bridge, short, "s")
        many = _apply(bridge, long, "l")
        assert few == many
        # One encoding per event, shared by its history row and its outbox row.
        assert sorted(encoded) == sorted(
            [f"s-{i}" for i in range(10)] + [f"l-{i}" for i in range(100)]
        )
        with bridge.store.transaction() as conn:
            history = {
                json.loads(r.detail)["provider_event_id"]: r.detail
                for r in conn.execute(
                    sa.text("SELECT detail FROM edi_history WHERE cause != 'sent'")
                )
                if "provider_event_id" in json.loads(r.detail)
            }
            outbox = {
                json.loads(r.data)["provider_event_id"]: r.data
                for r in conn.execute(sa.text("SELECT data FROM edi_events"))
                if "provider_event_id" in json.loads(r.data)
            }
        assert len(history) == 110
        assert history == outbox


def test_a_counterparty_signature_is_hashed_once_and_kept_in_one_blob_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    off = {"signing.check_counterparty": "false"}
    with Bridge.open(tmp_path / "sig.db", settings=off) as bridge:
        docs = _sent(bridge, 5, "H")
        signatures = {f"sig-h-{i}".encode() for i in range(5)}
        hashed: list[bytes] = []
        real = hashlib.sha256

        def counting(data: bytes = b"", **kwargs: Any) -> Any:
            if data in signatures:
                hashed.append(data)
            return real(data, **kwargs)

        monkeypatch.setattr(hashlib, "sha256", counting)
        _apply(bridge, docs, "h")
        monkeypatch.undo()
        # The writer's hash (for the history detail) is the one the blob is stored by.
        assert sorted(hashed) == sorted(signatures)
        with bridge.store.transaction() as conn:
            shas = [real(s).hexdigest() for s in signatures]
            kept = conn.execute(
                sa.select(schema.blobs.c.sha256, schema.blobs.c.data).where(
                    schema.blobs.c.sha256.in_(shas)
                )
            ).all()
            chunks = conn.execute(
                sa.select(sa.func.count())
                .select_from(schema.blob_chunks)
                .where(schema.blob_chunks.c.sha256.in_(shas))
            ).scalar_one()
        # Each signature is one blob row holding its bytes: no chunk row beside it.
        assert {bytes(r.data) for r in kept} == signatures
        assert chunks == 0


def test_a_feed_transaction_has_a_larger_page_cache_only_while_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Bridge.open(tmp_path / "cache.db") as bridge:
        for i in range(3):
            bridge.send(sample_counterparty("cache"), sample_contract(f"C-{i}"))
        seen: list[int] = []
        apply_page = bridge.feeds.apply_page

        def noting(conn: Any, *args: Any, **kwargs: Any) -> None:
            seen.append(int(conn.exec_driver_sql("PRAGMA cache_size").scalar()))
            apply_page(conn, *args, **kwargs)

        monkeypatch.setattr(bridge.feeds, "apply_page", noting)
        assert bridge.poll()
        # 16 MiB (negative: KiB) while the events are written, SQLite's 2 MB after.
        assert set(seen) == {-16384}
        with bridge.store.transaction() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -2000
