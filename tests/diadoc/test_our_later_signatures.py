"""Our МЧД beyond the document: receipts (ИОП) signed by an employee carry it in
``SignedContent.PowerOfAttorney`` and the fake checks it; ``PrevalidatePowerOfAttorney``
asked before PostMessage when ``diadoc.prevalidate_power_of_attorney`` is set, and a
negative answer refuses the send, nothing posted."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest
from edi_bridge_providers.diadoc.adapter import DiadocProvider
from edi_bridge_providers.diadoc.conformance import differences
from edi_bridge_providers.diadoc.fake import DiadocFake
from edi_bridge_providers.diadoc.ourpoa import signature_power_of_attorney

from edi_bridge import Bridge
from edi_bridge.errors import ProviderError
from edi_bridge.fakes.server import FakeOptions, FakeServer
from edi_bridge.models import ExchangeStatus
from edi_bridge.provider import ProviderContext
from edi_bridge.signing import EmployeeSigning, OurPowerOfAttorney, employee_signing
from edi_bridge.testing import sample_counterparty

from .conftest import make_adapter, settings_for
from .test_power_of_attorney import OUR, _document
from .test_wire_fidelity import post_upd


def _calls(sink: io.StringIO, path: str) -> list[dict[str, Any]]:
    return [c for c in map(json.loads, sink.getvalue().splitlines()) if c["path"] == path]


def _employee_adapter(
    server: FakeServer, employee: EmployeeSigning, poa: OurPowerOfAttorney | None
) -> DiadocProvider:
    adapter = make_adapter(server)
    adapter.context = dataclasses.replace(
        adapter.context, signer=employee.signer, power_of_attorney=lambda: poa
    )
    return adapter


def _receipt_round(adapter: DiadocProvider, fake: DiadocFake, tmp_path: Path) -> dict[str, Any]:
    try:
        message_id = post_upd(adapter, fake, tmp_path, "upd-emp")
        cursor = adapter.poll(None).cursor
        adapter.poll(cursor)
    finally:
        adapter.close()
    document = next(e for e in fake.world.messages[message_id]["Entities"] if e.get("DocumentInfo"))
    return dict(document["DocumentInfo"]["SenderReceiptMetadata"])


def test_an_employee_s_receipt_carries_our_mchd_and_diadoc_takes_it(tmp_path: Path) -> None:
    fake = DiadocFake(FakeOptions(extra={"seed": "4"}))
    employee = employee_signing(OUR, "sign-employee")
    assert employee.power_of_attorney is not None
    number = fake.register_power_of_attorney(employee.power_of_attorney)
    ours = OurPowerOfAttorney(registration_number=number, issuer_inn=OUR.inn)
    sink = io.StringIO()
    with FakeServer(fake, record=sink) as server:
        metadata = _receipt_round(_employee_adapter(server, employee, ours), fake, tmp_path)
    assert metadata == {"ReceiptStatus": "Finished"}
    (patch,) = _calls(sink, "/V4/PostMessagePatch")
    assert differences(patch["request"], "MessagePatchToPostV2") == []
    signed = patch["request"]["Receipts"][0]["SignedContent"]
    assert signed["PowerOfAttorney"] == {
        "UseDefault": False,
        "FullId": {"RegistrationNumber": number, "IssuerInn": OUR.inn},
    }


def test_an_employee_s_receipt_without_our_mchd_is_refused_by_the_fake(tmp_path: Path) -> None:
    fake = DiadocFake(FakeOptions(extra={"seed": "4"}))
    employee = employee_signing(OUR, "sign-employee")
    sink = io.StringIO()
    with FakeServer(fake, record=sink) as server:
        metadata = _receipt_round(_employee_adapter(server, employee, None), fake, tmp_path)
    # Refused as Diadoc would (a personal certificate with no МЧД): still owed.
    assert metadata == {"ReceiptStatus": "HaveToCreateReceipt"}
    (patch,) = _calls(sink, "/V4/PostMessagePatch")
    assert patch["status"] == 400
    assert "PowerOfAttorney is required" in json.dumps(patch["response"], ensure_ascii=False)


def test_the_attachment_for_later_signatures_is_none_for_our_head() -> None:
    context = ProviderContext(config={}, power_of_attorney=lambda: None)
    assert signature_power_of_attorney(context) is None
    assert signature_power_of_attorney(ProviderContext(config={})) is None


def _send(
    fake: DiadocFake, server: FakeServer, tmp_path: Path, case: str, *, register: bool = True
) -> tuple[str, str | None]:
    employee = employee_signing(OUR, case)
    assert employee.power_of_attorney is not None
    number = (
        fake.register_power_of_attorney(employee.power_of_attorney)
        if register
        else "0b5c4f3e-2a1d-4c8b-9e7f-6a5b4c3d2e1f"
    )
    cp = sample_counterparty(f"pre-{case}")
    fake.add_counterparty(cp, "sign")
    settings = {
        **settings_for(server),
        "diadoc.prevalidate_power_of_attorney": "true",
        "signing.power_of_attorney.registration_number": number,
        "signing.power_of_attorney.issuer_inn": OUR.inn or "",
        "signing.organisation.inn": OUR.inn or "",
    }
    with Bridge.open(tmp_path / f"{case}.db", signer=employee.signer, settings=settings) as b:
        try:
            ex = b.send(cp, _document(tmp_path, case), provider="diadoc")
        except ProviderError as exc:
            return "refused", str(exc)
        return b.status(ex.id).status, b.status(ex.id).reason


def test_prevalidation_passes_then_the_message_is_posted(tmp_path: Path) -> None:
    fake, sink = DiadocFake(), io.StringIO()
    with FakeServer(fake, record=sink) as server:
        status, _ = _send(fake, server, tmp_path, "sign-employee")
    assert status == ExchangeStatus.SENT
    (check,) = _calls(sink, "/PrevalidatePowerOfAttorney")
    assert check["response"]["PrevalidateStatus"]["StatusNamedId"] == "IsValid"
    assert set(check["query"]) >= {"boxId", "registrationNumber", "issuerInn"}
    # Both bodies hold to Diadoc's messages, field for field.
    assert differences(check["request"], "PowerOfAttorneyPrevalidateRequest") == []
    assert differences(check["response"], "PowerOfAttorneyPrevalidateResult") == []
    assert len(_calls(sink, "/V3/PostMessage")) == 1


@pytest.mark.parametrize(
    ("case", "register", "said"),
    [
        ("sign-employee-expired-mchd", True, "IsNotValid"),
        ("sign-employee", False, "did not find our МЧД"),
    ],
)
def test_a_negative_prevalidation_refuses_the_send_naming_the_setting(
    tmp_path: Path, case: str, register: bool, said: str
) -> None:
    fake, sink = DiadocFake(), io.StringIO()
    with FakeServer(fake, record=sink) as server:
        status, reason = _send(fake, server, tmp_path, case, register=register)
    assert status != ExchangeStatus.SENT
    assert reason is not None
    assert "diadoc.prevalidate_power_of_attorney" in reason
    assert said in reason
    assert _calls(sink, "/V3/PostMessage") == []
