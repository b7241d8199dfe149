"""Whose authority a signature carries: the certificate's own, or an МЧД's.

The head of an organisation signs with a certificate naming the organisation
(its INN and OGRN): the authority is the certificate. An employee signs with a
personal certificate (their INN and SNILS) and needs an МЧД in which the
organisation (the principal) names them as representative, valid when they
signed, and granting the powers the policy asks for. :func:`check_authority`
decides which holds and why not; the FNS registry itself is not consulted (the
operator does that and may report its own status, which wins when negative).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .. import config
from ..mchd.model import PowerOfAttorney, Principal, PrincipalKind, Representative
from ..models import Counterparty
from .identity import SignerIdentity, match_counterparty

NO_POWER_OF_ATTORNEY = "personal certificate without a power of attorney"


class Requisites(Protocol):
    """What an organisation is identified by (Counterparty, Seller, …)."""

    @property
    def inn(self) -> str: ...


@dataclass(frozen=True)
class OperatorPoaStatus:
    """The operator's own verdict on an МЧД (it asks the FNS registry; we do not).

    ``ok``: True valid, False invalid or revoked, None could not be checked.
    ``status`` is the operator's name for it (Diadoc: ``IsValid``, ``IsNotValid``, …).
    """

    ok: bool | None
    status: str
    text: str | None = None
    operator: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"ok": self.ok, "status": self.status, "text": self.text, "operator": self.operator}
        return {k: v for k, v in data.items() if v is not None or k == "ok"}


DIADOC_STATUS: dict[str, bool | None] = {
    "IsValid": True,
    "IsNotValid": False,
    "ValidationError": False,
    "CanNotBeValidated": None,
    "UnknownStatus": None,
}
"""Diadoc's ``PowerOfAttorneyValidationStatus.StatusNamedId`` values."""


def diadoc_status(named_id: str, text: str | None = None) -> OperatorPoaStatus:
    return OperatorPoaStatus(DIADOC_STATUS.get(named_id), named_id, text, "diadoc")


@dataclass(frozen=True)
class PowersPolicy:
    """Which machine-readable powers an МЧД must grant, per document kind.

    ``required[kind]``: any one of these codes will do; a kind absent from the
    mapping needs no particular power. ``accept_text``: a text МЧД (no codes)
    is accepted where codes are required.
    """

    required: Mapping[str, frozenset[str]] = field(default_factory=dict)
    accept_text: bool = False

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
    ) -> PowersPolicy:
        """``mchd.required_powers.<kind>`` = comma-separated codes; ``mchd.accept_text_powers``."""
        section = config.REQUIRED_POWERS.read(settings, environ)
        required = {
            kind: frozenset(c.strip() for c in value.split(",") if c.strip())
            for kind, value in section.items()
        }
        accept = config.MCHD.read(settings, environ).get("accept_text_powers")
        return cls({k: v for k, v in required.items() if v}, config.flag(accept))

    def problem(self, poa: PowerOfAttorney, kind: str | None) -> str | None:
        codes = self.required.get(kind or "", frozenset())
        if not codes:
            return None
        if not poa.powers.machine_readable:
            if self.accept_text:
                return None
            return f"power missing: a text МЧД is not accepted for {kind} (codes required)"
        if poa.powers.codes & codes:
            return None
        return f"power missing: none of {', '.join(sorted(codes))} is granted for {kind}"


@dataclass(frozen=True)
class Authority:
    """The outcome: ``status`` is ``valid``, ``mchd_invalid`` or ``signer_mismatch``."""

    status: str
    reason: str | None = None
    kind: str | None = None  # certificate | power_of_attorney
    power_of_attorney: PowerOfAttorney | None = None
    operator_status: OperatorPoaStatus | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "valid"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind} if self.kind else {}
        if self.power_of_attorney is not None:
            data.update(self.power_of_attorney.summary())
        if self.operator_status is not None:
            data["operator_status"] = self.operator_status.to_dict()
        return data


def _digits(value: str | None) -> str | None:
    return "".join(c for c in value if c.isdigit()) or None if value else None


def is_personal(identity: SignerIdentity) -> bool:
    """Whether the certificate names a person and no organisation."""
    return identity.organisation_inn is None and bool(identity.snils or identity.person_inn)


def represents(identity: SignerIdentity, rep: Representative) -> bool:
    """The certificate's person is ``rep``: SNILS when both carry one, else the INN."""
    if rep.person is not None:
        snils, rep_snils = _digits(identity.snils), rep.person.snils
        if snils and rep_snils:
            return snils == rep_snils
        inn = identity.person_inn
        return bool(inn and rep.person.inn and inn == rep.person.inn)
    org = rep.organisation
    return bool(org and org.inn and identity.organisation_inn == org.inn)


def principal_problem(principal: Principal, inn: str, kpp: str | None, ogrn: str | None) -> str:
    """Why ``principal`` is not the organisation (or proprietor) given; '' when it is."""
    org, person = principal.organisation, principal.person
    if org is not None:
        if org.inn and org.inn != inn:
            return f"principal INN {org.inn} is not {inn}"
        if not org.inn and (not org.ogrn or org.ogrn != ogrn):
            return f"principal OGRN {org.ogrn} is not {ogrn}"
        if org.kpp and kpp and org.kpp != kpp:
            return f"principal KPP {org.kpp} is not {kpp}"
        if org.ogrn and ogrn and org.ogrn != ogrn:
            return f"principal OGRN {org.ogrn} is not {ogrn}"
        return ""
    if person is not None and principal.kind is PrincipalKind.SOLE_PROPRIETOR:
        if person.inn != inn:
            return f"principal INN {person.inn} is not {inn}"
        if principal.ogrnip and ogrn and principal.ogrnip != ogrn:
            return f"principal OGRNIP {principal.ogrnip} is not {ogrn}"
        return ""
    return f"the principal is a {principal.kind.value}, not the organisation with INN {inn}"


def poa_problem(
    poa: PowerOfAttorney, identity: SignerIdentity, party: Requisites, when: dt.datetime
) -> str | None:
    """The first rule ``poa`` breaks for this signer, principal and moment, or None."""
    kpp, ogrn = getattr(party, "kpp", None), getattr(party, "ogrn", None)
    if not any(represents(identity, r) for r in poa.representatives):
        who = f"SNILS {identity.snils}" if identity.snils else f"INN {identity.person_inn}"
        reps = "; ".join(r.label for r in poa.representatives)
        return (
            f"other representative: the certificate's person ({who}) "
            f"is not in МЧД {poa.number} ({reps})"
        )
    problems = [principal_problem(p, party.inn, kpp, ogrn) for p in poa.principals]
    if all(problems):
        return f"other principal: {problems[0]}"
    validity = poa.validity_problem(when)
    if validity:
        return f"МЧД {poa.number} {validity}"
    return None


def check_authority(
    identity: SignerIdentity,
    counterparty: Counterparty | None,
    *,
    powers_of_attorney: Sequence[PowerOfAttorney] = (),
    signing_time: dt.datetime,
    document_kind: str | None = None,
    policy: PowersPolicy | None = None,
    operator_status: OperatorPoaStatus | None = None,
) -> Authority:
    """Whether ``identity`` may sign for ``counterparty``, by certificate or by МЧД.

    Without a counterparty (``edi-bridge verify`` given only an МЧД) the МЧД is
    checked against its own principal: representative, dates and powers still hold.
    """
    if counterparty is not None:
        head = match_counterparty(identity, counterparty)
        if head.matches:
            return Authority("valid", kind="certificate", warnings=head.warnings)
        if not powers_of_attorney:
            if is_personal(identity):
                return Authority("signer_mismatch", NO_POWER_OF_ATTORNEY)
            return Authority("signer_mismatch", "; ".join(head.mismatches), warnings=head.warnings)
    elif not powers_of_attorney:
        return Authority("valid")
    status = operator_status
    if status is not None and status.ok is False:
        text = f": {status.text}" if status.text else ""
        return Authority(
            "mchd_invalid",
            f"revoked or invalid as the operator reports it ({status.status}{text})",
            "power_of_attorney",
            powers_of_attorney[-1],
            status,
        )
    problems: list[str] = []
    for poa in powers_of_attorney:
        party = counterparty or _own_principal(poa)
        problem = poa_problem(poa, identity, party, signing_time)
        if problem is None:
            problem = (policy or PowersPolicy()).problem(poa, document_kind)
        warnings: tuple[str, ...] = ()
        if problem is None:
            problem, warnings = _chain(poa, powers_of_attorney, signing_time)
        if counterparty is None:
            warnings += ("no counterparty given: the МЧД's principal was not compared with one",)
        if poa.powers.joint and len(poa.representatives) > 1:
            # ПрСовмПолн=1: the representatives act only together; one signature is not checked
            # against the others here.
            warnings += ("joint powers: the МЧД's representatives may act only together",)
        if problem is None:
            return Authority("valid", None, "power_of_attorney", poa, status, warnings)
        problems.append(problem)
    return Authority(
        "mchd_invalid", problems[0], "power_of_attorney", powers_of_attorney[0], status
    )


@dataclass(frozen=True)
class _Party:
    inn: str
    kpp: str | None
    ogrn: str | None


def _own_principal(poa: PowerOfAttorney) -> _Party:
    first = poa.principals[0]
    org = first.organisation
    if org is not None:
        return _Party(org.inn or "", org.kpp, org.ogrn)
    return _Party(first.inn or "", None, first.ogrnip)


def _chain(
    poa: PowerOfAttorney, given: Sequence[PowerOfAttorney], when: dt.datetime
) -> tuple[str | None, tuple[str, ...]]:
    """A re-delegation rests on its original: when that was supplied, it must hold too."""
    d = poa.delegation
    if d is None or d.original_number is None:
        return None, ()
    original = next((g for g in given if g.number == d.original_number), None)
    if original is None:
        return None, (f"the original МЧД {d.original_number} was not supplied; not checked here",)
    problem = original.validity_problem(when)
    return (f"the original МЧД {original.number} {problem}" if problem else None), ()


__all__ = [
    "DIADOC_STATUS",
    "NO_POWER_OF_ATTORNEY",
    "Authority",
    "OperatorPoaStatus",
    "PowersPolicy",
    "Requisites",
    "check_authority",
    "diadoc_status",
    "is_personal",
    "poa_problem",
    "principal_problem",
    "represents",
]
