"""Rejection and revocation, both ways, over real HTTP with the Diadoc fake; every body the
run sends and reads is held against the proto model."""

from __future__ import annotations

import base64
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from edi_bridge_providers.diadoc.conformance import differences
from edi_bridge_providers.diadoc.fake import DiadocFake

from edi_bridge import Bridge, Exchange
from edi_bridge.errors import ValidationError
from edi_bridge.fakes.server import FakeOptions, FakeServer
from edi_bridge.lifecycle import ExchangeStatus
from edi_bridge.mchd.model import Organisation
from edi_bridge.signing import employee_signing
from edi_bridge.testing import sample_contract, sample_counterparty

from .conftest import settings_for
from .test_wire_fidelity import BODIES

S = ExchangeStatus
# The revocation calls, as (request model, answer model); None: not a proto body.
REVOCATION_BODIES: dict[tuple[str, str], tuple[str | None, str | None]] = {
    ("POST", "/V2/GenerateRevocationRequestXml"): ("RevocationRequestInfo", None),
    ("POST", "/V2/GenerateSignatureRejectionXml"): ("SignatureRejectionGenerationRequestV2", None),
}


def poll_until(bridge: Bridge, exchange_id: str, status: str, rounds: int = 6) -> Exchange:
    for _ in range(rounds):
        bridge.poll(["diadoc"])
        found = bridge.status(exchange_id)
        if found.status == status:
            return found
    raise AssertionError(f"{exchange_id} stayed {bridge.status(exchange_id).status}")


def signed(bridge: Bridge, fake: DiadocFake, name: str, scenario: str = "sign") -> Exchange:
    counterparty = sample_counterparty(name)
    fake.add_counterparty(counterparty, scenario)
    exchange = bridge.send(counterparty, sample_contract(f"RV-{name}"), provider="diadoc")
    return poll_until(bridge, exchange.id, S.SIGNED)


def entities(fake: DiadocFake, exchange: Exchange) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = fake.world.messages[exchange.provider_ref["message_id"]][
        "Entities"
    ]
    return found


def content(fake: DiadocFake, exchange: Exchange, entity: dict[str, Any]) -> bytes:
    return fake.world.contents[(exchange.provider_ref["message_id"], entity["EntityId"])]


def revocation_status(fake: DiadocFake, exchange: Exchange) -> str:
    document = next(
        e for e in entities(fake, exchange) if e["EntityId"] == exchange.provider_ref["entity_id"]
    )
    return str(document["DocumentInfo"]["RevocationStatus"])


def stored(bridge: Bridge, exchange: Exchange, role: str) -> bytes:
    record = next(s for s in bridge.status(exchange.id).signatures if s.role == role)
    with bridge.store.open_blob(record.sha256) as fh:
        return fh.read()


def run_flows(fake: DiadocFake, bridge: Bridge) -> dict[str, Exchange]:
    """Each flow to its end; the exchanges by flow."""
    out: dict[str, Exchange] = {}
    ours = signed(bridge, fake, "rv-acc")
    bridge.revoke(ours.id, reason="Подписан по ошибке")
    bridge.revoke(ours.id, reason="Подписан по ошибке")  # the same request again
    out["we-revoke-accepted"] = poll_until(bridge, ours.id, S.REVOKED)

    refused = signed(bridge, fake, "rv-rej", "reject-revocation:Работы приняты")
    bridge.revoke(refused.id, reason="Ошибка в цене")
    out["we-revoke-rejected"] = poll_until(bridge, refused.id, S.REVOCATION_REJECTED)

    for name, accept in (("they-accepted", True), ("they-rejected", False)):
        theirs = signed(bridge, fake, f"rv-{name}", "revoke")
        poll_until(bridge, theirs.id, S.REVOCATION_REQUESTED)
        if accept:
            bridge.accept_revocation(theirs.id)
        else:
            bridge.reject_revocation(theirs.id, reason="Договор исполняется")
        out[name] = bridge.status(theirs.id)

    counterparty = sample_counterparty("rv-contract-rejected")
    fake.add_counterparty(counterparty, "reject:Не согласна цена в п. 3")
    sent = bridge.send(counterparty, sample_contract("RV-CR"), provider="diadoc")
    out["contract-rejected"] = poll_until(bridge, sent.id, S.REJECTED)
    return out


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[DiadocFake, Bridge, dict[str, Exchange], list[Any]]:
    sink = io.StringIO()
    fake = DiadocFake(FakeOptions(extra={"seed": "19"}))
    with FakeServer(fake, record=sink) as server:
        bridge = Bridge.open(tmp_path / "edi.db", settings=settings_for(server))
        try:
            flows = run_flows(fake, bridge)
        except BaseException:
            bridge.close()
            raise
    lines = [json.loads(line) for line in sink.getvalue().splitlines()]
    return fake, bridge, flows, lines


def test_every_flow_ends_where_the_protocol_says(
    recorded: tuple[DiadocFake, Bridge, dict[str, Exchange], list[Any]],
) -> None:
    fake, bridge, flows, _lines = recorded
    with bridge:
        accepted = flows["we-revoke-accepted"]
        assert accepted.history[-1].cause == "diadoc: revocation accepted"
        assert revocation_status(fake, accepted) == "RevocationAccepted"
        requests = [
            e for e in entities(fake, accepted) if e.get("AttachmentType") == "RevocationRequest"
        ]
        assert len(requests) == 1  # asked twice, one request at Diadoc
        assert "Подписан по ошибке" in content(fake, accepted, requests[0]).decode()

        rejected = flows["we-revoke-rejected"]
        assert (rejected.status, rejected.reason) == (S.REVOCATION_REJECTED, "Работы приняты")
        assert revocation_status(fake, rejected) == "RevocationRejected"
        assert "Работы приняты" in stored(bridge, rejected, "revocation_rejection").decode()
        assert stored(bridge, rejected, "revocation_rejection_signature")

        theirs = flows["they-accepted"]
        assert theirs.status == S.REVOKED
        assert revocation_status(fake, theirs) == "RevocationAccepted"
        request_xml = stored(bridge, theirs, "revocation_request")
        assert "the counterparty revoked its signature" in request_xml.decode()
        ours = [
            e
            for e in entities(fake, theirs)
            if e["EntityType"] == "Signature" and e.get("SignerBoxId") == fake.our_box_id
        ]
        assert len(ours) == 2  # the contract's and the one under their request

        refused = flows["they-rejected"]
        assert (refused.status, refused.reason) == (S.REVOCATION_REJECTED, "Договор исполняется")
        assert revocation_status(fake, refused) == "RevocationRejected"
        (refusal,) = [
            e for e in entities(fake, refused) if e.get("AttachmentType") == "XmlSignatureRejection"
        ]
        assert "Договор исполняется" in content(fake, refused, refusal).decode()

        contract = flows["contract-rejected"]
        assert contract.reason == "Не согласна цена в п. 3"  # read from the signed XML
        (xml_entity,) = [
            e
            for e in entities(fake, contract)
            if e.get("AttachmentType") == "XmlSignatureRejection"
        ]
        assert stored(bridge, contract, "rejection") == content(fake, contract, xml_entity)
        assert stored(bridge, contract, "rejection_signature")
        events = [e.kind for e in bridge.events() if e.exchange_id == theirs.id]
        assert events[-2:] == ["revocation_requested", "revoked"]


def test_recorded_revocation_run_fits_the_proto_model_with_no_difference(
    recorded: tuple[DiadocFake, Bridge, dict[str, Exchange], list[Any]],
) -> None:
    _fake, bridge, _flows, lines = recorded
    bridge.close()
    models = {**BODIES, **REVOCATION_BODIES}
    checked: Counter[str] = Counter()
    found: list[str] = []
    parts: Counter[str] = Counter()
    for line in lines:
        request_model, answer_model = models.get((line["method"], line["path"]), (None, None))
        if request_model and line["request"] is not None:
            found += differences(line["request"], request_model)
            checked[request_model] += 1
            if request_model == "MessagePatchToPostV2":
                parts.update(k for k in line["request"] if k not in ("BoxId", "MessageId"))
        if answer_model and line["status"] == 200:
            found += differences(line["response"], answer_model)
            checked[answer_model] += 1
    assert found == []
    for model in ("RevocationRequestInfo", "SignatureRejectionGenerationRequestV2", "MessagePatch"):
        assert checked[model] >= 1, model
    assert {"RevocationRequests", "Signatures", "XmlSignatureRejections"} <= set(parts)


def test_answers_to_what_is_not_there_are_refused_before_any_call(tmp_path: Path) -> None:
    fake = DiadocFake(FakeOptions(extra={"seed": "20"}))
    with (
        FakeServer(fake) as server,
        Bridge.open(tmp_path / "edi.db", settings=settings_for(server)) as bridge,
    ):
        counterparty = sample_counterparty("rv-silent")
        fake.add_counterparty(counterparty, "silent")
        sent = bridge.send(counterparty, sample_contract("RV-S"), provider="diadoc")
        with pytest.raises(ValidationError, match="only a document both sides signed"):
            bridge.revoke(sent.id, reason="Передумали")
        with pytest.raises(ValidationError, match="no revocation request"):
            bridge.accept_revocation(sent.id)
    assert fake.calls("/V2/GenerateRevocationRequestXml") == 0
    assert fake.calls("/V4/PostMessagePatch") == 0


def test_our_revocation_request_carries_our_mchd(tmp_path: Path) -> None:
    our = Organisation(name="ООО «Поставщик»", inn="7707083893")
    employee = employee_signing(our, "sign-employee")
    assert employee.power_of_attorney is not None
    fake = DiadocFake(FakeOptions(extra={"seed": "21"}))
    number = fake.register_power_of_attorney(employee.power_of_attorney)
    sink = io.StringIO()
    settings = {
        "signing.power_of_attorney.registration_number": number,
        "signing.power_of_attorney.issuer_inn": our.inn or "",
        "signing.organisation.inn": our.inn or "",
    }
    with (
        FakeServer(fake, record=sink) as server,
        Bridge.open(
            tmp_path / "edi.db",
            signer=employee.signer,
            settings={**settings_for(server), **settings},
        ) as bridge,
    ):
        exchange = signed(bridge, fake, "rv-mchd")
        bridge.revoke(exchange.id, reason="Ошибка")
    patches = [
        json.loads(line)["request"]
        for line in sink.getvalue().splitlines()
        if json.loads(line)["path"] == "/V4/PostMessagePatch"
    ]
    (signed_content,) = [p["RevocationRequests"][0]["SignedContent"] for p in patches]
    assert signed_content["PowerOfAttorney"]["FullId"]["RegistrationNumber"] == number
    signature = base64.b64decode(signed_content["Signature"])
    assert employee.signer.certificate in signature  # signed by the employee, under the МЧД
