"""The fake Diadoc's check of the МЧД a sender attaches to its signature.

``SignedContent.PowerOfAttorney`` is a ``PowerOfAttorneyToPost``: exactly one
of ``FullId{RegistrationNumber, IssuerInn}`` (looked up in the fake's registry,
as Diadoc asks the FNS one), ``UseDefault: true`` (the fake's employees have no
default МЧД, so it fails as Diadoc does without one), ``Contents`` (the files
with their signatures) or ``UseDocumentContent`` (only for a УПД). The МЧД's
principal must be the sending organisation and its representative the
signer; a personal certificate without any МЧД is refused. The error code
``DiadocApi.InvalidPowerOfAttorney`` is the fake's own name (Diadoc's public
docs describe the refusals, not the code).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from typing import Any

from asn1crypto import x509

from edi_bridge.mchd.model import InvalidPowerOfAttorney, PowerOfAttorney
from edi_bridge.mchd.reader import read_power_of_attorney
from edi_bridge.signing.authority import is_personal, principal_problem, represents
from edi_bridge.signing.identity import SignerIdentity, identity_from_certificate
from edi_bridge.signing.parse import parse_signature

from .validate import ApiError, bad

CODE = "DiadocApi.InvalidPowerOfAttorney"
OPTIONS = ("FullId", "UseDefault", "Contents", "Content", "UseDocumentContent")
# Names integrators often use by mistake, and the field Diadoc actually reads.
WRONG_NAMES = {"PowerOfAttorneyToPost": "PowerOfAttorney", "PowerOfAttorneyFullId": "FullId"}


def prevalidate(
    registry: Mapping[str, bytes], number: str, issuer_inn: str, certificate: bytes
) -> dict[str, Any]:
    """PrevalidatePowerOfAttorney's ``PrevalidateStatus``: in force, issuer, representative.

    A number not in the registry is a 404, as Diadoc answers; the error codes in
    ``Errors`` are the fake's (Diadoc's docs do not list them)."""
    found = registry.get(number.lower())
    if found is None:
        raise ApiError(404, "DiadocApi.PowerOfAttorneyNotFound", f"МЧД {number} not found")
    poa = read_power_of_attorney(found)
    try:
        identity = identity_from_certificate(x509.Certificate.load(certificate))
    except Exception:  # asn1crypto raises assorted types on a malformed certificate
        raise bad("ConfidantCertificate.Content is not a DER certificate") from None
    problem = poa.validity_problem(dt.datetime.now(dt.UTC))
    errors = []
    if issuer_inn not in {p.inn for p in poa.principals}:
        errors.append(("IssuerMismatch", f"issuerInn {issuer_inn} is not the МЧД's principal"))
    if problem:
        errors.append(("NotInForce", f"the МЧД is {problem}"))
    if not any(represents(identity, r) for r in poa.representatives):
        errors.append(("ConfidantMismatch", "the certificate's person is not the representative"))
    if not errors:
        return {"Severity": "Success", "StatusNamedId": "IsValid", "StatusText": "valid"}
    return {
        "Severity": "Error",
        "StatusNamedId": "IsNotValid",
        "StatusText": errors[0][1],
        "Errors": [{"Code": code, "Text": text} for code, text in errors],
    }


def _refuse(text: str) -> ApiError:
    return ApiError(400, CODE, text)


def signer_of(signature: bytes) -> SignerIdentity | None:
    """The identity in the signature's first certificate, if it carries one."""
    try:
        certificates = parse_signature(signature).certificates
    except Exception:  # already checked as CMS by validate; a missing certificate is not ours
        return None
    return identity_from_certificate(certificates[0]) if certificates else None


def _content(item: Any, where: str) -> bytes:
    inner = item.get("Content") if isinstance(item, Mapping) else None
    value = inner.get("Content") if isinstance(inner, Mapping) else None
    if not isinstance(value, str) or not value:
        raise bad(f"{where}.Content.Content is required (base64)")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise bad(f"{where}.Content.Content is not valid base64") from None


def _documents(
    poa: Mapping[str, Any], option: str, registry: Mapping[str, bytes], where: str
) -> list[bytes]:
    if option == "FullId":
        full = poa["FullId"]
        number = full.get("RegistrationNumber") if isinstance(full, Mapping) else None
        issuer = full.get("IssuerInn") if isinstance(full, Mapping) else None
        if not number or not issuer:
            raise bad(f"{where}.FullId needs RegistrationNumber and IssuerInn")
        found = registry.get(str(number).lower())
        if found is None:
            raise _refuse(f"power of attorney {number} not found in the registry")
        return [found]
    items = poa[option] if option == "Contents" else [poa[option]]
    if not isinstance(items, list) or not items:
        raise bad(f"{where}.{option} must hold the МЧД files")
    return [_content(item, f"{where}.{option}[{i}]") for i, item in enumerate(items)]


def _read(data: bytes, where: str) -> PowerOfAttorney:
    try:
        return read_power_of_attorney(data)
    except InvalidPowerOfAttorney as exc:
        raise _refuse(f"{where}: not a valid МЧД: {exc}") from None


def check_power_of_attorney(
    signed: Mapping[str, Any],
    signature: bytes,
    *,
    index: int,
    type_id: str,
    sender_inn: str,
    registry: Mapping[str, bytes],
    where: str | None = None,
) -> str | None:
    """Check the attached МЧД as Diadoc would; its number (None: the head signs)."""
    where = where or f"DocumentAttachments[{index}].SignedContent"
    for wrong, right in WRONG_NAMES.items():
        if wrong in signed:
            raise bad(f"{where}.{wrong}: no such field (the МЧД goes in {right})")
    identity = signer_of(signature)
    poa = signed.get("PowerOfAttorney")
    if poa is None:
        if identity is not None and is_personal(identity):
            raise _refuse(
                f"{where}.PowerOfAttorney is required: the signer's certificate names a person"
            )
        return None
    where += ".PowerOfAttorney"
    if not isinstance(poa, Mapping):
        raise bad(f"{where} must be a PowerOfAttorneyToPost object")
    if "PowerOfAttorneyFullId" in poa:
        raise bad(f"{where}.PowerOfAttorneyFullId: no such field (the id goes in FullId)")
    chosen = [k for k in OPTIONS if poa.get(k) not in (None, False, [], {})]
    if len(chosen) != 1:
        raise bad(
            f"{where}: exactly one of {', '.join(OPTIONS)} must be set (got {chosen or 'none'})"
        )
    option = chosen[0]
    if option == "UseDefault":
        raise _refuse("no default power of attorney is set for this employee")
    if option == "UseDocumentContent":
        if type_id != "UniversalTransferDocument":
            raise bad(f"{where}.UseDocumentContent: only for formats that embed the МЧД")
        return None
    documents = [_read(d, where) for d in _documents(poa, option, registry, where)]
    mine = documents[-1]  # the last of a chain names the signer
    if option == "FullId" and str(poa["FullId"].get("IssuerInn")) not in {
        p.inn for p in documents[0].principals
    }:
        raise _refuse(f"{where}.FullId.IssuerInn is not the МЧД's principal")
    if all(principal_problem(p, sender_inn, None, None) for p in documents[0].principals):
        raise _refuse(f"{where}: the МЧД's principal is not the sender's organisation")
    if identity is None or not any(represents(identity, r) for r in mine.representatives):
        raise _refuse(f"{where}: the МЧД's representative is not the signer")
    problem = mine.validity_problem(dt.datetime.now(dt.UTC))
    if problem:
        raise _refuse(f"{where}: the МЧД is {problem}")
    return mine.number


__all__ = ["CODE", "check_power_of_attorney", "prevalidate", "signer_of"]
