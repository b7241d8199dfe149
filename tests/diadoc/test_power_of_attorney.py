"""Our МЧД on the send path, through the Diadoc fake over HTTP: attached with Diadoc's
field names when configured, refused up front when it cannot be right, and checked by
the fake as Diadoc would (one option, principal, representative)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from edi_bridge_providers.diadoc.fake import DiadocFake
from edi_bridge_providers.diadoc.wire import build_message

from edi_bridge import Bridge
from edi_bridge.errors import RejectedRequest, ValidationError
from edi_bridge.fakes.server import FakeServer
from edi_bridge.mchd.model import Organisation
from edi_bridge.mchd.reader import read_power_of_attorney
from edi_bridge.models import Document
from edi_bridge.signing import EmployeeSigning, employee_signing, throwaway_signer
from edi_bridge.testing import sample_counterparty
from edi_bridge.testing.samples import sample_pdf

from .conftest import make_adapter, send_request, settings_for

OUR = Organisation(name="ООО «Поставщик»", inn="7707083893")


def _employee(case: str = "sign-employee") -> EmployeeSigning:
    return employee_signing(OUR, case)


def _posted(sink: io.StringIO) -> list[dict[str, Any]]:
    lines = map(json.loads, sink.getvalue().splitlines())
    return [line for line in lines if line["path"] == "/V3/PostMessage"]


def _document(tmp_path: Path, key: str) -> Document:
    path = tmp_path / f"{key}.pdf"
    path.write_bytes(sample_pdf(f"Contract {key}"))
    return Document.from_path(path, kind="contract", number=f"N-{key}", date=dt.date(2026, 3, 5))


def _by_content(tmp_path: Path, employee: EmployeeSigning) -> dict[str, str]:
    assert employee.power_of_attorney is not None
    poa, sig = tmp_path / "poa.xml", tmp_path / "poa.xml.sig"
    poa.write_bytes(employee.power_of_attorney)
    # The МЧД's own signature is the head's; the fake reads the file, not that signature.
    sig.write_bytes(throwaway_signer().sign(employee.power_of_attorney))
    return {
        "signing.power_of_attorney.file": str(poa),
        "signing.power_of_attorney.signature": str(sig),
    }


def _send(
    fake: DiadocFake, server: FakeServer, tmp_path: Path, employee: EmployeeSigning, **extra: str
) -> tuple[Bridge, str]:
    cp = sample_counterparty("poa-sign")
    fake.add_counterparty(cp, "sign")
    bridge = Bridge.open(
        tmp_path / "edi.db", signer=employee.signer, settings={**settings_for(server), **extra}
    )
    try:
        ex = bridge.send(cp, _document(tmp_path, "poa"), provider="diadoc")
    except BaseException:
        bridge.close()
        raise
    return bridge, ex.id


def test_by_reference_travels_as_full_id_and_the_contract_gets_signed(
    fake: DiadocFake, tmp_path: Path
) -> None:
    employee = _employee()
    assert employee.power_of_attorney is not None
    number = fake.register_power_of_attorney(employee.power_of_attorney)
    sink = io.StringIO()
    with FakeServer(fake, record=sink) as server:
        bridge, ex_id = _send(
            fake,
            server,
            tmp_path,
            employee,
            **{
                "signing.power_of_attorney.registration_number": number,
                "signing.power_of_attorney.issuer_inn": OUR.inn or "",
                "signing.organisation.inn": OUR.inn or "",
            },
        )
        with bridge:
            for _ in range(5):
                bridge.poll(["diadoc"])
            assert bridge.status(ex_id).status == "signed"
    (line,) = _posted(sink)
    signed = line["request"]["DocumentAttachments"][0]["SignedContent"]
    assert signed["PowerOfAttorney"] == {
        "UseDefault": False,
        "FullId": {
            "RegistrationNumber": number,
            "IssuerInn": OUR.inn,
            "RepresentativeInn": employee.person.inn,
        },
    }


def test_by_content_travels_in_contents_with_its_signature(
    fake: DiadocFake, tmp_path: Path
) -> None:
    employee = _employee()
    sink = io.StringIO()
    with FakeServer(fake, record=sink) as server:
        settings = {**_by_content(tmp_path, employee), "signing.organisation.inn": OUR.inn or ""}
        bridge, _ = _send(fake, server, tmp_path, employee, **settings)
        bridge.close()
    (line,) = _posted(sink)
    poa = line["request"]["DocumentAttachments"][0]["SignedContent"]["PowerOfAttorney"]
    assert set(poa) == {"UseDefault", "Contents"}
    (item,) = poa["Contents"]
    assert base64.b64decode(item["Content"]["Content"]) == employee.power_of_attorney
    assert item["Signature"]["Content"]


@pytest.mark.parametrize(
    ("case", "settings", "named"),
    [
        ("sign-employee", {}, "signing.power_of_attorney"),
        ("sign-employee-other-principal", {"signing.organisation.inn": "7707083893"}, "principal"),
        (
            "sign-employee-other-representative",
            {"signing.organisation.inn": "7707083893"},
            "representative",
        ),
        ("sign-employee-expired-mchd", {"signing.organisation.inn": "7707083893"}, "validity"),
    ],
)
def test_a_send_whose_mchd_cannot_be_right_is_refused_before_anything_is_stored(
    fake: DiadocFake,
    server: FakeServer,
    tmp_path: Path,
    case: str,
    settings: dict[str, str],
    named: str,
) -> None:
    employee = _employee(case)
    if case != "sign-employee":
        settings = {**settings, **_by_content(tmp_path, employee)}
    with pytest.raises(ValidationError) as err:
        _send(fake, server, tmp_path, employee, **settings)
    assert named in str(err.value)
    with Bridge.open(tmp_path / "edi.db", settings=settings_for(server)) as bridge:
        assert bridge.list() == []
    assert fake.documents_for_key("poa") == 0


def test_issuer_inn_other_than_our_organisation_is_refused_naming_the_setting(
    fake: DiadocFake, server: FakeServer, tmp_path: Path
) -> None:
    settings = {
        "signing.power_of_attorney.registration_number": "0b5c4f3e-2a1d-4c8b-9e7f-6a5b4c3d2e1f",
        "signing.power_of_attorney.issuer_inn": "7728168971",
        "signing.organisation.inn": OUR.inn or "",
    }
    with pytest.raises(ValidationError, match=r"signing\.power_of_attorney\.issuer_inn"):
        _send(fake, server, tmp_path, _employee(), **settings)


def test_the_head_sends_without_an_mchd(fake: DiadocFake, tmp_path: Path) -> None:
    sink = io.StringIO()
    with FakeServer(fake, record=sink) as server:
        cp = sample_counterparty("poa-head")
        fake.add_counterparty(cp, "sign")
        with Bridge.open(tmp_path / "edi.db", settings=settings_for(server)) as bridge:
            bridge.send(cp, _document(tmp_path, "head"), provider="diadoc")
    (line,) = _posted(sink)
    assert "PowerOfAttorney" not in line["request"]["DocumentAttachments"][0]["SignedContent"]


# -- the fake refuses what Diadoc refuses ----------------------------------------------


def _post_with(
    fake: DiadocFake, server: FakeServer, tmp_path: Path, signer: Any, poa: Any, field: str
) -> None:
    """PostMessage with ``poa`` under ``SignedContent.<field>`` (None: no МЧД at all)."""
    adapter = make_adapter(server)
    try:
        request = send_request(fake, tmp_path, "raw", signer=signer)
        to_box = adapter.recipient_box(request.counterparty)
        assert to_box is not None
        message = build_message(
            request, from_box=adapter.box_id, to_box=to_box, contract_type="Договор"
        )
        if poa is not None:
            message["DocumentAttachments"][0]["SignedContent"][field] = poa
        adapter.client.post_message(message, "raw-op")
    finally:
        adapter.close()


def _full_id(number: str, inn: str = OUR.inn or "") -> dict[str, Any]:
    return {"UseDefault": False, "FullId": {"RegistrationNumber": number, "IssuerInn": inn}}


@pytest.mark.parametrize(
    ("case", "field", "poa", "reason"),
    [
        ("sign-employee-no-mchd", "PowerOfAttorney", None, "PowerOfAttorney is required"),
        ("sign-employee", "PowerOfAttorneyToPost", "registered", "no such field"),
        (
            "sign-employee",
            "PowerOfAttorney",
            {"UseDefault": True, "FullId": "registered"},
            "exactly one of",
        ),
        ("sign-employee", "PowerOfAttorney", {"UseDefault": False}, "exactly one of"),
        ("sign-employee", "PowerOfAttorney", {"UseDefault": True}, "no default power"),
        ("sign-employee", "PowerOfAttorney", "unknown", "not found"),
        ("sign-employee-other-principal", "PowerOfAttorney", "registered", "principal"),
        ("sign-employee-other-representative", "PowerOfAttorney", "registered", "representative"),
        ("sign-employee-expired-mchd", "PowerOfAttorney", "registered", "valid until"),
    ],
)
def test_the_fake_refuses_an_mchd_diadoc_would_refuse(
    fake: DiadocFake,
    server: FakeServer,
    tmp_path: Path,
    case: str,
    field: str,
    poa: Any,
    reason: str,
) -> None:
    employee = _employee(case)
    number = "0b5c4f3e-2a1d-4c8b-9e7f-6a5b4c3d2e1f"
    if employee.power_of_attorney is not None:
        number = fake.register_power_of_attorney(employee.power_of_attorney)
    principal = (
        read_power_of_attorney(employee.power_of_attorney).principals[0].inn
        if (employee.power_of_attorney)
        else OUR.inn
    )
    if poa == "registered":
        poa = _full_id(number, principal or "")
    elif poa == "unknown":
        poa = _full_id("0b5c4f3e-2a1d-4c8b-9e7f-6a5b4c3d2e1f")
    elif isinstance(poa, dict) and poa.get("FullId") == "registered":
        poa = {**poa, "FullId": _full_id(number)["FullId"]}
    with pytest.raises(RejectedRequest) as err:
        _post_with(fake, server, tmp_path, employee.signer, poa, field)
    assert reason in str(err.value)
    assert fake.documents_for_key("raw") == 0
