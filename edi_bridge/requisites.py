"""Check digits and patterns of Russian requisites (INN, KPP, OGRN, OGRNIP).

Each ``check_*`` function returns ``None`` for a valid value and a short rule
description otherwise, so that the models can name the field and the rule.
"""

from __future__ import annotations

import re

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_KPP_RE = re.compile(r"([0-9][1-9]|[1-9][0-9])[0-9]{2}[0-9A-Z]{2}[0-9]{3}")

OPERATOR_PREFIXES: dict[str, str] = {"diadoc": "2BM", "sbis": "2BE"}
"""Participant-id prefixes (идентификатор оператора ЭДО) of the operators we know."""


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def check_inn(inn: str) -> str | None:
    if not inn.isascii() or not inn.isdigit() or len(inn) not in (10, 12):
        return "must be 10 digits (organisation) or 12 digits (sole proprietor)"
    if len(inn) == 10:
        if _weighted(inn, _INN10_WEIGHTS) != int(inn[9]):
            return "check digit does not match"
        return None
    if _weighted(inn, _INN12_WEIGHTS_11) != int(inn[10]) or _weighted(
        inn, _INN12_WEIGHTS_12
    ) != int(inn[11]):
        return "check digits do not match"
    return None


def check_kpp(kpp: str) -> str | None:
    if not _KPP_RE.fullmatch(kpp):
        return "must be 9 characters: 4 digits, 2 digits or capital letters, 3 digits"
    return None


def check_ogrn(ogrn: str) -> str | None:
    """OGRN (13 digits) of an organisation."""
    if not ogrn.isascii() or not ogrn.isdigit() or len(ogrn) != 13:
        return "must be 13 digits (OGRN of an organisation)"
    if int(ogrn[:12]) % 11 % 10 != int(ogrn[12]):
        return "check digit does not match"
    return None


def check_ogrnip(ogrnip: str) -> str | None:
    """OGRNIP (15 digits) of a sole proprietor; note the final ``mod 10``."""
    if not ogrnip.isascii() or not ogrnip.isdigit() or len(ogrnip) != 15:
        return "must be 15 digits (OGRNIP of a sole proprietor)"
    if int(ogrnip[:14]) % 13 % 10 != int(ogrnip[14]):
        return "check digit does not match"
    return None


def complete_inn(prefix: str) -> str:
    """Complete 9 or 11 leading digits into a valid INN (test data, examples)."""
    if len(prefix) == 9:
        return prefix + str(_weighted(prefix, _INN10_WEIGHTS))
    if len(prefix) == 10:
        c11 = str(_weighted(prefix, _INN12_WEIGHTS_11))
        return prefix + c11 + str(_weighted(prefix + c11, _INN12_WEIGHTS_12))
    raise ValueError("an INN prefix has 9 (organisation) or 10 (person) digits")


def complete_ogrn(prefix: str) -> str:
    """Complete 12 (OGRN) or 14 (OGRNIP) leading digits."""
    if len(prefix) == 12:
        return prefix + str(int(prefix) % 11 % 10)
    if len(prefix) == 14:
        return prefix + str(int(prefix) % 13 % 10)
    raise ValueError("an OGRN prefix has 12 digits, an OGRNIP prefix 14")


__all__ = [
    "OPERATOR_PREFIXES",
    "check_inn",
    "check_kpp",
    "check_ogrn",
    "check_ogrnip",
    "complete_inn",
    "complete_ogrn",
]
