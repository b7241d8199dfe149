"""МЧД through SBIS, as far as SBIS's public API docs confirm it: our send under an МЧД is
refused before anything is stored (how SBIS carries one is unconfirmed, so it is never sent
without it), and the counterparty's employee signing with no МЧД is held by the default
check; the scenarios with an МЧД are signed by the head at the SBIS fake."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from edi_bridge import Bridge
from edi_bridge.errors import ValidationError
from edi_bridge.mchd.model import Organisation
from edi_bridge.models import ExchangeStatus
from edi_bridge.signing import employee_signing
from edi_bridge.testing import sample_contract

from .conftest import SbisWorld, settings_for
from .helpers import party

OUR = Organisation(name="ООО «Поставщик»", inn="7707083893")


def test_a_send_under_our_mchd_is_refused_before_anything_is_stored(
    sbis: SbisWorld, tmp_path: Path
) -> None:
    fake, server = sbis
    employee = employee_signing(OUR, "sign-employee")
    settings = {
        **settings_for(server),
        "signing.power_of_attorney.registration_number": "0b5c4f3e-2a1d-4c8b-9e7f-6a5b4c3d2e1f",
        "signing.power_of_attorney.issuer_inn": OUR.inn or "",
        "signing.organisation.inn": OUR.inn or "",
    }
    with Bridge.open(tmp_path / "s.db", signer=employee.signer, settings=settings) as bridge:
        with pytest.raises(ValidationError, match=r"signing\.power_of_attorney: .*'sbis'"):
            bridge.send(party("sign", fake), sample_contract("S-1"), provider="sbis")
        assert bridge.list() == []


@pytest.mark.parametrize(
    ("scenario", "signed"),
    [
        ("sign", True),
        ("sign-employee-no-mchd", False),
        # No МЧД can come through the SBIS fake (unconfirmed): the head signs these.
        ("sign-employee", True),
        ("sign-employee-expired-mchd", True),
    ],
)
def test_the_default_check_through_the_sbis_fake(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge], scenario: str, signed: bool
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    ex = bridge.send(party(scenario, fake), sample_contract(f"S-{scenario}"), provider="sbis")
    for _ in range(6):
        bridge.poll(["sbis"])
    done = bridge.status(ex.id)
    assert (done.status == ExchangeStatus.SIGNED) is signed
    verdicts = [h.detail["verdict"] for h in done.history if "verdict" in h.detail]
    assert verdicts
    if not signed:
        assert done.needs_attention
        assert verdicts[-1]["status"] == "signer_mismatch"
        assert "without a power of attorney" in verdicts[-1]["reason"]
