"""Our own МЧД: its settings, and the check a send makes before anything is stored.

When our signer's certificate names a person (an employee) rather than our
organisation, every document we sign must travel with an МЧД. It is configured
either by reference (the operator fetches it from the FNS registry) or by
content (the file and its detached signature):

* ``signing.power_of_attorney.registration_number`` — the МЧД's number (GUID), by reference;
* ``signing.power_of_attorney.issuer_inn`` — the principal's INN, by reference;
* ``signing.power_of_attorney.file`` — the EMCHD_1 XML, by content;
* ``signing.power_of_attorney.signature`` — its detached signature, by content.

Environment variables: ``EDI_BRIDGE_SIGNING_POWER_OF_ATTORNEY_<NAME>``.

Our organisation (the МЧД's principal) is ``signing.organisation.inn`` with
optional ``kpp`` and ``ogrn``; without them, the organisation the signer's
certificate names (a head's certificate). :func:`our_authority` joins both
checks for a send.

:func:`check_our_power_of_attorney` raises :class:`~edi_bridge.errors.ValidationError`
naming the setting or the rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from asn1crypto import x509

from .. import config
from ..errors import SignatureError, ValidationError
from ..mchd.model import InvalidPowerOfAttorney, PowerOfAttorney
from ..mchd.rules import GUID_RE
from ..requisites import check_inn
from .authority import Requisites, is_personal, principal_problem, represents
from .identity import SignerIdentity, identity_from_certificate

SECTION = "signing.power_of_attorney"
ORGANISATION = "signing.organisation"


@dataclass(frozen=True)
class OurOrganisation:
    """Our requisites, as the principal of our МЧД."""

    inn: str
    kpp: str | None = None
    ogrn: str | None = None


@dataclass(frozen=True)
class OurPowerOfAttorney:
    """Our МЧД as configured: by reference (number + issuer INN) or by content (files)."""

    registration_number: str | None = None
    issuer_inn: str | None = None
    file: Path | None = None
    signature_file: Path | None = None
    # The signer's personal INN, filled in for a send (Diadoc's FullId.RepresentativeInn).
    representative_inn: str | None = None

    @property
    def by_reference(self) -> bool:
        return self.registration_number is not None

    def content(self) -> bytes:
        assert self.file is not None
        return self.file.read_bytes()

    def signature(self) -> bytes:
        assert self.signature_file is not None
        return self.signature_file.read_bytes()


def _setting(name: str) -> str:
    return f"{SECTION}.{name}"


def our_power_of_attorney(
    settings: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> OurPowerOfAttorney | None:
    """The configured МЧД, or None; ValidationError names a setting that is wrong."""
    cfg = {k: v.strip() for k, v in config.POWER_OF_ATTORNEY.read(settings, environ).items() if v}
    number, inn = cfg.get("registration_number"), cfg.get("issuer_inn")
    file, signature = cfg.get("file"), cfg.get("signature")
    if not (number or inn or file or signature):
        return None
    if (number or inn) and (file or signature):
        raise ValidationError(
            SECTION,
            "set either registration_number with issuer_inn (by reference) or file with "
            "signature (by content), not both",
        )
    if number or inn:
        if not number:
            raise ValidationError(_setting("registration_number"), "required with issuer_inn")
        if not inn:
            raise ValidationError(_setting("issuer_inn"), "required with registration_number")
        if not GUID_RE.fullmatch(number):
            raise ValidationError(_setting("registration_number"), "must be a GUID (8-4-4-4-12)")
        problem = check_inn(inn)
        if problem:
            raise ValidationError(_setting("issuer_inn"), problem)
        return OurPowerOfAttorney(registration_number=number.lower(), issuer_inn=inn)
    if not file:
        raise ValidationError(_setting("file"), "required with signature")
    if not signature:
        raise ValidationError(
            _setting("signature"), "required with file: the МЧД travels with its signature"
        )
    for key, value in (("file", file), ("signature", signature)):
        if not Path(value).is_file():
            raise ValidationError(_setting(key), f"no such file: {Path(value).name}")
    return OurPowerOfAttorney(file=Path(file), signature_file=Path(signature))


def signer_identity(certificate: bytes | SignerIdentity) -> SignerIdentity:
    """Who a certificate names (SignatureError if it cannot be read)."""
    return _identity(certificate)


def _identity(certificate: bytes | SignerIdentity) -> SignerIdentity:
    if isinstance(certificate, SignerIdentity):
        return certificate
    try:
        return identity_from_certificate(x509.Certificate.load(certificate))
    except Exception as exc:  # asn1crypto raises assorted types on a malformed certificate
        raise SignatureError(f"signer's certificate: {type(exc).__name__}") from None


def check_our_power_of_attorney(
    certificate: bytes | SignerIdentity,
    organisation: Requisites,
    configured: OurPowerOfAttorney | None,
    *,
    at: dt.datetime | None = None,
    schema: Path | None = None,
) -> PowerOfAttorney | None:
    """Refuse a send that cannot carry the right МЧД; the МЧД read (by content) or None.

    ``certificate``: our signer's (DER) or its identity; ``organisation``: our
    requisites (INN, and KPP/OGRN where known). By reference only the issuer INN
    can be checked here; the operator checks the rest against the registry.
    """
    identity = _identity(certificate)
    if configured is None:
        if is_personal(identity):
            raise ValidationError(
                SECTION,
                f"the signing certificate names a person ({identity.full_name or 'unnamed'}), "
                f"not the organisation: set {_setting('registration_number')} with "
                f"{_setting('issuer_inn')}, or {_setting('file')} with {_setting('signature')}",
            )
        return None
    if configured.by_reference:
        if configured.issuer_inn != organisation.inn:
            raise ValidationError(
                _setting("issuer_inn"),
                f"principal: issuer INN {configured.issuer_inn} is not our organisation's "
                f"INN {organisation.inn}",
            )
        return None
    from ..mchd.reader import read_power_of_attorney  # lxml, only when an МЧД file is used

    try:
        poa = read_power_of_attorney(configured.content(), schema=schema)
    except InvalidPowerOfAttorney as exc:
        raise ValidationError(_setting("file"), f"not a valid МЧД: {exc}") from None
    kpp, ogrn = getattr(organisation, "kpp", None), getattr(organisation, "ogrn", None)
    problems = [principal_problem(p, organisation.inn, kpp, ogrn) for p in poa.principals]
    if all(problems):
        raise ValidationError(
            _setting("file"),
            f"principal: the МЧД's principal is not our organisation ({problems[0]})",
        )
    if not any(represents(identity, r) for r in poa.representatives):
        raise ValidationError(
            _setting("file"),
            f"representative: the МЧД's representative "
            f"({'; '.join(r.label for r in poa.representatives)}) is not the signer "
            f"({identity.full_name or 'unnamed'})",
        )
    problem = poa.validity_problem(at or dt.datetime.now(dt.UTC))
    if problem:
        raise ValidationError(_setting("file"), f"validity: the МЧД is {problem}")
    return poa


def our_organisation(
    certificate: bytes | SignerIdentity,
    settings: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> OurOrganisation | None:
    """``signing.organisation.*``, else the organisation the certificate names, else None."""
    cfg = {k: v.strip() for k, v in config.ORGANISATION.read(settings, environ).items() if v}
    inn = cfg.get("inn")
    if inn:
        problem = check_inn(inn)
        if problem:
            raise ValidationError(f"{ORGANISATION}.inn", problem)
        return OurOrganisation(inn, cfg.get("kpp"), cfg.get("ogrn"))
    for key in ("kpp", "ogrn"):
        if cfg.get(key):
            raise ValidationError(f"{ORGANISATION}.inn", f"required with {ORGANISATION}.{key}")
    identity = _identity(certificate)
    if identity.organisation_inn:
        return OurOrganisation(identity.organisation_inn, None, identity.ogrn)
    return None


def our_authority(
    certificate: bytes | SignerIdentity,
    settings: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    at: dt.datetime | None = None,
) -> OurPowerOfAttorney | None:
    """The МЧД a send must carry (None: the signer is the head), or ValidationError.

    Everything a send needs to know before it stores anything: the settings are
    well formed, and the МЧД fits our organisation and our signer.
    """
    identity = _identity(certificate)
    configured = our_power_of_attorney(settings, environ)
    organisation = our_organisation(identity, settings, environ)
    if organisation is None:
        if configured is None:
            # A personal certificate without an МЧД: refused naming the МЧД settings.
            check_our_power_of_attorney(identity, OurOrganisation(""), None, at=at)
            return None
        raise ValidationError(
            f"{ORGANISATION}.inn",
            "required when the signing certificate names no organisation: "
            "the МЧД's principal is checked against it",
        )
    check_our_power_of_attorney(identity, organisation, configured, at=at)
    if configured is not None and configured.by_reference and identity.person_inn:
        return replace(configured, representative_inn=identity.person_inn)
    return configured


__all__ = [
    "ORGANISATION",
    "SECTION",
    "OurOrganisation",
    "OurPowerOfAttorney",
    "check_our_power_of_attorney",
    "our_authority",
    "our_organisation",
    "our_power_of_attorney",
    "signer_identity",
]
