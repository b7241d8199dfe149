"""The counterparty's employee signs with an МЧД, end to end through the Diadoc fake over
HTTP: the fake shows the МЧД on the signature (``PowerOfAttorneyInfo`` with Diadoc's
status), the adapter fetches it, the Bridge's signature check decides."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from edi_bridge_providers.diadoc.fake import DiadocFake

from edi_bridge import Bridge
from edi_bridge.fakes.server import FakeServer
from edi_bridge.testing import sample_counterparty
from edi_bridge.testing.samples import sample_contract

from .conftest import settings_for


@pytest.fixture
def checked(fake: DiadocFake, tmp_path: Path) -> Iterator[Bridge]:
    with (
        FakeServer(fake) as server,
        Bridge.open(tmp_path / "edi.db", settings=settings_for(server)) as bridge,
    ):
        # The default check: no trust store, so the fakes' self-signed chains are unchecked.
        yield bridge


def _run(bridge: Bridge, fake: DiadocFake, scenario: str) -> tuple[str, bool, dict[str, Any]]:
    cp = sample_counterparty(f"dd-{scenario}")
    fake.add_counterparty(cp, scenario)
    ex = bridge.send(cp, sample_contract(f"D-{scenario}"), provider="diadoc")
    for _ in range(5):
        bridge.poll(["diadoc"])
    done = bridge.status(ex.id)
    verdicts = [h.detail["verdict"] for h in bridge.history(ex.id) if "verdict" in h.detail]
    assert len(verdicts) == 1, verdicts
    return done.status, done.needs_attention, verdicts[0]


def test_the_head_signs_on_the_certificate_s_own_authority(
    checked: Bridge, fake: DiadocFake
) -> None:
    status, attention, verdict = _run(checked, fake, "sign")
    assert (status, attention) == ("signed", False)
    assert verdict["authority"]["kind"] == "certificate"


def test_an_employee_with_a_valid_mchd_signs_with_diadoc_s_status_recorded(
    checked: Bridge, fake: DiadocFake
) -> None:
    status, attention, verdict = _run(checked, fake, "sign-employee")
    assert (status, attention) == ("signed", False)
    authority = verdict["authority"]
    assert authority["kind"] == "power_of_attorney"
    assert authority["number"] in fake.world.powers_of_attorney
    assert authority["operator_status"]["status"] == "IsValid"


@pytest.mark.parametrize(
    ("scenario", "status"),
    [
        ("sign-employee-expired-mchd", "mchd_invalid"),
        ("sign-employee-other-principal", "mchd_invalid"),
        ("sign-employee-other-representative", "mchd_invalid"),
        ("sign-employee-no-mchd", "signer_mismatch"),
    ],
)
def test_an_employee_signature_the_mchd_does_not_back_is_held_with_the_reason(
    checked: Bridge, fake: DiadocFake, scenario: str, status: str
) -> None:
    got, attention, verdict = _run(checked, fake, scenario)
    assert got != "signed"
    assert attention is True
    assert (verdict["ok"], verdict["status"]) == (False, status)
    assert verdict["reason"]
