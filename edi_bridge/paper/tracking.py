"""Tracking number rules: Russian Post (domestic 14 digits and UPU S10), CDEK, couriers.

Russian Post domestic barcodes are ``index(6) + month(2) + serial(5) + check``;
the check digit is ``(10 - S mod 10) mod 10`` with ``S = 3·(odd positions) +
(even positions)`` over the first 13 digits. International items use the UPU
S10 format: two letters, eight digits, a check digit over them with weights
8 6 4 2 3 5 9 7 (``11 - S mod 11``; 10 gives 0, 11 gives 5) and a two-letter
country code.
"""

from __future__ import annotations

import re

from ..errors import ValidationError

_DOMESTIC_RE = re.compile(r"[0-9]{14}")
_S10_RE = re.compile(r"[A-Z]{2}[0-9]{9}[A-Z]{2}")
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def domestic_check_digit(first13: str) -> int:
    """The 14th digit of a Russian Post domestic barcode."""
    if not re.fullmatch(r"[0-9]{13}", first13):
        raise ValueError("needs exactly 13 digits")
    odd = sum(int(d) for d in first13[0::2])
    even = sum(int(d) for d in first13[1::2])
    return (10 - (3 * odd + even) % 10) % 10


def s10_check_digit(serial8: str) -> int:
    """The check digit of a UPU S10 item identifier from its 8-digit serial."""
    if not re.fullmatch(r"[0-9]{8}", serial8):
        raise ValueError("needs exactly 8 digits")
    check = 11 - sum(int(d) * w for d, w in zip(serial8, _S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


def _compact(number: str) -> str:
    # People copy numbers with spaces or dashes from receipts.
    return re.sub(r"[\s\-]", "", number).upper()


def russian_post_rule(number: str) -> str | None:
    """Why ``number`` is not a Russian Post barcode, or None when it is one."""
    value = _compact(number)
    if _DOMESTIC_RE.fullmatch(value):
        if int(value[13]) != domestic_check_digit(value[:13]):
            return "check digit (14th) does not match the first 13 digits"
        return None
    if _S10_RE.fullmatch(value):
        if int(value[10]) != s10_check_digit(value[2:10]):
            return "S10 check digit (11th character) does not match the serial"
        return None
    return (
        "must be 14 digits (domestic) or 2 letters + 9 digits + 2 letters "
        "(international S10, e.g. RA123456785RU)"
    )


def check_russian_post(number: str, field: str = "tracking") -> str:
    """The barcode in canonical form; raises ValidationError naming the rule."""
    rule = russian_post_rule(number)
    if rule:
        raise ValidationError(field, rule)
    return _compact(number)


def check_cdek(number: str, field: str = "tracking") -> str:
    """A CDEK order number: digits only."""
    value = _compact(number)
    if not re.fullmatch(r"[0-9]{6,20}", value):
        raise ValidationError(field, "a CDEK order number is 6 to 20 digits")
    return value


def check_free_form(number: str, field: str = "tracking") -> str:
    """A courier's waybill: 1 to 64 visible characters."""
    value = number.strip()
    if not value or len(value) > 64 or not value.isprintable():
        raise ValidationError(field, "must be 1 to 64 printable characters")
    return value


__all__ = [
    "check_cdek",
    "check_free_form",
    "check_russian_post",
    "domestic_check_digit",
    "russian_post_rule",
    "s10_check_digit",
]
