"""The lifecycle as data, and the pure half of applying a provider event."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from edi_bridge import IllegalTransition, ValidationError
from edi_bridge.closing.ledger import Ledger
from edi_bridge.lifecycle import (
    CLOSING_TRANSITIONS,
    EVENT_TARGETS,
    LIFECYCLES,
    ClosingStatus,
    ExchangeStatus,
    ProviderEventKind,
    decide,
    is_late_news,
)
from edi_bridge.provider import ProviderEvent
from edi_bridge.store import Store
from edi_bridge.transitions import event_step, veto_step

AT = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
S = ExchangeStatus


def test_every_table_names_only_statuses_it_knows() -> None:
    for table in LIFECYCLES.values():
        assert set().union(*table.values()) <= set(table)
    assert set().union(*CLOSING_TRANSITIONS.values()) <= set(CLOSING_TRANSITIONS)
    assert set(EVENT_TARGETS) == set(ProviderEventKind)


def test_news_the_table_does_not_allow_is_late_and_changes_nothing() -> None:
    assert is_late_news("edi", S.SIGNED, S.DELIVERED)
    late = decide("mock", ProviderEventKind.DELIVERED, "edi", S.SIGNED, None)
    assert late.target is None
    assert late.cause == "mock: delivered to the counterparty"


def test_only_a_rejection_or_revocation_carries_the_reason() -> None:
    rejected = decide("mock", ProviderEventKind.REJECTED, "edi", S.DELIVERED, "цена")
    assert (rejected.target, rejected.reason) == (S.REJECTED, "цена")
    signed = decide("mock", ProviderEventKind.SIGNED, "edi", S.SENT, "ignored")
    assert (signed.target, signed.reason, signed.cause) == (
        S.SIGNED,
        None,
        "mock: counterparty signed",
    )


def test_an_event_step_is_the_change_its_history_and_its_outbox_row() -> None:
    event = ProviderEvent("e1", ProviderEventKind.REVOKED, "doc", AT, reason="ошибка")
    step = event_step("mock", "ex_1", "edi", S.SIGNED, event, {"provider_event_id": "e1"}, AT)
    assert step is not None
    assert step.changes == {"status": S.REVOKED, "updated_at": AT, "reason": "ошибка"}
    assert (step.history["status"], step.history["cause"]) == (
        S.REVOKED,
        "mock: counterparty revoked",
    )
    assert step.outbox["key"] == "ex_1:revoked:e1"
    assert step.outbox["reason"] == "ошибка"
    assert event_step("mock", "ex_1", "edi", S.REVOKED, event, {}, AT) is None


def test_a_vetoed_signature_keeps_the_status_and_asks_for_attention() -> None:
    event = ProviderEvent("e2", ProviderEventKind.SIGNED, "doc", AT, signature=b"sig")
    step = veto_step("ex_1", S.DELIVERED, event, {"ok": False, "reason": "wrong INN"}, {}, AT)
    assert step.changes == {"needs_attention": True, "updated_at": AT}
    assert step.history["status"] == S.DELIVERED
    assert (step.outbox["kind"], step.outbox["reason"]) == ("signature_invalid", "wrong INN")


def test_the_closing_ledger_moves_only_as_its_table_allows(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "edi.db")
    ledger = Ledger(store.engine)
    assert ledger.insert(
        key="k",
        period="2026-03",
        counterparty_key="7707083893-770701001",
        counterparty_name="ООО «Ромашка»",
        number="A-1",
        kind="act",
        channel="email",
        provider=None,
        recipient="accounting@example.ru",
        status=ClosingStatus.PENDING,
        exchange_ids=[],
        files=[],
    )
    assert ledger.claim("k", (ClosingStatus.PENDING,))
    ledger.move("k", ClosingStatus.SENT)
    with pytest.raises(IllegalTransition):
        ledger.move("k", ClosingStatus.FAILED)
    row = ledger.get("k")
    assert row is not None
    assert (row.status, row.attempts) == ("sent", 1)
    store.close()


def test_an_illegal_transition_names_statuses_by_value_not_by_enum_repr() -> None:
    from edi_bridge.errors import IllegalTransition
    from edi_bridge.lifecycle import ExchangeStatus

    err = IllegalTransition("ex_1", ExchangeStatus.SCAN_RECEIVED, ExchangeStatus.SCAN_RECEIVED)
    assert str(err) == "exchange ex_1: cannot go from 'scan_received' to 'scan_received'"
    assert err.target == "scan_received"


def test_messages_name_enum_kinds_by_value_not_by_repr() -> None:
    import enum
    from types import SimpleNamespace

    from edi_bridge_providers.sbis import SbisProvider

    from edi_bridge.lifecycle import event_kind
    from edi_bridge.models import DocumentKind

    class Typo(enum.StrEnum):
        SIGEND = "sigend"

    with pytest.raises(ValueError, match="unknown event kind 'sigend';") as err:
        event_kind(Typo.SIGEND)
    assert "<" not in str(err.value)
    adapter = SimpleNamespace(settings=SimpleNamespace(doc_types={}))
    with pytest.raises(ValidationError) as missing:
        SbisProvider._doc_type(adapter, DocumentKind.ACT)  # type: ignore[arg-type]
    assert "sbis has no document type for 'act'; set sbis.doc_type_act" in str(missing.value)
