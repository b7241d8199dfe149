"""Throwaway personal certificates: an employee's, naming the person, not the organisation.

Since 2024 an employee signs with a certificate that carries the person's INN
and SNILS and no organisation INN or OGRN; the organisation's authority comes
from an МЧД. :func:`personal_signer` makes such a certificate for tests and
fakes, for an invented person (see :func:`edi_bridge.mchd.synthetic_person`).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ..errors import ValidationError
from ..mchd.model import Organisation, Person
from .software import PrivateKey, SoftwareSigner, make_test_identity, subject_name


def personal_subject(person: Person, organisation: str | None = None) -> x509.Name:
    """The subject of an employee's certificate: name, position, personal INN, SNILS.

    ``organisation`` (a name only) may appear, as in some real certificates; no
    organisation INN or OGRN does.
    """
    given = " ".join(p for p in (person.name, person.patronymic) if p)
    return subject_name(
        organisation=organisation,
        common_name=person.full_name,
        surname=person.surname,
        given_name=given,
        title=person.position,
        inn=person.inn,
        snils=person.snils,
    )


def make_personal_identity(
    person: Person,
    *,
    organisation: str | None = None,
    issuer: x509.Name | None = None,
    issuer_key: PrivateKey | None = None,
    key_type: str = "ec",
    days: int = 365,
    not_before: dt.datetime | None = None,
) -> tuple[PrivateKey, x509.Certificate]:
    """A key and a personal certificate (self-signed unless an issuer is given).

    ``not_before`` moves the validity period (for signatures made in the past).
    """
    key, cert = make_test_identity(
        personal_subject(person, organisation),
        key_type=key_type,
        days=days,
        issuer=issuer,
        issuer_key=issuer_key,
    )
    if not_before is None:
        return key, cert
    builder = (
        x509.CertificateBuilder()
        .subject_name(cert.subject)
        .issuer_name(cert.issuer)
        .public_key(key.public_key())
        .serial_number(cert.serial_number)
        .not_valid_before(not_before)
        .not_valid_after(not_before + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    return key, builder.sign(issuer_key or key, hashes.SHA256())


def personal_signer(person: Person, organisation: str | None = None) -> SoftwareSigner:
    """A software signer on a fresh self-signed personal certificate."""
    key, cert = make_personal_identity(person, organisation=organisation)
    return SoftwareSigner(key, cert)


EMPLOYEE_CASES = (
    "sign-employee",
    "sign-employee-expired-mchd",
    "sign-employee-other-principal",
    "sign-employee-other-representative",
    "sign-employee-no-mchd",
)
"""How a fake counterparty's employee signs: with a valid МЧД, or one of the ways it fails."""


@dataclass(frozen=True)
class EmployeeSigning:
    """An invented employee of ``principal``: their signer and the МЧД to send with it."""

    person: Person
    signer: SoftwareSigner
    power_of_attorney: bytes | None  # EMCHD_1 XML; None for sign-employee-no-mchd


@functools.lru_cache(maxsize=256)
def employee_signing(
    principal: Organisation, case: str = "sign-employee", *, today: dt.date | None = None
) -> EmployeeSigning:
    """An employee's personal signer and an МЧД (valid against the XSD) for ``case``.

    The same principal gives the same invented person; the МЧД is issued by an
    invented head. Results are kept per process (keys are made once), like the
    fakes' counterparty signers. Cases: see :data:`EMPLOYEE_CASES`.
    """
    if case not in EMPLOYEE_CASES:
        raise ValidationError("case", f"must be one of {', '.join(EMPLOYEE_CASES)}")
    from ..mchd.synthetic import build_power_of_attorney, synthetic_organisation, synthetic_person

    seed = int("".join(c for c in (principal.inn or principal.ogrn or "0") if c.isdigit()))
    person = synthetic_person(seed, position="Менеджер")
    signer = personal_signer(person, organisation=principal.name)
    if case == "sign-employee-no-mchd":
        return EmployeeSigning(person, signer, None)
    day = today or dt.date.today()
    start, end = (-400, -1) if case == "sign-employee-expired-mchd" else (-30, 335)
    issuer = synthetic_organisation(seed + 1) if case.endswith("other-principal") else principal
    named = synthetic_person(seed + 1) if case.endswith("other-representative") else person
    document = build_power_of_attorney(
        principal=issuer,
        head=synthetic_person(seed + 2, position="Генеральный директор"),
        representatives=[named],
        issue_date=day + dt.timedelta(days=start),
        valid_until=day + dt.timedelta(days=end),
    )
    return EmployeeSigning(person, signer, document)


__all__ = [
    "EMPLOYEE_CASES",
    "EmployeeSigning",
    "employee_signing",
    "make_personal_identity",
    "personal_signer",
    "personal_subject",
]
