"""The typed model of a machine-readable power of attorney (МЧД, FNS format EMCHD_1).

Plain frozen dataclasses, JSON-ready through ``to_dict``. This module imports no
XML library, so the signature core can use the model without loading lxml; the
reader lives in :mod:`edi_bridge.mchd.reader`.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import ValidationError

NAMESPACE = "urn://x-artefacts/EMCHD_1"
FORMAT_VERSION = "EMCHD_1"
MOSCOW = dt.timezone(dt.timedelta(hours=3), "MSK")
"""The dates of an МЧД are calendar dates; a moment is placed on them in Moscow time."""


class InvalidPowerOfAttorney(ValidationError):
    """An МЧД was refused; ``field`` names the element (or attribute), ``rule`` the rule.

    The message is always one line, whatever the parser or the schema said.
    """

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(" ".join(field.split()), " ".join(rule.split()))


class PrincipalKind(enum.StrEnum):
    ORGANISATION = "organisation"  # ТипДоверит 1, РосОргДовер
    FOREIGN_ORGANISATION = "foreign_organisation"  # 2, ИнОргДовер
    SOLE_PROPRIETOR = "sole_proprietor"  # 3, ИПДовер
    PERSON = "person"  # 4, ФЛДовер


class RepresentativeKind(enum.StrEnum):
    ORGANISATION = "organisation"  # ТипПред 1, СведОрг
    SOLE_PROPRIETOR = "sole_proprietor"  # 2, СведИП
    PERSON = "person"  # 3, СведФизЛ
    BRANCH = "branch"  # 4, СведФилиал
    FOREIGN_BRANCH = "foreign_branch"  # 5, СведИО


class Redelegation(enum.StrEnum):
    """``ПрПередов``: whether the representative may pass the powers on."""

    NONE = "none"  # 1
    ONCE = "once"  # 2
    SUCCESSIVE = "successive"  # 3


@dataclass(frozen=True)
class Person:
    surname: str
    name: str
    patronymic: str | None = None
    inn: str | None = None
    snils: str | None = None  # digits only
    position: str | None = None

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.name, self.patronymic) if p)


@dataclass(frozen=True)
class Organisation:
    name: str
    inn: str | None = None
    kpp: str | None = None
    ogrn: str | None = None


def organisation_of(party: Any) -> Organisation:
    """The :class:`Organisation` of anything with ``name``, ``inn`` and maybe ``kpp``/``ogrn``."""
    return Organisation(
        name=party.name,
        inn=party.inn,
        kpp=getattr(party, "kpp", None),
        ogrn=getattr(party, "ogrn", None),
    )


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    organisation: Organisation | None = None
    person: Person | None = None  # a sole proprietor or a person giving the МЧД
    ogrnip: str | None = None
    heads: tuple[Person, ...] = ()  # ЛицоБезДов: who acts without a power of attorney

    @property
    def inn(self) -> str | None:
        if self.organisation is not None:
            return self.organisation.inn
        return self.person.inn if self.person else None

    @property
    def label(self) -> str:
        if self.organisation is not None:
            return self.organisation.name
        return self.person.full_name if self.person else "(unnamed)"


@dataclass(frozen=True)
class Representative:
    kind: RepresentativeKind
    person: Person | None = None
    organisation: Organisation | None = None

    @property
    def label(self) -> str:
        if self.person is not None:
            return self.person.full_name
        return self.organisation.name if self.organisation else "(unnamed)"


@dataclass(frozen=True)
class Restriction:
    id: str
    code: str
    name: str
    value_code: str | None = None
    value_text: str | None = None
    value_name: str | None = None


@dataclass(frozen=True)
class Power:
    """One machine-readable power (``МашПолн``)."""

    code: str
    name: str
    mnemonic: str | None = None
    restrictions: tuple[Restriction, ...] = ()


@dataclass(frozen=True)
class Powers:
    machine_readable: bool  # ТипПолн 1; 0 is a text power of attorney
    joint: bool  # ПрСовмПолн 1: the representatives act only together
    text: str | None = None
    items: tuple[Power, ...] = ()
    lost_on_delegation: bool | None = None  # ПрУтрПолн

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(p.code for p in self.items)


@dataclass(frozen=True)
class Delegation:
    """What a re-delegation (``Передов``) names about the documents it rests on."""

    original_number: str | None  # НомДоверПерв
    original_issue_date: dt.date
    original_valid_until: dt.date
    parent_number: str | None = None  # НомДоверN of СвПередов, when passed on more than once
    parent_issue_date: dt.date | None = None
    parent_valid_until: dt.date | None = None
    original_principals: tuple[Principal, ...] = ()
    transferred_by: tuple[Principal, ...] = ()  # СвПередПолн


@dataclass(frozen=True)
class PowerOfAttorney:
    """One EMCHD_1 document, read and checked."""

    number: str  # НомДовер, the registry number (a GUID), lower case
    internal_number: str
    issue_date: dt.date
    valid_until: dt.date
    revocable: bool
    redelegation: Redelegation
    principals: tuple[Principal, ...]
    representatives: tuple[Representative, ...]
    powers: Powers
    registry: str  # СведСист: where the registry keeps it
    file_id: str
    delegation: Delegation | None = None
    tax_offices: tuple[str, ...] = ()
    format_version: str = FORMAT_VERSION

    @property
    def is_redelegation(self) -> bool:
        return self.delegation is not None

    def valid_on(self, day: dt.date) -> bool:
        return self.issue_date <= day <= self.valid_until

    def validity_problem(self, moment: dt.datetime | dt.date) -> str | None:
        """Why the МЧД does not cover ``moment`` (expired / not yet valid), or None."""
        day = moment.astimezone(MOSCOW).date() if isinstance(moment, dt.datetime) else moment
        if day < self.issue_date:
            return f"not yet valid on {day.isoformat()} (issued {self.issue_date.isoformat()})"
        if day > self.valid_until:
            return f"expired: valid until {self.valid_until.isoformat()}, used {day.isoformat()}"
        for label, start, end in self._chain_dates():
            if not start <= day <= end:
                return f"the {label} power of attorney is not valid on {day.isoformat()}"
        return None

    def _chain_dates(self) -> list[tuple[str, dt.date, dt.date]]:
        d = self.delegation
        if d is None:
            return []
        dates = [("original", d.original_issue_date, d.original_valid_until)]
        if d.parent_issue_date is not None and d.parent_valid_until is not None:
            dates.append(("parent", d.parent_issue_date, d.parent_valid_until))
        return dates

    def summary(self) -> dict[str, Any]:
        """A short JSON-ready description: number, dates, who, powers."""
        return {
            "number": self.number,
            "internal_number": self.internal_number,
            "issue_date": self.issue_date.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "principal": [_party(p.organisation, p.person, p.ogrnip) for p in self.principals],
            "representative": [_party(r.organisation, r.person) for r in self.representatives],
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return _jsonable(data)  # type: ignore[no-any-return]


def _party(
    org: Organisation | None, person: Person | None, ogrnip: str | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if org is not None:
        data.update({k: v for k, v in asdict(org).items() if v})
    if person is not None:
        data["person"] = person.full_name
        data.update({k: v for k, v in (("inn", person.inn), ("snils", person.snils)) if v})
        if person.position:
            data["position"] = person.position
    if ogrnip:
        data["ogrnip"] = ogrnip
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


__all__ = [
    "FORMAT_VERSION",
    "MOSCOW",
    "NAMESPACE",
    "Delegation",
    "InvalidPowerOfAttorney",
    "Organisation",
    "Person",
    "Power",
    "PowerOfAttorney",
    "Powers",
    "Principal",
    "PrincipalKind",
    "Redelegation",
    "Representative",
    "RepresentativeKind",
    "Restriction",
    "organisation_of",
]
