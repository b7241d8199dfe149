"""Sending through the fake: Diadoc's JSON, the shelf, idempotency, validation."""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from edi_bridge_providers.diadoc import DiadocProvider, custom_document_id, operation_id
from edi_bridge_providers.diadoc.fake import DiadocFake
from werkzeug.wrappers import Request, Response

from edi_bridge.errors import ProviderNotFound, RejectedRequest
from edi_bridge.fakes.server import FakeServer, Faults
from edi_bridge.provider import Formalized
from edi_bridge.testing import sample_counterparty

from .conftest import make_adapter, send_request


def _posted(sink: io.StringIO) -> list[dict[str, Any]]:
    return [
        line
        for line in map(json.loads, sink.getvalue().splitlines())
        if line["path"] == "/V3/PostMessage"
    ]


def test_contract_goes_as_contract_with_diadoc_field_names(
    fake: DiadocFake, tmp_path: Path
) -> None:
    sink = io.StringIO()
    with FakeServer(fake, record=sink) as server:
        adapter = make_adapter(server, contract_type="Договор оказания услуг")
        request = send_request(fake, tmp_path, "json-1", price="1500.00")
        result = adapter.send(request)
    (line,) = _posted(sink)
    assert line["query"] == {"operationId": operation_id("json-1")}
    body = line["request"]
    assert body["FromBoxId"] == fake.our_box_id
    assert body["ToBoxId"] == result.ref["to_box_id"]
    (attachment,) = body["DocumentAttachments"]
    assert attachment["TypeNamedId"] == "Contract"
    assert attachment["CustomDocumentId"] == custom_document_id("json-1")
    meta = {m["Key"]: m["Value"] for m in attachment["Metadata"]}
    assert meta == {
        "FileName": "json-1.pdf",
        "DocumentNumber": "N-json-1",
        "DocumentDate": "05.03.2026",
        "ContractType": "Договор оказания услуг",
        "ContractPrice": "1500.00",
    }
    signed = attachment["SignedContent"]
    assert base64.b64decode(signed["Signature"]) == request.signature
    assert base64.b64decode(signed["Content"]) == request.content.read_all()
    assert "NameOnShelf" not in signed


def test_other_kinds_go_as_nonformalized_asking_for_a_signature(
    fake: DiadocFake, tmp_path: Path
) -> None:
    sink = io.StringIO()
    with FakeServer(fake, record=sink) as server:
        make_adapter(server).send(send_request(fake, tmp_path, "act-1", kind="act"))
    (attachment,) = _posted(sink)[0]["request"]["DocumentAttachments"]
    assert attachment["TypeNamedId"] == "Nonformalized"
    assert attachment["NeedRecipientSignature"] is True
    assert "ContractType" not in {m["Key"] for m in attachment["Metadata"]}


def test_big_content_goes_through_the_shelf_in_parts(
    fake: DiadocFake, server: FakeServer, tmp_path: Path
) -> None:
    adapter = make_adapter(server, part_size=str(512 * 1024))
    content = bytes(range(256)) * (1536 * 4)  # 1.5 MiB -> 3 parts of 512 KiB
    request = send_request(fake, tmp_path, "big-1", content=content)
    result = adapter.send(request)
    assert fake.calls("/ShelfUploadPartInit") == 1
    assert fake.calls("/ShelfUploadPart") == 2
    stored = fake.world.contents[(result.ref["message_id"], result.ref["entity_id"])]
    assert stored == content
    files = {f.role: f for f in adapter.fetch(result.ref)}
    assert files["document"].content == content


def test_lost_shelf_part_is_sent_again(
    fake: DiadocFake, server: FakeServer, tmp_path: Path
) -> None:
    adapter = make_adapter(server, part_size=str(256 * 1024))
    content = b"x" * (256 * 1024 * 3 + 10)  # 4 parts: 0 in Init, 1..3 in Part
    original = fake.shelf_part
    lost: list[int] = []

    def lose_part_two(request: Request) -> Response:
        if request.args.get("partIndex") == "2" and not lost:
            lost.append(2)  # accepted on the wire, never stored
            return Response("[]", content_type="application/json")
        return original(request)

    fake.route("POST", "/ShelfUploadPart", lose_part_two)
    result = adapter.send(send_request(fake, tmp_path, "lost-part", content=content))
    assert lost == [2]
    assert fake.world.contents[(result.ref["message_id"], result.ref["entity_id"])] == content


def test_retried_send_after_a_500_makes_one_message(
    fake: DiadocFake, adapter: DiadocProvider, tmp_path: Path
) -> None:
    fake.fail_after_commit(1)  # stored, but the answer is a 500
    request = send_request(fake, tmp_path, "retry-500")
    result = adapter.send(request)
    assert fake.message_count() == 1
    assert fake.calls("/V3/PostMessage") == 2
    assert adapter.send(request).document_id == result.document_id
    assert fake.message_count() == 1


def test_send_answered_too_late_is_retried_into_the_same_message(
    fake: DiadocFake, server: FakeServer, faults: Faults, tmp_path: Path
) -> None:
    adapter = make_adapter(server, timeout="0.5")
    faults.delay = 0.8
    request = send_request(fake, tmp_path, "late")
    adapter.recipient_box(request.counterparty)
    adapter.client.auth.current(adapter.client.http)
    faults.force("timeout")
    adapter.send(request)
    time.sleep(faults.delay)  # let the first, late request land too
    assert fake.calls("/V3/PostMessage") == 2
    assert fake.message_count() == 1


def test_find_sent_reconciles_by_idempotency_key(
    fake: DiadocFake, adapter: DiadocProvider, tmp_path: Path
) -> None:
    request = send_request(fake, tmp_path, "crash-1")
    sent = adapter.send(request)
    found = adapter.find_sent(request)
    assert found is not None
    assert found.document_id == sent.document_id
    assert adapter.find_sent(send_request(fake, tmp_path, "never-sent")) is None


def test_counterparty_without_a_box_cannot_receive(
    fake: DiadocFake, adapter: DiadocProvider, tmp_path: Path
) -> None:
    request = send_request(fake, tmp_path, "nobox")
    fake.add_counterparty(request.counterparty, has_box=False)
    assert adapter.can_receive(request.counterparty) is False
    with pytest.raises(ProviderNotFound):
        adapter.send(request)
    assert fake.message_count() == 0
    assert adapter.can_receive(sample_counterparty("someone-else")) is True


def test_box_is_discovered_when_not_configured(fake: DiadocFake, server: FakeServer) -> None:
    adapter = make_adapter(server, box_id="")
    assert adapter.cursor_scope == f"diadoc:{fake.our_box_id}"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.pop("TypeNamedId"), "TypeNamedId is required"),
        (lambda a: a.update(TypeNamedId="Invoice"), "is not accepted"),
        (lambda a: a["SignedContent"].pop("Signature"), "Signature is required"),
        (lambda a: a["SignedContent"].update(Signature="AAAA"), "not a CMS SignedData"),
        (lambda a: a["SignedContent"].update(NameOnShelf="x.pdf"), "exactly one of"),
        (lambda a: a.update(Metadata=[{"Key": "FileName", "Value": "a.pdf"}]), "DocumentNumber"),
        (
            lambda a: a["Metadata"].__setitem__(2, {"Key": "DocumentDate", "Value": "2026-03-05"}),
            "dd.MM.yyyy",
        ),
    ],
)
def test_fake_refuses_malformed_messages_like_the_api(
    fake: DiadocFake,
    adapter: DiadocProvider,
    tmp_path: Path,
    change: Any,
    message: str,
) -> None:
    from edi_bridge_providers.diadoc.wire import build_message

    request = send_request(fake, tmp_path, "malformed")
    body = build_message(
        request,
        from_box=adapter.box_id,
        to_box=str(adapter.recipient_box(request.counterparty)),
        contract_type="Договор",
    )
    change(body["DocumentAttachments"][0])
    with pytest.raises(RejectedRequest) as caught:
        adapter.client.post_message(body, "op-malformed")
    assert caught.value.status == 400
    assert message in str(caught.value)
    assert caught.value.code is not None
    assert caught.value.code.startswith("DiadocApi.")
    assert fake.calls("/V3/PostMessage") == 1  # 4xx is never retried
    assert fake.message_count() == 0


def test_signature_over_other_content_is_refused(
    fake: DiadocFake, adapter: DiadocProvider, tmp_path: Path
) -> None:
    good = send_request(fake, tmp_path, "sig-a")
    other = send_request(fake, tmp_path, "sig-b", content=b"%PDF-1.4 other")
    forged = type(good)(**{**good.__dict__, "signature": other.signature})
    with pytest.raises(RejectedRequest) as caught:
        adapter.send(forged)
    assert caught.value.code == "DiadocApi.InvalidSignature"


def test_upd_goes_formalized_with_function_and_version(fake: DiadocFake, tmp_path: Path) -> None:
    import dataclasses

    base = send_request(fake, tmp_path, "upd-1", kind="upd")
    upd = Formalized(kind="upd", function="СЧФДОП", format_version="5.03")
    request = dataclasses.replace(base, formalized=upd)
    sink = io.StringIO()
    with FakeServer(fake, record=sink) as server:
        make_adapter(server).send(request)
        (attachment,) = _posted(sink)[0]["request"]["DocumentAttachments"]
        assert attachment["TypeNamedId"] == "UniversalTransferDocument"
        assert attachment["Function"] == "СЧФДОП"
        assert attachment["Version"] == "utd970_05_03_01"
        assert attachment["NeedRecipientSignature"] is True
        # Without its function the API (and so the fake) refuses a УПД.
        missing = dataclasses.replace(
            base,
            idempotency_key="upd-2",
            formalized=dataclasses.replace(upd, function=""),
        )
        with pytest.raises(RejectedRequest, match="Function"):
            make_adapter(server).send(missing)
