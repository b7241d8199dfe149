"""The closing document: who sells to whom, for which period, which lines, how much VAT.

Money is :class:`decimal.Decimal` throughout. Amounts are rounded to kopecks
half-up (the usual accounting rule) **per line**, and totals are sums of the
rounded line amounts, so the document adds up exactly the way the format's
checks expect (total = Σ lines, line with VAT = line without VAT + VAT).

Whose VAT status decides what:

* the **seller's** (``Seller.vat_payer``) decides whether VAT is charged at all:
  a seller outside VAT writes "без НДС";
* the **buyer's** (``Counterparty.vat_payer``) decides whether the УПД carries
  the invoice function: a VAT-paying buyer needs the invoice to deduct VAT
  (function СЧФДОП); a buyer outside VAT gets a transfer document only (ДОП),
  which the Tax Code allows with the parties' written consent.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any, Self

import pydantic
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from ..errors import ValidationError
from ..models import Counterparty, Signatory
from ..requisites import check_inn, check_kpp
from ..validation import _FieldError, no_control_characters

KOPECK = Decimal("0.01")
VAT_RATES = frozenset({0, 5, 7, 10, 20, 22})
"""VAT rates (percent) a closing document may charge; 22 % is the base rate from 2026."""

_PERIOD_RE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
# The УПД schema's quantities and prices have at most 26 digits, 11 after the point; sums
# at most 19, 2 after. A line whose quantity × price would not fit is refused up front.
_NUMBER_RE = re.compile(r"^\d{1,15}(\.\d{1,11})?$")
MAX_LINE_AMOUNT = Decimal(10) ** 17


def money(value: Decimal) -> Decimal:
    """Round to kopecks, half-up."""
    return value.quantize(KOPECK, rounding=ROUND_HALF_UP)


def _decimal(value: Any) -> Decimal:
    """Numbers arrive as strings ("1234.50"), never floats, to keep every kopeck."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str) and _NUMBER_RE.fullmatch(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            pass
    raise ValueError(
        'must be a non-negative decimal number written as a string, e.g. "1250.00", '
        "with at most 15 digits before the point and 11 after"
    )


Amount = Annotated[Decimal, pydantic.BeforeValidator(_decimal), pydantic.PlainSerializer(str)]


class Period(str):
    """A calendar month, ``YYYY-MM``."""

    @classmethod
    def parse(cls, value: str, field: str = "period") -> Period:
        if not isinstance(value, str) or not _PERIOD_RE.fullmatch(value):
            raise ValidationError(field, "must be a month written YYYY-MM")
        return cls(value)

    @property
    def first_day(self) -> dt.date:
        return dt.date(int(self[:4]), int(self[5:7]), 1)

    @property
    def last_day(self) -> dt.date:
        first = self.first_day
        nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)


def _period(value: str) -> str:
    if not _PERIOD_RE.fullmatch(value):
        raise ValueError("must be a month written YYYY-MM")
    return value


PeriodStr = Annotated[StrictStr, pydantic.AfterValidator(_period)]


class ClosingKind(enum.StrEnum):
    """What a closing document is; values match :class:`edi_bridge.models.DocumentKind`."""

    ACT = "act"
    INVOICE = "invoice"
    UPD = "upd"


class UpdFunction(enum.StrEnum):
    """The УПД's function (attribute ``Функция``)."""

    INVOICE_AND_TRANSFER = "СЧФДОП"
    TRANSFER = "ДОП"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @pydantic.field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return no_control_characters(value)


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


Text = Annotated[StrictStr, pydantic.AfterValidator(_text)]


class Party(_Model):
    """A side of a closing document, as the document shows it."""

    name: Text
    inn: StrictStr
    kpp: StrictStr | None = None
    address: Text
    person: Text | None = None  # a sole proprietor's full name (Фамилия Имя Отчество)

    @pydantic.model_validator(mode="after")
    def _requisites(self) -> Self:
        rule = check_inn(self.inn)
        if rule:
            raise _FieldError("inn", rule)
        if len(self.inn) == 10:
            if not self.kpp:
                raise _FieldError("kpp", "required for an organisation (10-digit INN)")
            rule = check_kpp(self.kpp)
            if rule:
                raise _FieldError("kpp", rule)
        else:
            if self.kpp:
                raise _FieldError("kpp", "a sole proprietor (12-digit INN) has no KPP")
            if not self.person or len(self.person.split()) < 2:
                raise _FieldError(
                    "person", "a sole proprietor needs a full name (at least 2 words)"
                )
        return self

    @property
    def is_organisation(self) -> bool:
        return len(self.inn) == 10

    @classmethod
    def from_counterparty(cls, cp: Counterparty) -> Party:
        return cls(
            name=cp.name,
            inn=cp.inn,
            kpp=cp.kpp,
            address=cp.contract_postal_address,
            # For a sole proprietor the signatory is the proprietor.
            person=None if cp.is_organisation else cp.signatory.full_name,
        )


class Seller(_Model):
    """Our organisation: the one issuing closing documents."""

    name: Text
    inn: StrictStr
    kpp: StrictStr | None = None
    address: Text
    vat_payer: StrictBool
    vat_rate: Annotated[int, Field(description="percent; used when vat_payer")] = 22
    signatory: Signatory
    person: Text | None = None  # a sole proprietor's full name
    participant_id: Annotated[StrictStr | None, Field(min_length=4, max_length=46)] = None

    @pydantic.model_validator(mode="after")
    def _rules(self) -> Self:
        self.party()  # raises on bad INN/KPP
        if self.vat_rate not in VAT_RATES:
            raise _FieldError("vat_rate", f"must be one of {sorted(VAT_RATES)}")
        return self

    def party(self) -> Party:
        return Party(
            name=self.name, inn=self.inn, kpp=self.kpp, address=self.address, person=self.person
        )


class Basis(_Model):
    """The contract the documents are issued under (основание передачи)."""

    name: Text = "Договор"
    number: Text
    date: dt.date


class LineInput(_Model):
    """One line as a user writes it: what, how many, at what price."""

    name: Annotated[StrictStr, Field(min_length=1, max_length=2000)]
    quantity: Amount = Decimal(1)
    price: Amount
    unit_code: Annotated[StrictStr, Field(pattern=r"^\d{3,4}$")] | None = "796"
    unit_name: Annotated[StrictStr, Field(min_length=1, max_length=255)] | None = "шт"

    @pydantic.model_validator(mode="after")
    def _positive(self) -> Self:
        if self.quantity <= 0:
            raise _FieldError("quantity", "must be greater than zero")
        if self.price <= 0:
            raise _FieldError("price", "must be greater than zero")
        if self.quantity * self.price >= MAX_LINE_AMOUNT:
            raise _FieldError("price", "quantity × price must be below 10^17 roubles")
        if (self.unit_code is None) != (self.unit_name is None):
            raise _FieldError("unit_name", "unit_code and unit_name go together")
        return self


class Line(_Model):
    """One line with its amounts worked out."""

    number: Annotated[int, Field(ge=1)]
    name: StrictStr
    quantity: Amount
    price: Amount
    unit_code: StrictStr | None = None
    unit_name: StrictStr | None = None
    vat_rate: int | None  # None: "без НДС"
    amount: Amount  # without VAT
    vat: Amount
    total: Amount  # with VAT

    @pydantic.model_validator(mode="after")
    def _adds_up(self) -> Self:
        if self.total != self.amount + self.vat:
            raise _FieldError("total", "must equal amount + vat")
        return self


def compute_line(
    number: int, line: LineInput, vat_rate: int | None, prices_include_vat: bool
) -> Line:
    """Work out one line's amounts; rounding happens here and nowhere else."""
    gross_or_net = money(line.quantity * line.price)
    if vat_rate is None:
        amount, vat = gross_or_net, Decimal("0.00")
    elif prices_include_vat:
        # VAT is extracted from the price (расчётная ставка rate/(100+rate)).
        vat = money(gross_or_net * vat_rate / (100 + vat_rate))
        amount = gross_or_net - vat
    else:
        amount = gross_or_net
        vat = money(amount * vat_rate / 100)
    return Line(
        number=number,
        name=line.name,
        quantity=line.quantity,
        price=line.price,
        unit_code=line.unit_code,
        unit_name=line.unit_name,
        vat_rate=vat_rate,
        amount=amount,
        vat=vat,
        total=amount + vat,
    )


class ClosingDocument(_Model):
    """A closing document with every figure worked out; what the УПД generator writes
    and the reader returns."""

    kind: ClosingKind
    number: Annotated[StrictStr, Field(min_length=1, max_length=1000)]
    date: dt.date
    period: PeriodStr
    seller: Party
    buyer: Party
    function: UpdFunction
    basis: Basis | None = None
    currency: Annotated[StrictStr, Field(pattern=r"^\d{3}$")] = "643"
    signatory: Signatory
    lines: Annotated[list[Line], Field(min_length=1)]
    amount: Amount
    vat: Amount
    total: Amount

    @pydantic.model_validator(mode="after")
    def _totals(self) -> Self:
        if self.amount != sum((x.amount for x in self.lines), Decimal("0.00")):
            raise _FieldError("amount", "must equal the sum of the lines' amounts")
        if self.vat != sum((x.vat for x in self.lines), Decimal("0.00")):
            raise _FieldError("vat", "must equal the sum of the lines' VAT")
        if self.total != self.amount + self.vat:
            raise _FieldError("total", "must equal amount + vat")
        return self

    @property
    def vat_charged(self) -> bool:
        return any(x.vat_rate is not None for x in self.lines)


def split_full_name(full_name: str) -> tuple[str, str, str | None]:
    """``"Иванова Мария Петровна"`` -> (surname, first name, patronymic or None)."""
    parts = full_name.split()
    if len(parts) < 2:
        raise ValidationError("full_name", "must have a surname and a first name")
    patronymic = " ".join(parts[2:]) or None
    return parts[0], parts[1], patronymic


def lines_total(lines: Sequence[Line]) -> Decimal:
    return sum((x.total for x in lines), Decimal("0.00"))


__all__ = [
    "VAT_RATES",
    "Basis",
    "ClosingDocument",
    "ClosingKind",
    "Line",
    "LineInput",
    "Party",
    "Period",
    "Seller",
    "UpdFunction",
    "compute_line",
    "money",
    "split_full_name",
]
