"""Business rules of an МЧД that hold whether or not the XSD is at hand.

Each check raises :class:`InvalidPowerOfAttorney` naming the element (or
attribute) path and the rule. They run on every document the reader accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..requisites import check_inn, check_kpp, check_ogrn, check_ogrnip
from .model import InvalidPowerOfAttorney, PowerOfAttorney

GUID_RE = re.compile(r"[\da-fA-F]{8}-[\da-fA-F]{4}-[\da-fA-F]{4}-[\da-fA-F]{4}-[\da-fA-F]{12}")
_SNILS_RE = re.compile(r"\d{3}-\d{3}-\d{3}[- ]\d{2}")


def refuse(path: str, rule: str) -> InvalidPowerOfAttorney:
    return InvalidPowerOfAttorney(path, rule)


def check_guid(value: str, path: str) -> str:
    if not GUID_RE.fullmatch(value):
        raise refuse(path, f"{value[:60]!r} is not a GUID (8-4-4-4-12 hexadecimal digits)")
    return value.lower()


def snils_problem(digits: str) -> str | None:
    """None for a well-formed SNILS (11 digits, check number right), else the rule."""
    if len(digits) != 11 or not digits.isdigit():
        return "must be 11 digits"
    body, check = digits[:9], int(digits[9:])
    # Numbers up to 001-001-998 were issued before check numbers existed.
    if int(body) <= 1001998:
        return None
    total = sum(int(d) * w for d, w in zip(body, range(9, 0, -1), strict=True))
    expected = total % 101 % 100
    if check != expected:
        return "check number does not match"
    return None


def complete_snils(body: str) -> str:
    """Nine digits completed with their check number (synthetic data)."""
    total = sum(int(d) * w for d, w in zip(body, range(9, 0, -1), strict=True))
    return f"{body}{total % 101 % 100:02d}"


def format_snils(digits: str) -> str:
    """``11223344595`` -> ``112-233-445 95`` (the form the XSD and documents use)."""
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"


def check_snils(value: str, path: str) -> str:
    if not _SNILS_RE.fullmatch(value):
        raise refuse(path, f"{value[:20]!r} is not a SNILS (NNN-NNN-NNN NN)")
    digits = re.sub(r"\D", "", value)
    problem = snils_problem(digits)
    if problem:
        raise refuse(path, f"SNILS {problem}")
    return digits


def _requisite(label: str, check: Callable[[str], str | None]) -> Callable[[str, str], str]:
    """A checker that raises naming the path when ``check`` finds a problem."""

    def run(value: str, path: str) -> str:
        problem = check(value)
        if problem:
            raise refuse(path, f"{label} {problem}")
        return value

    return run


def _inn_of(length: int, what: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return check_inn(value) if len(value) == length else f"must be {length} digits ({what})"

    return check


check_person_inn = _requisite("INN", _inn_of(12, "a person's INN"))
check_org_inn = _requisite("INN", _inn_of(10, "an organisation's INN"))
check_kpp_value = _requisite("KPP", check_kpp)
check_ogrn_value = _requisite("OGRN", check_ogrn)
check_ogrnip_value = _requisite("OGRNIP", check_ogrnip)


def check_document(poa: PowerOfAttorney, base: str) -> None:
    """Rules across elements: dates in order, every party identified, powers present."""
    if poa.valid_until < poa.issue_date:
        raise refuse(
            f"{base}/@СрокДейст",
            f"valid-until {poa.valid_until.isoformat()} is before the issue date "
            f"{poa.issue_date.isoformat()} (dates reversed)",
        )
    d = poa.delegation
    if d is not None:
        if d.original_valid_until < d.original_issue_date:
            raise refuse(
                "Передов/СвПервДовер/@СрокДейст",
                "the original power of attorney's dates are reversed",
            )
        if poa.issue_date < d.original_issue_date:
            raise refuse(
                f"{base}/@ДатаВыдДовер",
                "a re-delegation cannot be issued before the power of attorney it rests on",
            )
    direct = d is None
    for n, principal in enumerate(poa.principals, 1):
        org, person = principal.organisation, principal.person
        where = (
            f"Довер/СвДоверит[{n}]/Доверит"
            if direct
            else f"Передов/СвПервДовер/СвДоверПерв[{n}]/ДоверитПерв"
        )
        if org is not None and not (org.inn or org.ogrn) and principal.kind.value == "organisation":
            raise refuse(where, "the principal is identified by neither INN nor OGRN")
        if person is not None and not (person.inn or person.snils):
            raise refuse(where, "the principal is identified by neither INN nor SNILS")
    for n, rep in enumerate(poa.representatives, 1):
        where = f"Довер/СвУпПред[{n}]/Пред" if direct else f"Передов/СвПолучПолн[{n}]/Пред"
        if rep.person is not None and not (rep.person.snils or rep.person.inn):
            raise refuse(where, "the representative is identified by neither SNILS nor INN")
        org = rep.organisation
        if rep.person is None and org is not None and not (org.inn or org.ogrn):
            raise refuse(where, "the representative is identified by neither INN nor OGRN")
    powers, top = poa.powers, "Довер" if direct else "Передов"
    if powers.machine_readable and not powers.items:
        raise refuse(f"{top}/СвПолн/МашПолн", "ТипПолн=1 (machine-readable) lists no power")
    if not powers.machine_readable and not powers.text:
        raise refuse(f"{top}/СвПолн/ТекстПолн", "ТипПолн=0 (text) carries no text of the powers")


__all__ = [
    "GUID_RE",
    "check_document",
    "check_guid",
    "check_kpp_value",
    "check_ogrn_value",
    "check_ogrnip_value",
    "check_org_inn",
    "check_person_inn",
    "check_snils",
    "complete_snils",
    "format_snils",
    "refuse",
    "snils_problem",
]
