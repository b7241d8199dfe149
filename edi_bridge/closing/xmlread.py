"""What the closing-document readers share: a tree walker that names the element of
any problem, parties, VAT, and saying what an FNS exchange file is.

An FNS exchange file (``Файл``) names its kind in the prefix of its ``ИдФайл``
(``ON_NSCHFDOPPR_…`` for a УПД seller's title, ``ON_TRNACLGROT_…`` for a
waybill, …). When a file is not what a reader expects, :func:`not_this_file` says
what the file is instead of only what it is not.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from ..errors import ValidationError

NO_VAT = "без НДС"

# Prefixes of ``ИдФайл`` (and file names) in FNS exchange formats, with what each file is.
KNOWN_FILES = {
    "ON_NSCHFDOPPR": "a УПД (seller's title)",
    "ON_NSCHFDOPPOK": "a УПД buyer's title",
    "ON_NKORSCHFDOPPR": "a corrective УКД (seller's title)",
    "ON_NKORSCHFDOPPOK": "a corrective УКД buyer's title",
    "ON_SCHFDOPPR": "an invoice or УПД in the pre-2019 format",
    "ON_EMCHD": "a machine-readable power of attorney (МЧД)",
    "DP_TOVTORGPR": "a goods waybill ТОРГ-12 (seller's title)",
    "DP_TOVTORGPOK": "a goods waybill ТОРГ-12 (buyer's title)",
    "DP_REZRUISP": "an act of work done (performer's title)",
    "DP_REZRUZAK": "an act of work done (customer's title)",
    "DP_IZVPOL": "a receipt notice (извещение о получении)",
    "DP_UVUTOCH": "a request for correction (уведомление об уточнении)",
    "DP_PDOTPR": "an operator's confirmation of sending",
    "DP_PDPOL": "an operator's confirmation of receipt",
}
_TRANSPORT = "ON_TRN"  # every title of the transport waybill (ЭТрН): ON_TRNACLGROT, …
_PREFIX_RE = re.compile(r"(?:ON|DP)_[A-Z]+")
_DATE = "%d.%m.%Y"


def file_prefix(root: etree._Element) -> str | None:
    """The kind prefix of an exchange file's ``ИдФайл`` (``ON_NSCHFDOPPR``), if it has one."""
    match = _PREFIX_RE.match(root.get("ИдФайл") or "")
    return match.group(0) if match else None


def what_is(root: etree._Element) -> str:
    """A short description of an XML file, for messages: "a waybill ON_TRNACLGROT"."""
    prefix = file_prefix(root)
    if prefix is not None:
        if prefix in KNOWN_FILES:
            return f"{KNOWN_FILES[prefix]} {prefix}"
        if prefix.startswith(_TRANSPORT):
            return f"a waybill {prefix}"
        return f"an exchange file {prefix}"
    if root.tag == "Доверенность":
        return "a machine-readable power of attorney (МЧД)"
    return f"an XML file with root element <{root.tag}>"


def not_this_file(root: etree._Element, expected: str) -> ValidationError:
    """The error for a file that is something else: "a waybill ON_TRNACLGROT, not a УПД"."""
    return ValidationError("Файл/@ИдФайл", f"this is {what_is(root)}, not {expected}")


class XmlReader:
    """Walks the tree, naming the element of any problem by its path."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root

    @staticmethod
    def path(el: etree._Element) -> str:
        parts = []
        node: etree._Element | None = el
        while node is not None:
            parts.append(str(node.tag))
            node = node.getparent()
        return "/".join(reversed(parts))

    def one(self, parent: etree._Element, tag: str) -> etree._Element:
        found = parent.findall(tag)
        if len(found) != 1:
            raise ValidationError(f"{self.path(parent)}/{tag}", "must appear exactly once")
        return found[0]

    def maybe(self, parent: etree._Element, tag: str) -> etree._Element | None:
        found = parent.findall(tag)
        return found[0] if found else None

    def attr(self, el: etree._Element, name: str) -> str:
        value = el.get(name)
        if value is None or not value.strip():
            raise ValidationError(f"{self.path(el)}/@{name}", "required")
        return value

    def date(self, el: etree._Element, name: str) -> dt.date:
        value = self.attr(el, name)
        try:
            return dt.datetime.strptime(value, _DATE).date()
        except ValueError:
            raise ValidationError(f"{self.path(el)}/@{name}", "must be a date DD.MM.YYYY") from None

    def moment(self, el: etree._Element, date_attr: str, time_attr: str) -> dt.datetime:
        """A date and a time written as two attributes (DD.MM.YYYY and HH.MM.SS)."""
        day = self.date(el, date_attr)
        raw = self.attr(el, time_attr)
        try:
            return dt.datetime.combine(day, dt.datetime.strptime(raw, "%H.%M.%S").time())
        except ValueError:
            raise ValidationError(f"{self.path(el)}/@{time_attr}", "must be HH.MM.SS") from None

    def decimal(self, el: etree._Element, name: str | None = None) -> Decimal:
        raw = el.text if name is None else self.attr(el, name)
        where = self.path(el) + (f"/@{name}" if name else "")
        try:
            value = Decimal((raw or "").strip())
        except InvalidOperation:
            raise ValidationError(where, "must be a decimal number") from None
        if not value.is_finite():
            raise ValidationError(where, "must be a decimal number")
        return value


def full_name(fio: etree._Element | None) -> str:
    """``Фамилия Имя Отчество`` of a ``ФИО`` element ("" without one)."""
    if fio is None:
        return ""
    return " ".join(x for x in (fio.get("Фамилия"), fio.get("Имя"), fio.get("Отчество")) if x)


def read_party(r: XmlReader, el: etree._Element) -> dict[str, Any]:
    ident = r.one(el, "ИдСв")
    org = r.maybe(ident, "СвЮЛУч")
    data: dict[str, Any] = {}
    if org is not None:
        data.update(name=r.attr(org, "НаимОрг"), inn=r.attr(org, "ИННЮЛ"), kpp=org.get("КПП"))
    else:
        ip = r.maybe(ident, "СвИП")
        if ip is None:
            raise ValidationError(
                r.path(ident), "only organisations (СвЮЛУч) and sole proprietors (СвИП) are read"
            )
        person = full_name(r.one(ip, "ФИО"))
        data.update(
            inn=r.attr(ip, "ИННФЛ"), person=person, name=ip.get("ИныеСвед") or f"ИП {person}"
        )
    address = r.maybe(el, "Адрес")
    data["address"] = read_address(address) if address is not None else "-"
    return data


def read_address(el: etree._Element) -> str:
    info = el.find("АдрИнф")
    if info is not None and info.get("АдрТекст"):
        return str(info.get("АдрТекст"))
    ru = el.find("АдрРФ")
    if ru is not None:
        keys = ("Индекс", "НаимРегион", "Район", "Город", "НаселПункт", "Улица", "Дом", "Корпус")
        parts = [ru.get(k) for k in (*keys, "Кварт")]
        return ", ".join(p for p in parts if p)
    # ГАР addresses are structured by identifiers; keep the text we can show.
    return " ".join(str(t).strip() for t in el.itertext() if str(t).strip()) or "-"


def read_vat(r: XmlReader, el: etree._Element) -> Decimal | None:
    amount = el.find("СумНал")
    if amount is not None:
        return r.decimal(amount)
    if el.find("БезНДС") is not None:
        return None
    raise ValidationError(r.path(el), "must hold СумНал or БезНДС")


def read_rate(r: XmlReader, row: etree._Element) -> int | None:
    raw = r.attr(row, "НалСт")
    if raw == NO_VAT:
        return None
    match = re.fullmatch(r"(\d{1,2})%", raw)
    if not match:
        raise ValidationError(
            f"{r.path(row)}/@НалСт", f"rate {raw!r} is not read (only N% or без НДС)"
        )
    return int(match.group(1))


__all__ = [
    "KNOWN_FILES",
    "NO_VAT",
    "XmlReader",
    "file_prefix",
    "full_name",
    "not_this_file",
    "read_address",
    "read_party",
    "read_rate",
    "read_vat",
    "what_is",
]
