"""The inputs of closing runs and ``upd build``: a document before its figures
(:class:`DocumentSpec`), a batch line, the seller, and turning them into a
:class:`~edi_bridge.closing.model.ClosingDocument` (:func:`build_document`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Self

import pydantic
from pydantic import Field, StrictBool, StrictStr

from ..models import Counterparty
from ..validation import _as_validation_error, _FieldError, load_json_object, read_input
from .model import (
    Basis,
    ClosingDocument,
    ClosingKind,
    LineInput,
    Party,
    PeriodStr,
    Seller,
    UpdFunction,
    _Model,
    compute_line,
)


class DocumentSpec(_Model):
    """One closing document in a batch line or an ``upd build`` input, before the figures.

    ``kind`` ``upd`` is generated as УПД 5.03 XML. ``act`` and ``invoice`` are
    files the accounting system produced (``files``: paths relative to the
    batch file); they are delivered as they are.
    """

    kind: ClosingKind = ClosingKind.UPD
    number: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    date: dt.date
    basis: Basis | None = None
    prices_include_vat: StrictBool = False
    lines: list[LineInput] = Field(default_factory=list)
    files: list[StrictStr] = Field(default_factory=list)

    @pydantic.model_validator(mode="after")
    def _content(self) -> Self:
        if self.kind is ClosingKind.UPD and not self.lines:
            raise _FieldError("lines", "a УПД needs at least one line")
        if self.kind is not ClosingKind.UPD and not self.files:
            raise _FieldError("files", f"an {self.kind.value} is delivered as a file; name it")
        return self


class UpdInput(DocumentSpec):
    """The input of ``edi-bridge upd build``: one document with both parties."""

    period: PeriodStr
    seller: Seller
    buyer: Counterparty


class BatchLine(_Model):
    """One line of a closing batch (JSON Lines): a counterparty and its documents."""

    counterparty: Counterparty
    documents: Annotated[list[DocumentSpec], Field(min_length=1)]

    @pydantic.model_validator(mode="after")
    def _unique_numbers(self) -> Self:
        numbers = [d.number for d in self.documents]
        if len(numbers) != len(set(numbers)):
            raise _FieldError("documents", "document numbers must be unique per counterparty")
        return self


def build_document(
    spec: DocumentSpec, period: str, seller: Seller, buyer: Counterparty
) -> ClosingDocument:
    """Work out the figures of one document; raises ValidationError."""
    rate = seller.vat_rate if seller.vat_payer else None
    lines = [
        compute_line(i, line, rate, spec.prices_include_vat)
        for i, line in enumerate(spec.lines, start=1)
    ]
    function = (
        UpdFunction.INVOICE_AND_TRANSFER
        if seller.vat_payer and buyer.vat_payer
        else UpdFunction.TRANSFER
    )
    amount = sum((x.amount for x in lines), Decimal("0.00"))
    vat = sum((x.vat for x in lines), Decimal("0.00"))
    try:
        return ClosingDocument(
            kind=spec.kind,
            number=spec.number,
            date=spec.date,
            period=period,
            seller=seller.party(),
            buyer=Party.from_counterparty(buyer),
            function=function,
            basis=spec.basis,
            signatory=seller.signatory,
            lines=lines,
            amount=amount,
            vat=vat,
            total=amount + vat,
        )
    except pydantic.ValidationError as exc:
        raise _as_validation_error(exc, "document") from None


def parse_upd_input(data: Mapping[str, Any] | str | bytes) -> UpdInput:
    try:
        return UpdInput.model_validate(load_json_object(data, "input"))
    except pydantic.ValidationError as exc:
        raise _as_validation_error(exc) from None


def load_upd_input(path: str | Path) -> UpdInput:
    return parse_upd_input(read_input(path, "input", kind="upd"))


def parse_batch_line(text: str | bytes, line_no: int) -> BatchLine:
    root = f"line {line_no}"
    try:
        return BatchLine.model_validate(load_json_object(text, root))
    except pydantic.ValidationError as exc:
        raise _as_validation_error(exc, root) from None


def parse_seller(data: Mapping[str, Any] | str | bytes) -> Seller:
    try:
        return Seller.model_validate(load_json_object(data, "seller"))
    except pydantic.ValidationError as exc:
        raise _as_validation_error(exc, "seller") from None


__all__ = [
    "BatchLine",
    "DocumentSpec",
    "UpdInput",
    "build_document",
    "load_upd_input",
    "parse_batch_line",
    "parse_seller",
    "parse_upd_input",
]
