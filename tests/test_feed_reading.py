"""Reading a provider feed: pages read ahead, several applied per transaction, in order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

import edi_bridge.workflow.feed as feed
from edi_bridge import Bridge
from edi_bridge.errors import ProviderError
from edi_bridge.provider import (
    Capability,
    EventPage,
    Provider,
    ProviderEvent,
    ProviderEventKind,
    SendRequest,
    SendResult,
)
from edi_bridge.registry import Registry
from edi_bridge.testing import sample_contract, sample_counterparty

AT = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
PAGES = 30


class PagedFeed(Provider):
    """Sends by echoing the key; its feed is PAGES pages: delivered then signed per document."""

    name = "paged"
    capabilities = frozenset({Capability.EVENTS})
    documents: ClassVar[list[str]] = []
    fail_at: ClassVar[int | None] = None
    reads: ClassVar[list[str | None]] = []

    @property
    def cursor_scope(self) -> str:
        return "paged:feed"

    def send(self, request: SendRequest) -> SendResult:
        self.documents.append(request.idempotency_key)
        return SendResult(ref={"id": request.idempotency_key}, document_id=request.idempotency_key)

    def poll(self, cursor: str | None) -> EventPage:
        self.reads.append(cursor)
        index = int(cursor or 0)
        if index == self.fail_at:
            raise ProviderError("the feed broke", provider="paged")
        if index >= len(self.documents):
            return EventPage([], cursor=cursor, has_more=False)
        doc = self.documents[index]
        events = [
            ProviderEvent(f"d{index}", ProviderEventKind.DELIVERED, doc, AT),
            ProviderEvent(
                f"s{index}", ProviderEventKind.SIGNED, doc, AT, signature=b"sig%d" % index
            ),
        ]
        return EventPage(events, cursor=str(index + 1), has_more=index + 1 < len(self.documents))


@pytest.fixture
def paged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bridge]:
    monkeypatch.setattr(PagedFeed, "documents", [])
    monkeypatch.setattr(PagedFeed, "reads", [])
    monkeypatch.setattr(PagedFeed, "fail_at", None)
    # Small transactions, so a feed of 30 pages takes several.
    monkeypatch.setattr(feed, "EVENTS_PER_TRANSACTION", 5)
    registry = Registry(use_entry_points=True)
    registry.register("paged", PagedFeed)
    # The feed's made-up signature bytes are not signatures: these tests are about paging.
    off = {"signing.check_counterparty": "false"}
    with Bridge.open(tmp_path / "edi.db", registry=registry, settings=off) as bridge:
        cp = sample_counterparty("paged")
        for i in range(PAGES):
            bridge.send(cp, sample_contract(f"PF-{i}"), provider="paged", idempotency_key=f"k{i}")
        yield bridge


def test_a_long_feed_is_applied_in_order_with_the_cursor_after_its_last_page(
    paged: Bridge,
) -> None:
    before = paged.store.last_event_seq()
    assert paged.poll_count(["paged"]) == 2 * PAGES
    assert PagedFeed.reads == [None, *(str(i) for i in range(1, PAGES))]
    assert paged.store.get_cursor("paged:feed") == str(PAGES)
    changes = paged.events(after=before)
    assert [(c.kind, c.data["provider_event_id"]) for c in changes] == [
        (kind, f"{kind[0]}{i}") for i in range(PAGES) for kind in ("delivered", "signed")
    ]
    assert {e.status for e in paged.list()} == {"signed"}
    # Nothing new: the next poll reads from the stored cursor and changes nothing.
    assert paged.poll(["paged"]) == []


def test_a_failing_page_read_keeps_the_pages_applied_before_it(paged: Bridge) -> None:
    PagedFeed.fail_at = 7
    with pytest.raises(ProviderError, match="the feed broke"):
        paged.poll_count(["paged"])
    assert paged.store.get_cursor("paged:feed") == "7"
    statuses = [paged.status(e.id).status for e in paged.list()]
    assert statuses == ["signed"] * 7 + ["sent"] * (PAGES - 7)
    PagedFeed.fail_at = None
    assert paged.poll_count(["paged"]) == 2 * (PAGES - 7)
    assert paged.store.get_cursor("paged:feed") == str(PAGES)
