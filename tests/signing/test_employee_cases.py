"""Each employee case the fakes can play gives its own verdict: valid by power of
attorney, or the precise reason it is not."""

from __future__ import annotations

import pytest
from lxml import etree

from edi_bridge.mchd import organisation_of
from edi_bridge.models import Counterparty
from edi_bridge.signing import EMPLOYEE_CASES, VerdictStatus, Verifier, employee_signing

from .pki import DOCUMENT

EXPECTED = {
    "sign-employee": (VerdictStatus.VALID_CHAIN_UNCHECKED, None),
    "sign-employee-expired-mchd": (VerdictStatus.MCHD_INVALID, "expired"),
    "sign-employee-other-principal": (VerdictStatus.MCHD_INVALID, "other principal"),
    "sign-employee-other-representative": (VerdictStatus.MCHD_INVALID, "other representative"),
    "sign-employee-no-mchd": (
        VerdictStatus.SIGNER_MISMATCH,
        "personal certificate without a power of attorney",
    ),
}


@pytest.mark.parametrize("case", EMPLOYEE_CASES)
def test_each_employee_case_has_its_verdict(case: str, counterparty: Counterparty) -> None:
    employee = employee_signing(organisation_of(counterparty), case)
    verdict = Verifier(allow_unchecked_chain=True).verify(
        employee.signer.sign(DOCUMENT),
        DOCUMENT,
        counterparty=counterparty,
        powers_of_attorney=[employee.power_of_attorney] if employee.power_of_attorney else [],
    )
    status, reason = EXPECTED[case]
    assert verdict.status is status, verdict.reason
    if reason is None:
        assert verdict.ok
        assert verdict.authority is not None
        assert verdict.authority["representative"][0]["snils"] == employee.person.snils
    else:
        assert reason in (verdict.reason or "")


@pytest.mark.parametrize("case", [c for c in EMPLOYEE_CASES if c != "sign-employee-no-mchd"])
def test_every_employee_mchd_is_valid_against_the_xsd(
    case: str, counterparty: Counterparty
) -> None:
    from reference import require_reference

    (xsd,) = require_reference("mchd").glob("ON_EMCHD_1_*.xsd")
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    document = employee_signing(organisation_of(counterparty), case).power_of_attorney
    assert document is not None
    assert schema.validate(etree.fromstring(document))


def test_the_same_principal_gives_the_same_person(counterparty: Counterparty) -> None:
    one = employee_signing(organisation_of(counterparty))
    two = employee_signing(organisation_of(counterparty), "sign-employee-no-mchd")
    assert one.person == two.person
