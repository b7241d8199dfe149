"""Which counterparty signatures of the SBIS fake an employee makes.

Only ``sign-employee-no-mchd``: a personal certificate and no МЧД at all, which needs no
unconfirmed fact about SBIS. How SBIS delivers an employee's МЧД with the signature is
not confirmed from its public API docs (docs/sbis.md), so the scenarios with an МЧД
(``sign-employee``, ``…-expired-mchd``, ``…-other-principal``, ``…-other-representative``)
are signed by the head, like ``sign``.
"""

from __future__ import annotations

from typing import Any

from edi_bridge.fakes.scenario import Scenario
from edi_bridge.mchd.model import Organisation
from edi_bridge.signing.personal import employee_signing

NO_MCHD = "sign-employee-no-mchd"


def employee_signer(scenario: Scenario | None, name: str | None, inn: str) -> Any:
    """The employee's signer for the document's scenario, or None: the head signs."""
    case = scenario.employee_case if scenario is not None else None
    if case != NO_MCHD:
        return None
    return employee_signing(Organisation(name=name or f"ИНН {inn}", inn=inn), case).signer


__all__ = ["NO_MCHD", "employee_signer"]
