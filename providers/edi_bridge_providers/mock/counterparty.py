"""The mock's counterparty signs: as its head, or as an employee under an МЧД."""

from __future__ import annotations

from typing import Any

from edi_bridge.fakes.identities import counterparty_signer
from edi_bridge.fakes.scenario import Play, Scenario, parse_scenario
from edi_bridge.mchd.model import organisation_of
from edi_bridge.models import Counterparty
from edi_bridge.signing.personal import employee_signing


def sign(row: Any, scenario: Scenario) -> bytes:
    cp = Counterparty.model_validate(row.counterparty)
    if scenario.employee_case is not None:
        employee = employee_signing(organisation_of(cp), scenario.employee_case)
        return employee.signer.sign(bytes(row.content))
    signer = counterparty_signer(
        cp.inn, cp.ogrn, cp.name, cp.signatory.full_name, cp.signatory.position
    )
    return signer.sign(bytes(row.content))


def powers_of_attorney(row: Any) -> tuple[bytes, ...]:
    """The МЧД an employee signed under (issued again, the same per process)."""
    case = parse_scenario(row.scenario).employee_case
    if row.kind != Play.SIGNED or case is None:
        return ()
    cp = organisation_of(Counterparty.model_validate(row.counterparty))
    return tuple(p for p in [employee_signing(cp, case).power_of_attorney] if p)


__all__ = ["powers_of_attorney", "sign"]
