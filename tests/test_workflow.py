"""The Bridge on the mock: scenarios, idempotency, durable events, resend."""

from __future__ import annotations

from pathlib import Path

import pytest
from edi_bridge_providers.mock import MockProvider

from edi_bridge import (
    Bridge,
    Counterparty,
    Document,
    Event,
    IdempotencyConflict,
    IllegalTransition,
    NotSent,
    ResendRefused,
    ValidationError,
)
from edi_bridge.testing import sample_contract, sample_counterparty


def _mock(bridge: Bridge) -> MockProvider:
    adapter = bridge.provider("mock")
    assert isinstance(adapter, MockProvider)
    return adapter


def _poll_n(bridge: Bridge, n: int) -> None:
    for _ in range(n):
        bridge.poll()


def test_sign_after_n_polls_waits_for_n_polls(bridge: Bridge, counterparty: Counterparty) -> None:
    ex = bridge.send(counterparty, sample_contract(), scenario="sign-after:3")
    _poll_n(bridge, 2)
    assert bridge.status(ex.id).status in ("sent", "delivered")
    _poll_n(bridge, 2)
    assert bridge.status(ex.id).status == "signed"


def test_silent_counterparty_never_answers(bridge: Bridge, counterparty: Counterparty) -> None:
    ex = bridge.send(counterparty, sample_contract(), scenario="silent")
    _poll_n(bridge, 5)
    assert bridge.status(ex.id).status in ("sent", "delivered")


def test_revoke_scenario_signs_then_asks_to_revoke_and_we_accept(
    bridge: Bridge, counterparty: Counterparty
) -> None:
    ex = bridge.send(counterparty, sample_contract(), scenario="revoke")
    _poll_n(bridge, 4)
    assert bridge.status(ex.id).status == "revocation_requested"  # waits for our answer
    done = bridge.accept_revocation(ex.id)
    assert [h.status for h in done.history] == [
        "queued", "sent", "delivered", "signed", "revocation_requested", "revoked",
    ]  # fmt: skip
    assert any(s.role == "counterparty" for s in done.signatures)


def test_transient_failure_stays_queued_and_a_later_dispatch_sends_once(
    tmp_path: Path, counterparty: Counterparty
) -> None:
    with Bridge.open(tmp_path / "e.db") as bridge:
        ex = bridge.send(counterparty, sample_contract(), scenario="flaky:2")
        assert ex.status == "queued"
        assert ex.last_error
        assert "transient" in ex.last_error.lower()
        bridge.dispatch_queued()
        assert bridge.status(ex.id).status == "queued"
        bridge.dispatch_queued()
        sent = bridge.status(ex.id)
        assert sent.status == "sent"
        assert sent.last_error is None
        assert _mock(bridge).documents_for_key(ex.idempotency_key) == 1


def test_same_key_with_other_document_is_a_conflict(
    bridge: Bridge, counterparty: Counterparty
) -> None:
    bridge.send(counterparty, sample_contract("A-1"), idempotency_key="k")
    with pytest.raises(IdempotencyConflict):
        bridge.send(counterparty, sample_contract("A-2"), idempotency_key="k")
    assert len(bridge.list()) == 1


def test_default_key_makes_the_same_intent_idempotent(
    bridge: Bridge, counterparty: Counterparty
) -> None:
    first = bridge.send(counterparty, sample_contract("A-1"))
    again = bridge.send(counterparty, sample_contract("A-1"))
    other = bridge.send(counterparty, sample_contract("A-2"))
    assert first.id == again.id != other.id
    assert _mock(bridge).document_count() == 2


def test_bad_input_stores_and_sends_nothing(bridge: Bridge, counterparty: Counterparty) -> None:
    with pytest.raises(ValidationError) as info:
        bridge.send(counterparty, sample_contract(), scenario="reject")
    assert info.value.field == "scenario"
    with pytest.raises(ValidationError):
        bridge.send(counterparty, sample_contract(), idempotency_key=" ")
    with pytest.raises(ValidationError) as doc_err:
        Document.from_bytes(b"x", file_name="../etc/passwd", number="1", date="2026-01-01")
    assert doc_err.value.field == "document.file_name"
    assert bridge.list() == []
    assert _mock(bridge).document_count() == 0


def test_callbacks_get_each_change_and_missed_ones_are_readable(
    tmp_path: Path, counterparty: Counterparty
) -> None:
    db = tmp_path / "e.db"
    with Bridge.open(db) as offline:  # a backend that registered no callbacks
        ex = offline.send(counterparty, sample_contract())
        offline.poll()
    seen: list[Event] = []
    with Bridge.open(db) as backend:
        backend.on("*", seen.append)
        assert backend.dispatch_events() == 3
        assert [e.kind for e in seen] == ["sent", "delivered", "signed"]
        assert {e.exchange_id for e in seen} == {ex.id}
        assert len({e.key for e in seen}) == 3
        assert backend.dispatch_events() == 0
        assert [e.kind for e in backend.events()] == ["sent", "delivered", "signed"]


def test_failing_callback_gets_the_event_again(bridge: Bridge, counterparty: Counterparty) -> None:
    calls: list[str] = []

    def flaky(event: Event) -> None:
        calls.append(event.key)
        if len(calls) == 1:
            raise RuntimeError("backend down")

    bridge.on("sent", flaky)
    ex = bridge.send(counterparty, sample_contract())
    assert calls == [f"{ex.id}:sent"]
    bridge.dispatch_events()
    assert calls == [f"{ex.id}:sent", f"{ex.id}:sent"]
    bridge.dispatch_events()
    assert len(calls) == 2


def test_illegal_transition_raises_and_changes_nothing(
    bridge: Bridge, counterparty: Counterparty
) -> None:
    ex = bridge.send(counterparty, sample_contract())
    with pytest.raises(IllegalTransition) as info, bridge.store.transaction() as conn:
        bridge.writer.write(conn, ex.id, "queued", "by hand")
    assert "sent" in str(info.value)
    assert bridge.status(ex.id).status == "sent"
    assert len(bridge.status(ex.id).history) == 2


def test_late_delivery_after_signature_changes_nothing(
    bridge: Bridge, counterparty: Counterparty
) -> None:
    from edi_bridge import ProviderEvent, ProviderEventKind
    from edi_bridge.store import utcnow

    ex = bridge.send(counterparty, sample_contract())
    bridge.poll()
    doc_id = bridge.status(ex.id).provider_ref["document_id"]
    late = ProviderEvent("late-1", ProviderEventKind.DELIVERED, doc_id, utcnow())
    with bridge.store.transaction() as conn:
        bridge.feeds.apply_page(conn, "mock", "mock", [late])
    assert bridge.status(ex.id).status == "signed"


def test_resend_rules(bridge: Bridge, counterparty: Counterparty) -> None:
    signed = bridge.send(counterparty, sample_contract("R-1"))
    waiting = bridge.send(counterparty, sample_contract("R-2"), scenario="silent")
    rejected = bridge.send(counterparty, sample_contract("R-3"), scenario="reject:цена")
    bridge.poll()
    with pytest.raises(ResendRefused, match="signed"):
        bridge.resend(signed.id)
    with pytest.raises(ResendRefused, match="second document"):
        bridge.resend(waiting.id, force=True)
    with pytest.raises(ResendRefused, match="force"):
        bridge.resend(rejected.id)
    new = bridge.resend(rejected.id, force=True)
    assert new.id != rejected.id
    assert new.previous_id == rejected.id
    assert new.status == "sent"
    old = bridge.status(rejected.id)
    assert old.status == "rejected"
    assert old.history[-1].cause == f"resent as {new.id}"
    assert bridge.resend(rejected.id, force=True).id == new.id  # same linked resend


def test_documents_are_streamed_from_disk_and_round_trip(
    bridge: Bridge, counterparty: Counterparty, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as fh:
        for i in range(3):
            fh.write(bytes([i]) * (1 << 20) + b"tail")
    doc = Document.from_path(big, number="B-1", date="2026-11-01")
    ex = bridge.send(counterparty, doc)
    with bridge.content(ex.id) as fh:
        assert fh.read() == big.read_bytes()
    assert doc.size == big.stat().st_size


def test_separate_processes_share_the_mock_world(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    cp = sample_counterparty("shared")
    with Bridge.open(db) as first:
        ex = first.send(cp, sample_contract())
    with Bridge.open(db) as second:
        second.poll()
        assert second.status(ex.id).status == "signed"


def test_a_callback_for_an_unknown_event_kind_is_refused(bridge: Bridge) -> None:
    with pytest.raises(ValidationError) as err:
        bridge.on("sigend", lambda event: None)  # type: ignore[arg-type]
    assert err.value.field == "kind"
    assert "'sigend'" in err.value.rule
    assert "'signed'" in err.value.rule


def test_the_event_kinds_on_takes_are_exactly_the_recorded_ones() -> None:
    from typing import get_args

    from edi_bridge.lifecycle import EventKind, EventKindName

    assert set(get_args(EventKindName)) == {"*"} | {k.value for k in EventKind}


def test_a_strict_send_the_operator_did_not_take_raises_and_stays_recorded(
    bridge: Bridge, counterparty: Counterparty
) -> None:
    with pytest.raises(NotSent) as caught:
        bridge.send(counterparty, sample_contract("S-1"), scenario="flaky:1", strict=True)
    assert caught.value.status == "queued"
    assert caught.value.reason
    kept = bridge.status(caught.value.exchange_id)
    assert kept.status == "queued"
    assert kept.attempts == 1
    assert bridge.send(counterparty, sample_contract("S-2"), strict=True).status == "sent"
