"""The mock's counterparty signs: as its head, or as an employee under an МЧД."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from edi_bridge.fakes.identities import counterparty_signer
from edi_bridge.fakes.scenario import Play, Scenario, parse_scenario
from edi_bridge.mchd.model import organisation_of
from edi_bridge.models import Counterparty
from edi_bridge.provider import EventFile
from edi_bridge.safexml import parse_untrusted
from edi_bridge.signing.personal import employee_signing

from .revocation import CODES


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


# The counterparty's signed refusals, in the shape of the FNS notice the operators carry.
_REFUSALS = {
    Play.REJECTED.value: ("rejection", "rejection.xml"),
    CODES[Play.REVOCATION_REJECTED]: ("revocation_rejection", "revocation-rejection.xml"),
}


def signed_refusal(row: Any) -> tuple[str | None, tuple[EventFile, ...]]:
    """For a refusal: its reason as read back from the signed XML, and the XML with the
    counterparty's signature, kept with the exchange. Other events: their reason as is."""
    if row.kind not in _REFUSALS:
        return row.reason, ()
    role, name = _REFUSALS[row.kind]
    xml = (
        '<?xml version="1.0" encoding="utf-8"?><Файл><Документ><СвУведУточ>'
        f"<ТекстУведУточ>{escape(row.reason or '')}</ТекстУведУточ>"
        "</СвУведУточ></Документ></Файл>"
    ).encode()
    cp = Counterparty.model_validate(row.counterparty)
    signer = counterparty_signer(
        cp.inn, cp.ogrn, cp.name, cp.signatory.full_name, cp.signatory.position
    )
    text = parse_untrusted(xml, what="rejection XML").findtext(".//ТекстУведУточ")
    files = (
        EventFile(role, name, xml),
        EventFile(f"{role}_signature", f"{name}.sig", signer.sign(xml)),
    )
    return text or row.reason, files


__all__ = ["powers_of_attorney", "sign", "signed_refusal"]
