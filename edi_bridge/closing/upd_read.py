"""Reading a УПД seller's title (``ON_NSCHFDOPPR``): format 5.03, and 5.01 / 5.02 from archives.

5.03 (order ЕД-7-26/970@) is what we write and what flows read. 5.01 and 5.02
(order ММВ-7-15/820@ and its amendment) are read **read-only**, labelled with their
version, so that archived documents can be shown and checked; they carry the same
facts under partly different names:

===================  ===============================  ==================================
fact                 5.03                             5.01 / 5.02
===================  ===============================  ==================================
number, date         СвСчФакт/@НомерДок, @ДатаДок     СвСчФакт/@НомерСчФ, @ДатаСчФ
currency             СвСчФакт/ДенИзм/@КодОКВ          СвСчФакт/@КодОКВ
unit name            СведТов/@НаимЕдИзм               СведТов/ДопСведТов/@НаимЕдИзм
basis                ОснПер/@РеквНаимДок, …           ОснПер/@НаимОсн, @НомОсн, @ДатаОсн
signer               Подписант/@Должн, ФИО            Подписант/ЮЛ|ИП|ФЛ (@Должн), ФИО
===================  ===============================  ==================================

The reader is safe (:func:`~edi_bridge.safexml.parse_untrusted`) and strict:
figures that do not add up are refused with the element named. A file that is
not a УПД seller's title is refused saying what it is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pydantic
from lxml import etree

from ..errors import ValidationError
from ..models import Signatory, _as_validation_error
from ..safexml import MAX_XML_BYTES, parse_untrusted
from .model import Basis, ClosingDocument, ClosingKind, Line, Party, UpdFunction
from .xmlread import (
    XmlReader,
    file_prefix,
    full_name,
    not_this_file,
    read_party,
    read_rate,
    read_vat,
)

FORMAT_VERSION = "5.03"
OLDER_VERSIONS = ("5.01", "5.02")
READ_VERSIONS = (*OLDER_VERSIONS, FORMAT_VERSION)
PREFIX = "ON_NSCHFDOPPR"
INVOICE_ONLY = "СЧФ"  # an invoice without the transfer part (5.01 and 5.02)

_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_FILE_ID_RE = re.compile(
    rf"ON_NSCHFDOPPR_(?P<recipient>[^_]{{1,46}})_(?P<sender>[^_]{{1,46}})_(?P<date>\d{{8}})_"
    rf"(?P<guid>{_GUID})_[01]_[01]_[01]_[01]_[01]_\d{{2}}"
)
# 5.01 and 5.02 end at the GUID: ON_NSCHFDOPPR_<to>_<from>_<date>_<GUID>.
_OLDER_FILE_ID_RE = re.compile(rf"ON_NSCHFDOPPR_[^_]{{1,46}}_[^_]{{1,46}}_\d{{8}}_{_GUID}")


@dataclasses.dataclass(frozen=True)
class ReadUpd:
    """What an incoming УПД holds: its ``ИдФайл``, when it was formed, the document,
    and its format version (5.01 and 5.02 are read-only: shown, never sent or built)."""

    file_id: str
    formed_at: dt.datetime
    document: ClosingDocument
    version: str = FORMAT_VERSION

    @property
    def read_only(self) -> bool:
        return self.version != FORMAT_VERSION

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": "upd",
            "version": self.version,
            "read_only": self.read_only,
            "file_id": self.file_id,
            "formed_at": self.formed_at.isoformat(),
            "document": self.document.model_dump(mode="json"),
        }


def read_upd(data: bytes, *, limit: int = MAX_XML_BYTES) -> ReadUpd:
    """Read a УПД seller's title (5.03, or 5.01 / 5.02 read-only); raises UnsafeInput or
    ValidationError naming the element, or saying what the file is when it is no УПД."""
    return upd_from_root(parse_untrusted(data, limit=limit, what="УПД"))


def format_version(root: etree._Element, what: str) -> str:
    """``Файл/@ВерсФорм`` when it is a version we read; a clear error otherwise."""
    if root.tag != "Файл":
        raise ValidationError(str(root.tag), f"the root element must be Файл ({what})")
    version = root.get("ВерсФорм") or ""
    if version not in READ_VERSIONS:
        raise ValidationError(
            "Файл/@ВерсФорм",
            f"{what} version {version or '(none)'} is not read; "
            f"versions {', '.join(READ_VERSIONS)} are",
        )
    return version


def upd_from_root(root: etree._Element) -> ReadUpd:
    """Read a parsed УПД seller's title."""
    if root.tag != "Файл" or file_prefix(root) != PREFIX:
        raise not_this_file(root, "a УПД")
    version = format_version(root, "УПД")
    older = version in OLDER_VERSIONS
    r = XmlReader(root)
    ident = r.attr(root, "ИдФайл")
    patterns = (_OLDER_FILE_ID_RE, _FILE_ID_RE) if older else (_FILE_ID_RE,)
    if not any(p.fullmatch(ident) for p in patterns):
        raise ValidationError("Файл/@ИдФайл", "must be ON_NSCHFDOPPR_<to>_<from>_<date>_<GUID>...")
    body = r.one(root, "Документ")
    function = r.attr(body, "Функция")
    if function == INVOICE_ONLY:
        raise ValidationError(
            "Файл/Документ/@Функция", "СЧФ (an invoice without the transfer part) is not read"
        )
    if function not in {f.value for f in UpdFunction}:
        raise ValidationError("Файл/Документ/@Функция", "only СЧФДОП and ДОП are read")
    formed = r.moment(body, "ДатаИнфПр", "ВремИнфПр")
    info = r.one(body, "СвСчФакт")
    number_attr, date_attr = ("НомерСчФ", "ДатаСчФ") if older else ("НомерДок", "ДатаДок")
    currency = r.attr(info if older else r.one(info, "ДенИзм"), "КодОКВ")
    seller = read_party(r, r.one(info, "СвПрод"))
    buyer = read_party(r, r.one(info, "СвПокуп"))

    table = r.one(body, "ТаблСчФакт")
    lines = [_line(r, row) for row in table.findall("СведТов")]
    if not lines:
        raise ValidationError(r.path(table) + "/СведТов", "at least one line is required")
    totals = r.one(table, "ВсегоОпл")
    total_vat = read_vat(r, r.one(totals, "СумНалВсего"))

    transfer = r.one(r.one(body, "СвПродПер"), "СвПер")
    start = transfer.get("ДатаНачПер")
    period_of = r.date(transfer, "ДатаНачПер") if start else r.date(info, date_attr)
    basis_el = r.maybe(transfer, "ОснПер")
    basis = _basis(r, basis_el, older) if basis_el is not None else None
    try:
        document = ClosingDocument(
            kind=ClosingKind.UPD,
            number=r.attr(info, number_attr),
            date=r.date(info, date_attr),
            period=f"{period_of:%Y-%m}",
            seller=Party.model_validate(seller),
            buyer=Party.model_validate(buyer),
            function=UpdFunction(function),
            basis=Basis.model_validate(basis) if basis else None,
            currency=currency,
            signatory=_signatory(r, r.one(body, "Подписант")),
            lines=[Line.model_validate(x) for x in lines],
            amount=r.decimal(totals, "СтТовБезНДСВсего"),
            vat=total_vat if total_vat is not None else Decimal("0.00"),
            total=r.decimal(totals, "СтТовУчНалВсего"),
        )
    except pydantic.ValidationError as exc:
        raise _as_validation_error(exc, "УПД") from None
    return ReadUpd(file_id=ident, formed_at=formed, document=document, version=version)


def _line(r: XmlReader, row: etree._Element) -> dict[str, Any]:
    rate = read_rate(r, row)
    vat = read_vat(r, r.one(row, "СумНал"))
    if (rate is None) != (vat is None):
        raise ValidationError(f"{r.path(row)}/СумНал", "must agree with НалСт")
    extra = row.find("ДопСведТов")
    unit_name = row.get("НаимЕдИзм") or (extra.get("НаимЕдИзм") if extra is not None else None)
    return {
        "number": int(r.attr(row, "НомСтр")),
        "name": r.attr(row, "НаимТов"),
        "quantity": r.decimal(row, "КолТов"),
        "price": r.decimal(row, "ЦенаТов"),
        "unit_code": row.get("ОКЕИ_Тов"),
        "unit_name": unit_name,
        "vat_rate": rate,
        "amount": r.decimal(row, "СтТовБезНДС"),
        "vat": vat if vat is not None else Decimal("0.00"),
        "total": r.decimal(row, "СтТовУчНал"),
    }


def _basis(r: XmlReader, el: etree._Element, older: bool) -> dict[str, Any] | None:
    if not older:
        return {
            "name": r.attr(el, "РеквНаимДок"),
            "number": r.attr(el, "РеквНомерДок"),
            "date": r.date(el, "РеквДатаДок"),
        }
    # 5.01 / 5.02 write "Без документа-основания" as a basis with neither number nor date.
    if not el.get("НомОсн") or not el.get("ДатаОсн"):
        return None
    return {
        "name": r.attr(el, "НаимОсн"),
        "number": r.attr(el, "НомОсн"),
        "date": r.date(el, "ДатаОсн"),
    }


def signer_of(r: XmlReader, signer: etree._Element) -> tuple[str, str]:
    """(full name, position) of a ``Подписант``, in the 5.03 shape or the 5.01 / 5.02 one
    (ЮЛ, ИП or ФЛ holding the name, ЮЛ the position)."""
    fio = signer.find("ФИО")
    position = signer.get("Должн")
    if fio is None:
        for tag in ("ЮЛ", "ИП", "ФЛ"):
            holder = signer.find(tag)
            if holder is not None:
                fio, position = holder.find("ФИО"), holder.get("Должн") or position
                break
    name = full_name(fio)
    if not name:
        raise ValidationError(r.path(signer) + "/ФИО", "the signer's name is required")
    return name, position or "-"


def _signatory(r: XmlReader, signer: etree._Element) -> Signatory:
    name, position = signer_of(r, signer)
    return Signatory(full_name=name, position=position)


__all__ = [
    "FORMAT_VERSION",
    "OLDER_VERSIONS",
    "READ_VERSIONS",
    "ReadUpd",
    "format_version",
    "read_upd",
    "signer_of",
    "upd_from_root",
]
