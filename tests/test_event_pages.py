"""A page of provider events applied in one batch ends exactly where applying
the same events one at a time (a page of one each) ends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from edi_bridge import Bridge
from edi_bridge.provider import ProviderEvent, ProviderEventKind
from edi_bridge.store import schema
from edi_bridge.testing import sample_contract, sample_counterparty

AT = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)


def _page(doc_a: str, doc_b: str) -> list[ProviderEvent]:
    def ev(eid: str, kind: ProviderEventKind, doc: str, **kw: Any) -> ProviderEvent:
        return ProviderEvent(event_id=eid, kind=kind, document_id=doc, at=AT, **kw)

    return [
        ev("e1", ProviderEventKind.DELIVERED, doc_a),
        ev("e2", ProviderEventKind.SIGNED, doc_a, signature=b"sig-a"),
        ev("e2", ProviderEventKind.SIGNED, doc_a, signature=b"sig-a"),  # repeated id
        ev("e3", ProviderEventKind.DELIVERED, doc_a),  # late news after signed
        ev("e4", ProviderEventKind.REJECTED, doc_b, reason="wrong price"),
        ev("e5", ProviderEventKind.SIGNED, "not-ours", signature=b"x"),
        ev("e6", ProviderEventKind.SIGNED, doc_b, signature=b"sig-b"),  # after rejected
    ]


def _outcome(db: Path, batched: bool) -> dict[str, Any]:
    # Made-up signature bytes: the batching, not the signature check, is under test.
    with Bridge.open(db, settings={"signing.check_counterparty": "false"}) as bridge:
        cp = sample_counterparty("pages")
        a = bridge.send(cp, sample_contract("PG-1"), scenario="silent")
        b = bridge.send(cp, sample_contract("PG-2"), scenario="silent")
        with bridge.store.transaction() as conn:
            docs = {
                r.id: r.provider_document_id
                for r in conn.execute(sa.select(schema.exchanges)).all()
            }
        events = _page(docs[a.id], docs[b.id])
        for _ in range(2):  # the second run is a replay: it changes nothing
            with bridge.store.transaction() as conn:
                if batched:
                    bridge.feeds.apply_page(conn, "mock", "feed", events)
                else:
                    for event in events:
                        bridge.feeds.apply_page(conn, "mock", "feed", [event])
        names = {a.id: "a", b.id: "b"}
        out: dict[str, Any] = {}
        for ex_id, label in names.items():
            ex = bridge.status(ex_id)
            out[label] = {
                "status": ex.status,
                "reason": ex.reason,
                # What the page did (the send before it carries random ids).
                "history": [(h.status, h.cause, h.detail) for h in ex.history][2:],
                "signatures": [
                    (s.role, s.file_name, s.sha256) for s in ex.signatures if s.role != "ours"
                ],
            }
        out["events"] = [
            (e.key.replace(a.id, "A").replace(b.id, "B"), e.kind, e.status, e.reason, e.data)
            for e in bridge.events()
            if e.kind != "sent"
        ]
        with bridge.store.engine.connect() as conn:
            out["applied"] = sorted(
                (r.event_id, names.get(r.exchange_id))
                for r in conn.execute(sa.select(schema.applied_events)).all()
            )
        return out


def test_a_batched_page_ends_where_one_by_one_ends(tmp_path: Path) -> None:
    batched = _outcome(tmp_path / "batched.db", batched=True)
    single = _outcome(tmp_path / "single.db", batched=False)
    assert batched == single
    assert batched["a"]["status"] == "signed"
    assert batched["b"]["status"] == "rejected"
    assert batched["b"]["reason"] == "wrong price"
    assert [h[0] for h in batched["a"]["history"]] == ["delivered", "signed"]
    assert len(batched["a"]["signatures"]) == 1
    assert [e for e, _ in batched["applied"]] == ["e1", "e2", "e3", "e4", "e5", "e6"]
    assert ("e5", None) in batched["applied"]
