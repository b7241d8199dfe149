"""Reading SBIS changes: paging, repeats, order, normalization."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from edi_bridge_providers.sbis.feed import Cursor, classify, dedupe_sorted, events_of
from edi_bridge_providers.sbis.wire import MSK, format_datetime

from edi_bridge import Bridge, ExchangeStatus
from edi_bridge.provider import ProviderEventKind
from edi_bridge.testing import sample_contract

from .conftest import SbisWorld
from .helpers import party, send_many


def _entry(doc: str, event_id: str, name: str, at: dt.datetime, comment: str = "") -> dict:
    return {
        "Идентификатор": doc,
        "Направление": "Исходящий",
        "Событие": [
            {
                "Идентификатор": event_id,
                "Название": name,
                "ДатаВремя": format_datetime(at),
                "Комментарий": comment,
            }
        ],
    }


def test_repeated_and_shuffled_events_come_out_once_in_time_order() -> None:
    t0 = dt.datetime(2026, 11, 24, 10, 0, tzinfo=MSK)
    entries = [
        _entry("d1", "e1", "Отправка", t0),
        _entry("d1", "e2", "Получение", t0 + dt.timedelta(seconds=5)),
        _entry("d1", "e3", "Утверждение", t0 + dt.timedelta(seconds=5)),  # same second
        _entry("d2", "e4", "Отклонение", t0 + dt.timedelta(seconds=9), "Не то"),
    ]
    shuffled = entries * 3
    random.Random(1).shuffle(shuffled)
    ordered = dedupe_sorted(events_of(shuffled), after=Cursor("e1", format_datetime(t0)))
    assert [e.event_id for e in ordered] == ["e2", "e3", "e4"]
    assert [e.kind for e in ordered] == [
        ProviderEventKind.DELIVERED,
        ProviderEventKind.SIGNED,
        ProviderEventKind.REJECTED,
    ]
    assert ordered[-1].comment == "Не то"


def test_event_names_are_classified_by_stem() -> None:
    assert classify("Утверждение") is ProviderEventKind.SIGNED
    assert classify("Отклонение") is ProviderEventKind.REJECTED
    assert classify("Аннулирование") is ProviderEventKind.REVOKED
    assert classify("Получение") is ProviderEventKind.DELIVERED
    assert classify("Отправка") is None


def test_notices_of_acceptance_and_of_clarification_read_as_signed_and_rejected() -> None:
    # As SBIS's own 1C processing reads its event names.
    assert classify("Уведомление о приеме") is ProviderEventKind.SIGNED
    assert classify("Уведомление об уточнении") is ProviderEventKind.REJECTED
    assert classify("Извещение о получении") is ProviderEventKind.DELIVERED


def test_cursor_round_trips_and_tolerates_garbage() -> None:
    cursor = Cursor("e9", "24.11.2026 10.00.00")
    assert Cursor.load(cursor.dump()) == cursor
    assert Cursor.load("not json") is None
    assert Cursor.load(None) is None


def test_changes_are_read_page_by_page_until_no_more(
    start_fake: Callable[..., SbisWorld], open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = start_fake(seed="5")
    bridge = open_bridge(server, settings={"page_size": "2"})
    exchanges = send_many(bridge, fake, 3, "page")
    fake.rpc_log.clear()
    # First our 3 sends (2 pages); then, the counterparty having moved, 6 more (3 pages).
    _poll_twice(bridge)
    assert fake.rpc_log.count("СБИС.СписокИзменений") >= 5
    for exchange in exchanges:
        assert bridge.status(exchange.id).status == ExchangeStatus.SIGNED


def test_repeated_unordered_pages_apply_each_change_once_in_order(
    start_fake: Callable[..., SbisWorld], open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = start_fake(seed="9", repeat_rate="1.0")
    bridge = open_bridge(server, settings={"page_size": "3"})
    exchanges = send_many(bridge, fake, 4, "dup")
    _poll_twice(bridge)
    for exchange in exchanges:
        done = bridge.status(exchange.id)
        statuses = [h.status for h in done.history]
        # SBIS lists no service stage of ours: the flow is finished at the signature.
        assert statuses == ["queued", "sent", "delivered", "signed", "flow_finished"]
        assert [s.role for s in done.signatures] == ["ours", "counterparty"]
    signed_events = [e for e in bridge.events() if e.kind == "signed"]
    assert len(signed_events) == 4


def test_rejection_and_revocation_carry_their_comments(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    rejected = bridge.send(
        party("reject:Нет доверенности", fake),
        sample_contract("C-r"),
        idempotency_key="r",
        provider="sbis",
    )
    revoked = bridge.send(
        party("revoke", fake), sample_contract("C-v"), idempotency_key="v", provider="sbis"
    )
    _poll_twice(bridge)
    _poll_twice(bridge)
    assert bridge.status(rejected.id).status == ExchangeStatus.REJECTED
    assert bridge.status(rejected.id).reason == "Нет доверенности"
    # SBIS's annulment is a request the other side answers (no longer reported as done).
    assert bridge.status(revoked.id).status == ExchangeStatus.REVOCATION_REQUESTED
    assert bridge.status(revoked.id).reason == "the counterparty revoked its signature"


def test_signed_event_carries_the_counterparty_signature_and_raw_state(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    exchange = bridge.send(
        party("sign", fake), sample_contract("C-s"), idempotency_key="s", provider="sbis"
    )
    provider = bridge.provider("sbis")
    first = provider.poll(None)  # our own "Отправка" only: nothing to report
    assert first.events == []
    page = provider.poll(first.cursor)
    signed = [e for e in page.events if e.kind is ProviderEventKind.SIGNED]
    assert len(signed) == 1
    assert signed[0].signature is not None
    assert signed[0].signature[:1] == b"\x30"
    assert signed[0].raw["state"]["Код"]
    assert signed[0].raw["event"]["Название"] == "Утверждение"
    assert signed[0].document_id == exchange.provider_ref["document_id"]
    again = provider.poll(page.cursor)
    assert again.events == []


def _poll_twice(bridge: Bridge) -> None:
    """The counterparty moves once we have read everything listed so far."""
    bridge.poll(["sbis"])
    bridge.poll(["sbis"])
