"""The box feed: paging, the known duplicate faults, normalization of what happened."""

from __future__ import annotations

import base64
from collections import Counter
from pathlib import Path
from typing import Any

from edi_bridge_providers.diadoc import DiadocProvider
from edi_bridge_providers.diadoc.fake import DiadocFake
from edi_bridge_providers.diadoc.feed import next_cursor, normalize, reason_text

from edi_bridge import Bridge
from edi_bridge.fakes.server import FakeOptions, FakeServer
from edi_bridge.models import ExchangeStatus
from edi_bridge.provider import ProviderEvent, ProviderEventKind
from edi_bridge.testing import sample_contract, sample_counterparty

from .conftest import send_request, settings_for


def _drain(adapter: DiadocProvider, cursor: str | None = None) -> tuple[list[ProviderEvent], Any]:
    events: list[ProviderEvent] = []
    for _ in range(50):
        page = adapter.poll(cursor)
        events.extend(page.events)
        cursor = page.cursor
        if not page.has_more:
            break
    return events, cursor


def test_feed_is_read_in_pages_of_100_until_exhausted(
    fake: DiadocFake, adapter: DiadocProvider, tmp_path: Path
) -> None:
    sent = [adapter.send(send_request(fake, tmp_path, f"page-{n}")) for n in range(130)]
    keys = [e["IndexKey"] for e in fake.world.feeds[fake.our_box_id]]
    assert any("+" in k for k in keys)  # so the client must URL-encode afterIndexKey
    events, cursor = _drain(adapter)
    assert events == []  # our own 130 messages: nothing happened yet
    assert fake.calls("/V8/GetNewEvents") == 2  # 100 + 30
    events, cursor = _drain(adapter, cursor)  # the counterparties act now
    # After a full page the last event is read again (see next_cursor); the
    # Bridge drops such repeats by event id.
    events = list({e.event_id: e for e in events}.values())
    kinds = Counter((e.kind, e.document_id) for e in events)
    for result in sent:
        assert kinds[(ProviderEventKind.DELIVERED, result.document_id)] == 1
        assert kinds[(ProviderEventKind.SIGNED, result.document_id)] == 1
    assert fake.calls("/V8/GetNewEvents") >= 2 + 3  # 260 patch events: 3 pages at least
    assert _drain(adapter, cursor)[0] == []


def test_duplicated_events_and_index_keys_change_nothing_twice(tmp_path: Path) -> None:
    fake = DiadocFake(
        FakeOptions(extra={"duplicate_events": "0.3", "duplicate_index_keys": "0.3", "seed": "5"})
    )
    with FakeServer(fake) as server:
        bridge = Bridge.open(tmp_path / "edi.db", settings=settings_for(server))
        try:
            exchanges = []
            for n in range(60):
                counterparty = sample_counterparty(f"dup-{n % 3}")
                fake.add_counterparty(counterparty, "sign")
                exchanges.append(
                    bridge.send(counterparty, sample_contract(f"D-{n}"), provider="diadoc")
                )
            for _ in range(10):
                bridge.poll(["diadoc"])
            feed = fake.world.feeds[fake.our_box_id]
            repeated_keys = len(feed) - len({e["IndexKey"] for e in feed})
            assert repeated_keys > 0  # the fault was really injected
            for exchange in exchanges:
                done = bridge.status(exchange.id)
                assert done.status == ExchangeStatus.SIGNED
                statuses = [h.status for h in done.history]
                assert statuses.count("signed") == 1
                assert statuses.count("delivered") == 1
                assert [s.role for s in done.signatures].count("counterparty") == 1
            kinds = Counter((e.exchange_id, e.kind) for e in bridge.events(limit=10_000))
            assert max(kinds.values()) == 1
        finally:
            bridge.close()


def test_a_counterparty_revocation_request_waits_for_our_answer(
    bridge: Bridge, fake: DiadocFake
) -> None:
    counterparty = sample_counterparty("revoker")
    fake.add_counterparty(counterparty, "revoke")
    exchange = bridge.send(counterparty, sample_contract("R-1"), provider="diadoc")
    for _ in range(5):
        bridge.poll(["diadoc"])
    done = bridge.status(exchange.id)
    # A request is not a revocation: it stays open until we accept or refuse it.
    assert done.status == ExchangeStatus.REVOCATION_REQUESTED
    assert done.revocation == {
        "requested_by": "counterparty",
        "reason": "the counterparty revoked its signature",
    }


def test_sign_after_waits_for_the_nth_poll(bridge: Bridge, fake: DiadocFake) -> None:
    counterparty = sample_counterparty("slow-signer")
    fake.add_counterparty(counterparty, "sign-after:3")
    exchange = bridge.send(counterparty, sample_contract("S-3"), provider="diadoc")
    seen = []
    for _ in range(5):
        bridge.poll(["diadoc"])
        seen.append(bridge.status(exchange.id).status)
    assert seen[-1] == ExchangeStatus.SIGNED
    assert ExchangeStatus.DELIVERED in seen


def test_cursor_backs_off_before_a_run_of_equal_keys_on_a_full_page() -> None:
    assert next_cursor(["a", "b", "c"], None, full_page=False) == "c"
    assert next_cursor(["a", "b", "c"], None, full_page=True) == "b"
    assert next_cursor(["a", "b", "c", "c"], None, full_page=True) == "b"
    assert next_cursor(["c", "c"], "a", full_page=True) == "c"
    assert next_cursor([], "a", full_page=False) == "a"


# -- normalization of box events (parsing only) -----------------------------------

OURS, THEIRS = "our@diadoc.ru", "their@diadoc.ru"


def _patch(*entities: dict[str, Any]) -> dict[str, Any]:
    return {
        "EventId": "ev-1",
        "IndexKey": "1+a",
        "Patch": {
            "MessageId": "msg-1",
            "PatchId": "patch-1",
            "MessageType": "Letter",
            "TimestampTicks": 639000000000000000,
            "Entities": list(entities),
        },
    }


def _attachment(kind: str, content: bytes, entity_id: str = "att-1") -> list[dict[str, Any]]:
    return [
        {
            "EntityType": "Attachment",
            "EntityId": entity_id,
            "ParentEntityId": "doc-1",
            "AttachmentType": kind,
            "Content": {"Size": len(content), "Data": base64.b64encode(content).decode()},
        },
        {
            "EntityType": "Signature",
            "EntityId": entity_id + "-sig",
            "ParentEntityId": entity_id,
            "SignerBoxId": THEIRS,
        },
    ]


def _no_loading(message_id: str, entity_id: str) -> bytes:
    raise AssertionError("content was inline")


def test_xml_signature_rejection_gives_the_reason_text() -> None:
    xml = (
        "<Файл><Документ><СвУведУточ><ТекстУведУточ>Неверная цена</ТекстУведУточ>"
        "</СвУведУточ></Документ></Файл>"
    )
    (event,) = normalize(
        _patch(*_attachment("XmlSignatureRejection", xml.encode())), OURS, _no_loading
    )
    assert event.kind is ProviderEventKind.REJECTED
    assert event.reason == "Неверная цена"
    assert event.document_id == "msg-1:doc-1"
    assert event.event_id == "ev-1:att-1"


def test_older_signature_request_rejection_is_plain_text() -> None:
    events = normalize(
        _patch(*_attachment("SignatureRequestRejection", "Не согласны".encode())), OURS, _no_loading
    )
    assert [(e.kind, e.reason) for e in events] == [(ProviderEventKind.REJECTED, "Не согласны")]


def test_universal_message_3999_is_a_rejection_and_1999_a_receipt() -> None:
    rejection = '<Сообщение КодСообщения="3999"><Текст>Отказ</Текст></Сообщение>'.encode()
    receipt = '<Сообщение КодСообщения="1999"/>'.encode()
    (rejected,) = normalize(_patch(*_attachment("UniversalMessage", rejection)), OURS, _no_loading)
    assert (rejected.kind, rejected.reason) == (ProviderEventKind.REJECTED, "Отказ")
    (delivered,) = normalize(_patch(*_attachment("UniversalMessage", receipt)), OURS, _no_loading)
    assert delivered.kind is ProviderEventKind.DELIVERED


def test_counterparty_signature_is_fetched_when_not_inline() -> None:
    signature = {
        "EntityType": "Signature",
        "EntityId": "sig-9",
        "ParentEntityId": "doc-1",
        "SignerBoxId": THEIRS,
        "Content": {"Size": 3},
    }
    loaded: list[tuple[str, str]] = []

    def load(message_id: str, entity_id: str) -> bytes:
        loaded.append((message_id, entity_id))
        return b"sig"

    (event,) = normalize(_patch(signature), OURS, load)
    assert (event.kind, event.signature) == (ProviderEventKind.SIGNED, b"sig")
    assert loaded == [("msg-1", "sig-9")]


def test_our_own_signatures_and_signatures_under_receipts_are_not_news() -> None:
    ours = {
        "EntityType": "Signature",
        "EntityId": "s1",
        "ParentEntityId": "doc-1",
        "SignerBoxId": OURS,
    }
    receipt = _attachment("Receipt", b"<r/>")
    events = normalize(_patch(ours, *receipt), OURS, _no_loading)
    assert [e.kind for e in events] == [ProviderEventKind.DELIVERED]


def test_reason_text_refuses_entities() -> None:
    hostile = b'<!DOCTYPE a [<!ENTITY x "boom">]><a><Text>&x;</Text></a>'
    assert reason_text(hostile) != "boom"
