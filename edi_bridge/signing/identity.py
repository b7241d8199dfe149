"""Who signed: identity from a qualified certificate, matched to requisites.

Russian qualified certificates carry the organisation's INN (ИНН ЮЛ,
1.2.643.100.4), OGRN or OGRNIP, the person's INN and SNILS, and the person's
name split into surname and given name (имя и отчество). Older certificates put
an organisation's INN into the person-INN attribute padded with ``00`` to
twelve digits; that form is read as the organisation's INN.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from asn1crypto import core, x509

from ..models import Counterparty
from .software import OID_INN, OID_INN_LE, OID_OGRN, OID_OGRNIP, OID_SNILS

_ATTRS = {
    "2.5.4.3": "common_name",
    "2.5.4.4": "surname",
    "2.5.4.42": "given_name",
    "2.5.4.12": "title",
    "2.5.4.10": "organisation",
    "2.5.4.11": "unit",
    "1.2.840.113549.1.9.1": "email",
    OID_INN: "inn",
    OID_INN_LE: "inn_le",
    OID_OGRN: "ogrn",
    OID_OGRNIP: "ogrnip",
    OID_SNILS: "snils",
}


@dataclass(frozen=True)
class SignerIdentity:
    """The signer as its certificate names it (all text, JSON-ready)."""

    common_name: str | None = None
    surname: str | None = None
    given_name: str | None = None
    title: str | None = None
    organisation: str | None = None
    unit: str | None = None
    email: str | None = None
    inn: str | None = None
    inn_le: str | None = None
    ogrn: str | None = None
    ogrnip: str | None = None
    snils: str | None = None
    not_before: str | None = None
    not_after: str | None = None
    serial: str | None = None
    issuer: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def full_name(self) -> str | None:
        """Surname and given name (имя отчество), else the common name."""
        parts = [p for p in (self.surname, self.given_name) if p]
        return " ".join(parts) if parts else self.common_name

    @property
    def organisation_inn(self) -> str | None:
        if self.inn_le:
            return self.inn_le
        if self.inn and len(self.inn) == 12 and self.inn.startswith("00"):
            return self.inn[2:]
        return None

    @property
    def person_inn(self) -> str | None:
        if self.inn and not (len(self.inn) == 12 and self.inn.startswith("00")):
            return self.inn
        return None

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if v not in (None, {})}
        if self.full_name:
            data["full_name"] = self.full_name
        if self.organisation_inn:
            data["organisation_inn"] = self.organisation_inn
        return data


def _text(value: core.Asn1Value) -> str:
    # Unknown attribute types come as Any; parse their universal type generically.
    try:
        native = core.load(value.dump()).native
    except Exception:  # the value is not parseable ASN.1: keep its hex
        return bytes(value.dump()).hex()
    if isinstance(native, bytes):
        return native.hex()
    return str(native).strip()


def identity_from_certificate(cert: x509.Certificate) -> SignerIdentity:
    values: dict[str, str] = {}
    extra: dict[str, str] = {}
    for rdn in cert.subject.chosen:
        for atv in rdn:
            oid = atv["type"].dotted
            text = _text(atv["value"])
            name = _ATTRS.get(oid)
            if name is None:
                extra.setdefault(atv["type"].native or oid, text)
            else:
                values.setdefault(name, text)
    validity = cert["tbs_certificate"]["validity"]
    issuer_cn = None
    for rdn in cert.issuer.chosen:
        for atv in rdn:
            if atv["type"].dotted == "2.5.4.3":
                issuer_cn = _text(atv["value"])
    return SignerIdentity(
        **values,
        not_before=_iso(validity["not_before"].native),
        not_after=_iso(validity["not_after"].native),
        serial=format(cert.serial_number, "x"),
        issuer=issuer_cn,
        extra=extra,
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime) else None


def normalise_name(value: str) -> str:
    """Case-, ё- and spacing-insensitive form of a person's name or position."""
    return " ".join(value.casefold().replace("ё", "е").split())


@dataclass(frozen=True)
class MatchResult:
    mismatches: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def matches(self) -> bool:
        return not self.mismatches


def match_counterparty(identity: SignerIdentity, counterparty: Counterparty) -> MatchResult:
    """Organisation INN (and OGRN/OGRNIP) must match; name and position only warn."""
    mismatches: list[str] = []
    warnings: list[str] = []
    if counterparty.is_organisation:
        got = identity.organisation_inn
        if got is None:
            mismatches.append("certificate carries no organisation INN")
        elif got != counterparty.inn:
            mismatches.append(
                f"certificate organisation INN {got} is not the counterparty's {counterparty.inn}"
            )
        reg, reg_name = identity.ogrn, "OGRN"
    else:
        got = identity.person_inn
        if got != counterparty.inn:
            mismatches.append(
                f"certificate INN {got or '(none)'} is not the counterparty's {counterparty.inn}"
            )
        reg, reg_name = identity.ogrnip, "OGRNIP"
    if reg is None:
        warnings.append(f"certificate carries no {reg_name}")
    elif reg != counterparty.ogrn:
        mismatches.append(
            f"certificate {reg_name} {reg} is not the counterparty's {counterparty.ogrn}"
        )
    expected = counterparty.signatory
    name = identity.full_name
    if name is None or normalise_name(name) != normalise_name(expected.full_name):
        warnings.append(
            f"signatory {name or '(unnamed)'} is not the one in the requisites "
            f"({expected.full_name})"
        )
    if identity.title and normalise_name(identity.title) != normalise_name(expected.position):
        warnings.append(
            f"signatory position {identity.title!r} differs from the requisites "
            f"({expected.position!r})"
        )
    return MatchResult(tuple(mismatches), tuple(warnings))


__all__ = [
    "MatchResult",
    "SignerIdentity",
    "identity_from_certificate",
    "match_counterparty",
    "normalise_name",
]
