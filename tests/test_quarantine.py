"""Poison operator events: one that cannot be applied is put aside with its body and
reason, the rest of its page is applied, the cursor moves past it, the backend is told,
and a person re-applies (once) or dismisses it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from edi_bridge import Bridge, Event, Exchange, ValidationError
from edi_bridge.cli import main
from edi_bridge.testing import sample_contract, sample_counterparty


class FlakyCheck:
    """A signature check that raises (a broken trust store) for the exchanges named."""

    def __init__(self) -> None:
        self.broken: set[str] = set()

    def __call__(self, exchange: Exchange, signature: bytes) -> dict[str, Any]:
        if exchange.id in self.broken:
            raise RuntimeError("trust store unreadable")
        return {"ok": True, "status": "valid"}


def _page_with_a_poison_event(bridge: Bridge) -> tuple[list[Exchange], FlakyCheck]:
    sent = [
        bridge.send(sample_counterparty(x), sample_contract(f"Q-{x}"), scenario="sign")
        for x in ("a", "b", "c")
    ]
    check = FlakyCheck()
    check.broken.add(sent[1].id)  # the middle one: between two good ones
    bridge.signature_check = check
    for _ in range(10):
        bridge.poll()
        if all(bridge.status(e.id).status == "signed" for e in (sent[0], sent[2])):
            break
    return sent, check


def _poison_case(db: str | Path) -> None:
    with Bridge.open(db) as bridge:
        told: list[Event] = []
        bridge.on("event_quarantined", told.append)
        (a, b, c), check = _page_with_a_poison_event(bridge)
        assert [bridge.status(e.id).status for e in (a, b, c)] == ["signed", "delivered", "signed"]
        [held] = bridge.quarantined("held")
        assert (held.provider, held.exchange_id, held.status) == ("mock", b.id, "held")
        assert held.reason == "RuntimeError: trust store unreadable"
        assert held.body["event"]["kind"] == "signed"
        assert held.body["event"]["signature"]
        # The backend was told once, naming the quarantine record.
        assert [(e.exchange_id, e.data["quarantine_id"]) for e in told] == [(b.id, held.id)]
        # The cursor is past it: more polls neither raise nor hold it again.
        bridge.poll()
        bridge.poll()
        assert [q.id for q in bridge.quarantined()] == [held.id]
        assert len(told) == 1

        check.broken.clear()  # the cause is fixed
        done = bridge.reapply(held.id, by="Оператор Тестов")
        assert (done.status, done.settled_by) == ("reapplied", "Оператор Тестов")
        signed = bridge.status(b.id)
        assert signed.status == "signed"
        assert [s.role for s in signed.signatures].count("counterparty") == 1
        # Applying twice changes nothing.
        seq, history = bridge.last_event_seq(), len(signed.history)
        again = bridge.reapply(held.id)
        assert again.status == "reapplied"
        assert again.settled_by == "Оператор Тестов"
        assert bridge.last_event_seq() == seq
        assert len(bridge.status(b.id).history) == history
        assert bridge.quarantined("held") == []


def test_a_poison_event_is_held_and_its_page_applied_then_reapplied_once(tmp_path: Path) -> None:
    _poison_case(tmp_path / "q.db")


def test_a_poison_event_is_held_and_reapplied_on_postgresql(postgres_url: str) -> None:
    _poison_case(postgres_url)


def test_an_event_of_a_kind_no_operator_reports_is_held_not_fatal(tmp_path: Path) -> None:
    from edi_bridge.provider import ProviderEvent
    from edi_bridge.store import utcnow

    with Bridge.open(tmp_path / "q.db") as bridge:
        bridge.signature_check = None
        sent = bridge.send(sample_counterparty("a"), sample_contract("K-1"), scenario="sign")
        with bridge.store.transaction() as conn:
            document_id = bridge.store.exchange_row(conn, sent.id).provider_document_id
        assert document_id is not None
        odd = ProviderEvent("odd-1", "withdrawn", document_id, utcnow())  # type: ignore[arg-type]
        good = ProviderEvent("good-1", "delivered", document_id, utcnow())  # type: ignore[arg-type]
        with bridge.store.transaction() as conn:
            bridge.feeds.apply_page(conn, "mock", "mock", [odd, good])
        assert bridge.status(sent.id).status == "delivered"
        [held] = bridge.quarantined()
        assert held.event_id == "odd-1"
        assert held.reason.startswith("kind:")
        with pytest.raises(ValidationError, match="event"):
            bridge.reapply(held.id)  # still malformed: refused, still held
        assert bridge.quarantined("held")[0].id == held.id


def test_dismissing_needs_a_reason_and_records_who(tmp_path: Path) -> None:
    with Bridge.open(tmp_path / "q.db") as bridge:
        _, _check = _page_with_a_poison_event(bridge)
        [held] = bridge.quarantined()
        with pytest.raises(ValidationError, match="reason"):
            bridge.dismiss(held.id, "  ")
        done = bridge.dismiss(held.id, "the counterparty signed again on paper", by="Иванова")
        assert (done.status, done.settled_by) == ("dismissed", "Иванова")
        assert done.settled_why == "the counterparty signed again on paper"
        with pytest.raises(ValidationError, match="dismissed"):
            bridge.reapply(held.id)


def test_the_cli_lists_reapplies_and_dismisses_quarantined_events(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    with Bridge.open(db) as bridge:
        (_, b, _), _check = _page_with_a_poison_event(bridge)
    run = CliRunner()
    listed = run.invoke(main, ["--db", str(db), "events", "--quarantined", "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["exchange_id"] == b.id
    assert row["status"] == "held"
    table = run.invoke(main, ["--db", str(db), "events", "--quarantined"])
    assert "RuntimeError: trust store unreadable" in table.stdout
    # No check is configured for the CLI's bridge: re-applying keeps the signature.
    qid = str(row["id"])
    done = run.invoke(main, ["--db", str(db), "events", "reapply", qid, "--by", "ops"])
    assert done.exit_code == 0, done.output
    assert "reapplied by ops" in done.stdout
    refused = run.invoke(main, ["--db", str(db), "events", "dismiss", qid, "--reason", "late"])
    assert refused.exit_code != 0
    assert "re-applied already" in refused.stderr
    missing = run.invoke(main, ["--db", str(db), "events", "reapply", "99"])
    assert missing.exit_code != 0
    assert "no quarantined event 99" in missing.stderr
    assert run.invoke(main, ["--db", str(db), "events", "--quarantined"]).stdout == ""
    with Bridge.open(db) as bridge:
        assert bridge.status(b.id).status == "signed"


def _back_to_version_4(db: str | Path) -> None:
    """What a version-4 database looks like: no quarantine, the outbox's exchange_id required."""
    with Bridge.open(db) as bridge, bridge.store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE edi_events ALTER COLUMN exchange_id SET NOT NULL")
        conn.exec_driver_sql("DROP TABLE edi_quarantine")
        conn.exec_driver_sql("UPDATE edi_meta SET value = '4' WHERE key = 'schema_version'")


def test_a_version_4_postgresql_database_gains_the_quarantine(postgres_url: str) -> None:
    from edi_bridge.provider import UnreadableEvent

    _back_to_version_4(postgres_url)
    with Bridge.open(postgres_url) as bridge:
        unreadable = UnreadableEvent("bad-1", "ValueError: cut short", {"token": "s3cret", "x": 1})
        with bridge.store.transaction() as conn:
            bridge.feeds.apply_page(conn, "mock", "mock", [], [unreadable])
        [held] = bridge.quarantined()
        assert held.body == {"raw": {"token": "***", "x": 1}}  # secrets masked
        [told] = [e for e in bridge.events() if e.kind == "event_quarantined"]
        assert told.exchange_id is None  # about no exchange of ours: the column allows it now
