"""The fake and the client against the model of Diadoc's proto definitions."""

from __future__ import annotations

import dataclasses
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from edi_bridge_providers.diadoc import DiadocProvider
from edi_bridge_providers.diadoc.conformance import build, differences, require
from edi_bridge_providers.diadoc.fake import DiadocFake
from edi_bridge_providers.diadoc.feed import normalize
from edi_bridge_providers.diadoc.receipts import CONFIRMATION, send_receipt
from edi_bridge_providers.diadoc.wire import build_message, operation_id

from edi_bridge import Bridge
from edi_bridge.errors import ProviderError
from edi_bridge.fakes.server import FakeOptions, FakeServer
from edi_bridge.models import ExchangeStatus
from edi_bridge.signing import throwaway_signer
from edi_bridge.testing import sample_contract, sample_counterparty

from .conftest import make_adapter, send_request, settings_for
from .test_buyer_title import _upd as upd_document

# (method, path) -> (request body model, answer body model); None: not a proto body.
BODIES: dict[tuple[str, str], tuple[str | None, str | None]] = {
    ("GET", "/GetMyOrganizations"): (None, "OrganizationList"),
    ("GET", "/GetOrganizationsByInnKpp"): (None, "OrganizationList"),
    ("POST", "/V3/PostMessage"): ("MessageToPost", "Message"),
    ("POST", "/V4/PostMessagePatch"): ("MessagePatchToPostV2", "MessagePatch"),
    ("POST", "/V2/GenerateReceiptXml"): ("ReceiptGenerationRequestV2", None),
    ("GET", "/V8/GetNewEvents"): (None, "BoxEventList"),
    ("GET", "/V6/GetMessage"): (None, "Message"),
    ("POST", "/V3/GetDocflows"): ("GetDocflowBatchRequest", "GetDocflowBatchResponseV3"),
    ("GET", "/GetDocumentsByCustomId"): (None, "DocumentList"),
    ("POST", "/PrevalidatePowerOfAttorney"): (
        "PowerOfAttorneyPrevalidateRequest",
        "PowerOfAttorneyPrevalidateResult",
    ),
}


def recorded_run(tmp_path: Path) -> list[dict[str, Any]]:
    """Send, events, fetch, a rejection, a revocation, a receipt and a buyer's title, as the
    fake's JSON lines."""
    sink = io.StringIO()
    fake = DiadocFake(FakeOptions(extra={"seed": "3"}))
    with FakeServer(fake, record=sink) as server:
        send_and_receipt(fake, server, tmp_path)
        bridge = Bridge.open(tmp_path / "edi.db", settings=settings_for(server))
        try:
            exchanges = {}
            for scenario in ("sign", "reject:Цена не согласована", "revoke"):
                counterparty = sample_counterparty(f"wire-{scenario[:4]}")
                fake.add_counterparty(counterparty, scenario)
                exchanges[scenario] = bridge.send(
                    counterparty, sample_contract(f"W-{scenario[:4]}"), provider="diadoc"
                )
            # A УПД, answered by the buyer's signed title.
            buyer = sample_counterparty("wire-upd")
            fake.add_counterparty(buyer, "sign")
            exchanges["upd"] = bridge.send(buyer, upd_document()[0], provider="diadoc")
            for _ in range(4):
                bridge.poll(["diadoc"])
            assert bridge.status(exchanges["sign"].id).status == ExchangeStatus.SIGNED
            assert bridge.status(exchanges["upd"].id).buyer_title is not None
            assert bridge.status(exchanges["reject:Цена не согласована"].id).status == (
                ExchangeStatus.REJECTED
            )
            bridge.fetch(exchanges["sign"].id, tmp_path / "out")
        finally:
            bridge.close()
    return [json.loads(line) for line in sink.getvalue().splitlines()]


# A УПД with an invoice function: the case where Diadoc asks the sender for a receipt.
UPD_FIELDS = {
    "TypeNamedId": "UniversalTransferDocument",
    "Function": "СЧФДОП",
    "Version": "utd970_05_03_01",
}


def post_upd(adapter: DiadocProvider, fake: DiadocFake, tmp_path: Path, key: str) -> str:
    """A УПД posted through the client (the body as the adapter builds it); its message id."""
    request = send_request(fake, tmp_path, key, scenario="sign")
    inn = request.counterparty.inn
    to_box = next(o.box_id for o in fake.world.orgs.values() if o.inn == inn)
    body = build_message(request, from_box=fake.our_box_id, to_box=to_box, contract_type="-")
    body["DocumentAttachments"][0].update(UPD_FIELDS)
    return str(adapter.client.post_message(body, operation_id(key))["MessageId"])


def send_and_receipt(fake: DiadocFake, server: FakeServer, tmp_path: Path) -> str:
    """A УПД sent and the receipt Diadoc asks of us answered while polling; its message id."""
    adapter = make_adapter(server)
    adapter.context = dataclasses.replace(adapter.context, signer=throwaway_signer())
    try:
        message_id = post_upd(adapter, fake, tmp_path, "upd-rcpt")
        cursor = adapter.poll(None).cursor
        adapter.poll(cursor)  # the counterparty's answers, then the feed read again
        adapter.poll(None)
    finally:
        adapter.close()
    return message_id


def test_a_receipt_diadoc_asks_for_is_generated_signed_and_sent_once(tmp_path: Path) -> None:
    fake = DiadocFake(FakeOptions(extra={"seed": "4"}))
    with FakeServer(fake) as server:
        message_id = send_and_receipt(fake, server, tmp_path)
        entities = fake.world.messages[message_id]["Entities"]
        (confirmation,) = [e for e in entities if e.get("AttachmentType") == "InvoiceConfirmation"]
        # Sent again (a retry after a lost answer): the same patch, by its operationId.
        adapter = make_adapter(server)
        again = send_receipt(
            adapter.client,
            throwaway_signer(),
            fake.our_box_id,
            message_id,
            confirmation["EntityId"],
        )
        adapter.close()
    assert again["PatchId"] in fake.world.patches
    (confirmation,) = [e for e in entities if e.get("AttachmentType") == "InvoiceConfirmation"]
    receipts = [e for e in entities if e.get("AttachmentType") == "Receipt"]
    assert [r["ParentEntityId"] for r in receipts] == [confirmation["EntityId"]]
    signature = next(e for e in entities if e.get("ParentEntityId") == receipts[0]["EntityId"])
    assert signature["SignerBoxId"] == fake.our_box_id
    document = next(e for e in entities if e["EntityId"] == confirmation["ParentEntityId"])
    assert document["DocumentInfo"]["SenderReceiptMetadata"] == {"ReceiptStatus": "Finished"}
    # The second read of the feed finds our receipt there and sends none; the retry is one more.
    assert fake.calls("/V4/PostMessagePatch") == 2
    assert len(fake.world.patches) == 1


def test_without_a_signer_a_due_receipt_is_left_pending(tmp_path: Path) -> None:
    fake = DiadocFake(FakeOptions(extra={"seed": "5"}))
    with FakeServer(fake) as server:
        adapter = make_adapter(server)
        message_id = post_upd(adapter, fake, tmp_path, "upd-nosign")
        adapter.poll(None)
        adapter.close()
    entities = fake.world.messages[message_id]["Entities"]
    assert not [e for e in entities if e.get("AttachmentType") == "Receipt"]
    document = entities[0]["DocumentInfo"]
    assert document["SenderReceiptMetadata"] == {"ReceiptStatus": "HaveToCreateReceipt"}


def test_recorded_run_fits_the_proto_model_with_no_difference(tmp_path: Path) -> None:
    lines = recorded_run(tmp_path)
    checked: Counter[str] = Counter()
    found: list[str] = []
    for line in lines:
        request_model, answer_model = BODIES.get((line["method"], line["path"]), (None, None))
        if request_model and line["request"] is not None:
            found += differences(line["request"], request_model)
            checked[request_model] += 1
        if answer_model and line["status"] == 200:
            found += differences(line["response"], answer_model)
            checked[answer_model] += 1
    assert found == []
    # The run really covered each kind of body.
    for model in (
        "MessageToPost",
        "Message",
        "BoxEventList",
        "OrganizationList",
        "ReceiptGenerationRequestV2",
        "MessagePatchToPostV2",
        "MessagePatch",
        "GetDocflowBatchRequest",
        "GetDocflowBatchResponseV3",
    ):
        assert checked[model] >= 1, model
    # The flows followed after the signatures: the counterparty's response and the
    # operator's confirmation with our receipt on it, as DocflowV3 parts.
    flows = [
        d["Docflow"]
        for line in lines
        if line["path"] == "/V3/GetDocflows" and line["status"] == 200
        for d in line["response"]["Documents"]
    ]
    parts = {name for flow in flows for name in flow}
    assert {"SenderTitle", "RecipientResponse", "RecipientReceipt", "Confirmation"} <= parts
    feeds = [line["response"] for line in lines if line["path"] == "/V8/GetNewEvents"]
    patches = [e["Patch"] for page in feeds for e in page["Events"] if "Patch" in e]
    types = {e.get("AttachmentType") for p in patches for e in p["Entities"]}
    # "Title": the buyer's title answering the УПД, signed under it.
    assert {
        "Receipt",
        "XmlSignatureRejection",
        "RevocationRequest",
        "InvoiceConfirmation",
        "Title",
    } <= (
        types
        | {
            e.get("AttachmentType")
            for page in feeds
            for ev in page["Events"]
            for e in (ev.get("Message") or {}).get("Entities", [])
        }
    )


def test_model_finds_invented_missing_and_misspelled_fields() -> None:
    event = {"EventId": "e1", "Timestamp": {"Ticks": 1}, "Patch": {"MessageId": "m"}}
    found = differences({"Events": [event], "TotalCountType": "Exact"}, "BoxEventList")
    assert "BoxEventList.Events[0].Timestamp: not a field of BoxEvent" in found
    assert any("Patch.PatchId: required field" in f for f in found)
    assert any("Patch.TimestampTicks: required field" in f for f in found)
    assert "BoxEventList.TotalCountType: 'Exact' is not a value of TotalCountType" in found
    with pytest.raises(ValueError, match="Surprise: not a field of Box"):
        build("Box", BoxId="b", BoxIdGuid="b", Title="t", Surprise=1)


def test_client_ignores_unknown_fields_but_names_a_missing_required_one() -> None:
    page = {"Events": [], "TotalCountType": "Equal", "NewField": {"x": 1}}
    assert require(page, "BoxEventList") is page
    newer = {"Events": [], "TotalCountType": "SomeFutureCount"}
    assert require(newer, "BoxEventList") is newer  # an enum name newer than the model
    with pytest.raises(ProviderError, match=r"BoxEventList\.Events\[0\]\.EventId: required"):
        require({"Events": [{"IndexKey": "k"}], "TotalCountType": "Equal"}, "BoxEventList")


def test_event_time_comes_from_the_message_ticks() -> None:
    ticks = 638_800_000_000_000_000  # April 2025
    box_event = {
        "EventId": "e1",
        "IndexKey": "k1",
        "Patch": {
            "MessageId": "m1",
            "PatchId": "p1",
            "MessageType": "Letter",
            "TimestampTicks": ticks,
            "Entities": [
                {"EntityType": "Signature", "EntityId": "s1", "ParentEntityId": "d1",
                 "SignerBoxId": "them", "Content": {"Size": 1, "Data": "AA=="}},
            ],
        },
    }  # fmt: skip
    (event,) = normalize(box_event, "us", lambda _m, _e: b"")
    assert event.at.year == 2025


def test_a_receipt_the_operator_refuses_does_not_stop_the_feed(tmp_path: Path) -> None:
    fake = DiadocFake(FakeOptions(extra={"seed": "6"}))
    with FakeServer(fake) as server:
        adapter = make_adapter(server)
        adapter.context = dataclasses.replace(adapter.context, signer=throwaway_signer())
        message_id = post_upd(adapter, fake, tmp_path, "upd-refused")
        # The feed names a confirmation the operator does not know: GenerateReceiptXml is a 404.
        event = fake.world.feeds[fake.our_box_id][0]
        unknown = {"EntityType": "Attachment", "EntityId": "gone", "AttachmentType": CONFIRMATION}
        event["Message"] = {
            **event["Message"],
            "Entities": [unknown, *event["Message"]["Entities"]],
        }
        kinds, cursor = set(), None
        for _ in range(3):
            page = adapter.poll(cursor)
            kinds |= {e.kind.value for e in page.events}
            cursor = page.cursor
        adapter.close()
    assert {"delivered", "signed"} <= kinds  # the counterparty's news still came through
    entities = fake.world.messages[message_id]["Entities"]
    assert [e for e in entities if e.get("AttachmentType") == "Receipt" and "SignerBoxId" not in e]
    assert entities[0]["DocumentInfo"]["SenderReceiptMetadata"] == {"ReceiptStatus": "Finished"}
