"""Files an event carries take one form, ``ProviderEvent.files``: a rejection's XML and
the buyer's title a counterparty's signature covers are both ``EventFile``s."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from edi_bridge import Bridge, Counterparty, EventFile, Exchange, ProviderEvent, ProviderEventKind
from edi_bridge.provider import BUYER_TITLE
from edi_bridge.store import utcnow
from edi_bridge.testing import sample_contract

TITLE = "<?xml version='1.0'?><Файл ИдФайл='ON_NSCHFDOPPOK_1'/>".encode()


def _silent_send(bridge: Bridge, counterparty: Counterparty) -> tuple[Exchange, str]:
    ex = bridge.send(counterparty, sample_contract(), scenario="silent")
    bridge.poll()
    return ex, bridge.status(ex.id).provider_ref["document_id"]


def test_a_buyer_title_file_is_kept_beside_the_signature_under_its_own_name(
    bridge: Bridge, counterparty: Counterparty
) -> None:
    seen: list[bytes | None] = []

    def check(
        exchange: Exchange,
        signature: bytes,
        *,
        powers_of_attorney: Sequence[bytes] = (),
        operator_status: Any = None,
        content: bytes | None = None,
    ) -> Mapping[str, Any]:
        seen.append(content)
        return {"ok": True, "status": "valid"}

    bridge.signature_check = check
    ex, doc_id = _silent_send(bridge, counterparty)
    summary = {"kind": "buyer_title", "signer": "Покупатель", "accepted": "2026-01-15"}
    name = "ON_NSCHFDOPPOK_1.xml"
    title = EventFile(BUYER_TITLE, "buyer-title.xml", TITLE, name=name, summary=summary)
    rejection_like = EventFile("note", "note.xml", b"<note/>")
    event = ProviderEvent(
        "title-1",
        ProviderEventKind.SIGNED,
        doc_id,
        utcnow(),
        signature=b"cms",
        files=(rejection_like, title),
    )
    assert event.signed_file == title
    with bridge.store.transaction() as conn:
        bridge.feeds.apply_page(conn, "mock", "mock", [event])

    status = bridge.status(ex.id)
    assert status.status == "signed"
    stored = {s.role: s for s in status.signatures}
    assert stored[BUYER_TITLE].file_name == name
    assert stored["note"].file_name.endswith(".note.xml")
    assert {"counterparty", BUYER_TITLE, "note"} <= set(stored)
    assert status.buyer_title == summary
    assert seen == [TITLE]  # the signature was checked against the title, not our file


def test_an_event_file_is_named_beside_our_file_unless_the_operator_names_it() -> None:
    event = ProviderEvent("x", ProviderEventKind.REJECTED, "d", utcnow(), files=())
    assert event.signed_file is None
    named = EventFile("rejection", "rejection.xml", b"<r/>")
    assert named.stored_name("contract.pdf") == "contract.pdf.rejection.xml"
    assert EventFile("r", "x", b"", name="given.xml").stored_name("contract.pdf") == "given.xml"
