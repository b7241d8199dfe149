"""Reading a УПД buyer's title (``ON_NSCHFDOPPOK``): who signed it, when the buyer
accepted, and the disagreements, if any. Formats 5.01, 5.02 and 5.03.

The buyer's title answers one seller's file (``ИдИнфПрод/@ИдФайлИнфПр``). Its
acceptance part is ``СодФХЖ4/СвПрин``: the operation (``СодОпер``), the acceptance
date (``ДатаПрин``) and ``КодСодОпер/@КодИтога``, the result of acceptance: 1 accepted
without disagreements, 2 accepted with disagreements, 3 not accepted. With
disagreements the buyer names the document that records them: in 5.01 / 5.02 as
attributes of ``КодСодОпер`` (``НаимДокРасх``, ``НомДокРасх``, ``ДатаДокРасх``,
``ИдФайлДокРасх``), in 5.03 as ``КодСодОпер/РеквДокРасх`` (``РеквНаимДок``, …).
Where 5.01 / 5.02 put the title under ``ИнфПок``, 5.03 puts it under ``Документ``.

:func:`read_closing_xml` reads any file ``upd read`` takes: a seller's title or a
buyer's title, and says what any other file is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from lxml import etree

from ..errors import EdiBridgeError, ValidationError
from ..safexml import MAX_XML_BYTES, parse_untrusted
from .upd_read import FORMAT_VERSION, ReadUpd, format_version, signer_of, upd_from_root
from .xmlread import XmlReader, file_prefix, full_name, not_this_file

log = logging.getLogger("edi_bridge")

PREFIX = "ON_NSCHFDOPPOK"
RESULTS = {
    "1": "accepted without disagreements",
    "2": "accepted with disagreements",
    "3": "not accepted",
}
_RESULTS_RU = {"1": "принято без расхождений", "2": "принято с расхождениями", "3": "не принято"}


@dataclasses.dataclass(frozen=True)
class Disagreements:
    """The buyer's disagreements: the result code and the document recording them."""

    result: str
    document_name: str | None = None
    document_number: str | None = None
    document_date: dt.date | None = None
    document_file_id: str | None = None


@dataclasses.dataclass(frozen=True)
class BuyerTitle:
    """What a buyer's title holds (read-only: we archive it, never change it)."""

    file_id: str
    version: str
    formed_at: dt.datetime
    seller_file_id: str
    document_name: str | None
    function: str | None
    document_number: str | None
    document_date: dt.date | None
    operation: str | None
    accepted_on: dt.date | None
    result: str | None  # КодИтога; see RESULTS
    disagreements: Disagreements | None
    signer_name: str
    signer_position: str
    received_by: str | None = None  # the buyer's person who took delivery, with position

    @property
    def read_only(self) -> bool:
        return True

    @property
    def result_text(self) -> str:
        if self.result is None:
            return "no result code"
        return RESULTS.get(self.result, f"result code {self.result}")

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("document_date", "accepted_on"):
            data[key] = data[key].isoformat() if data[key] else None
        if self.disagreements is not None and self.disagreements.document_date is not None:
            data["disagreements"]["document_date"] = self.disagreements.document_date.isoformat()
        return {
            "kind": "buyer_title",
            "read_only": True,
            **data,
            "formed_at": self.formed_at.isoformat(),
            "result_text": self.result_text,
        }


def read_buyer_title(data: bytes, *, limit: int = MAX_XML_BYTES) -> BuyerTitle:
    """Read a УПД buyer's title; raises UnsafeInput or ValidationError naming the element."""
    return buyer_title_from_root(parse_untrusted(data, limit=limit, what="buyer's title"))


# What an event's summary of a buyer's title keeps: who signed it, when and what was decided.
TITLE_SUMMARY_KEYS = (
    "file_id",
    "version",
    "seller_file_id",
    "operation",
    "accepted_on",
    "result",
    "result_text",
    "disagreements",
    "signer_name",
    "signer_position",
)


def title_summary(content: bytes) -> dict[str, Any]:
    """What a buyer's title says, for the history and ``status``. A title that cannot be
    read is still kept with its signature by the adapters: the reason is shown instead."""
    try:
        data = read_buyer_title(content).as_json()
    except EdiBridgeError as exc:
        log.warning("a buyer's title could not be read: %s", exc)
        return {"readable": False, "error": str(exc)}
    return {"readable": True, **{k: data[k] for k in TITLE_SUMMARY_KEYS}}


def read_closing_xml(data: bytes, *, limit: int = MAX_XML_BYTES) -> ReadUpd | BuyerTitle:
    """Read a УПД (5.01, 5.02, 5.03) or a УПД buyer's title; any other file is refused
    saying what it is ("this is a waybill ON_TRNACLGROT, not a УПД")."""
    root = parse_untrusted(data, limit=limit, what="XML file")
    if root.tag == "Файл" and file_prefix(root) == PREFIX:
        return buyer_title_from_root(root)
    return upd_from_root(root)


def buyer_title_from_root(root: etree._Element) -> BuyerTitle:
    if root.tag != "Файл" or file_prefix(root) != PREFIX:
        raise not_this_file(root, "a УПД buyer's title")
    version = format_version(root, "buyer's title")
    r = XmlReader(root)
    ident = r.attr(root, "ИдФайл")
    body = r.one(root, "Документ" if version == FORMAT_VERSION else "ИнфПок")
    seller_file = r.one(body, "ИдИнфПрод")
    facts = r.one(body, "СодФХЖ4")
    number_attr, date_attr = (
        ("ПорНомДокИнфПр", "ДатаДокИнфПр")
        if version == FORMAT_VERSION
        else ("НомСчФИнфПр", "ДатаСчФИнфПр")
    )
    acceptance = r.one(facts, "СвПрин")
    code = r.maybe(acceptance, "КодСодОпер")
    result = code.get("КодИтога") if code is not None else None
    signer_name, signer_position = signer_of(r, r.one(body, "Подписант"))
    return BuyerTitle(
        file_id=ident,
        version=version,
        formed_at=r.moment(body, "ДатаИнфПок", "ВремИнфПок"),
        seller_file_id=r.attr(seller_file, "ИдФайлИнфПр"),
        document_name=facts.get("НаимДокОпрПр"),
        function=facts.get("Функция"),
        document_number=facts.get(number_attr),
        document_date=r.date(facts, date_attr) if facts.get(date_attr) else None,
        operation=acceptance.get("СодОпер"),
        accepted_on=r.date(acceptance, "ДатаПрин") if acceptance.get("ДатаПрин") else None,
        result=result,
        disagreements=_disagreements(r, acceptance, code, result),
        signer_name=signer_name,
        signer_position=signer_position,
        received_by=_received_by(acceptance),
    )


def _disagreements(
    r: XmlReader, acceptance: etree._Element, code: etree._Element | None, result: str | None
) -> Disagreements | None:
    holders = [el for el in (code, acceptance) if el is not None]
    doc = next((h.find("РеквДокРасх") for h in holders if h.find("РеквДокРасх") is not None), None)
    if doc is not None:  # 5.03
        name, number = doc.get("РеквНаимДок"), doc.get("РеквНомерДок")
        date_el, date_attr, file_id = doc, "РеквДатаДок", doc.get("РеквИдФайлДок")
    else:  # 5.01 / 5.02: attributes of КодСодОпер
        holder = next((h for h in holders if h.get("НаимДокРасх") or h.get("НомДокРасх")), None)
        if holder is None:
            if result in ("2", "3"):
                return Disagreements(result=result)
            return None
        name, number = holder.get("НаимДокРасх"), holder.get("НомДокРасх")
        date_el, date_attr, file_id = holder, "ДатаДокРасх", holder.get("ИдФайлДокРасх")
    if result == "1":
        raise ValidationError(
            r.path(date_el), "a disagreements document with result 1 (accepted without them)"
        )
    return Disagreements(
        result=result or "-",
        document_name=name,
        document_number=number,
        document_date=r.date(date_el, date_attr) if date_el.get(date_attr) else None,
        document_file_id=file_id,
    )


def _received_by(acceptance: etree._Element) -> str | None:
    person = acceptance.find("СвЛицПрин")
    if person is None:
        return None
    holder = next(person.iter("РабОргПок", "ПредОргПрин", "ФЛПрин"), None)
    if holder is None:
        return None
    name = full_name(holder.find("ФИО"))
    position = holder.get("Должность") or holder.get("Должн")
    return ", ".join(x for x in (name, position) if x) or None


def summary(read: ReadUpd | BuyerTitle) -> list[str]:
    """Lines a person reads: what the file is, its version, and what it says."""
    if isinstance(read, BuyerTitle):
        lines = [
            read.file_id,
            f"  титул покупателя УПД, формат {read.version} (только чтение)",
            f"  к документу № {read.document_number or '-'}"
            + (f" от {read.document_date:%d.%m.%Y}" if read.document_date else "")
            + f" (файл продавца {read.seller_file_id})",
            f"  итог: {_RESULTS_RU.get(read.result or '', read.result_text)}"
            + (f", дата приёмки {read.accepted_on:%d.%m.%Y}" if read.accepted_on else ""),
        ]
        dis = read.disagreements
        if dis is not None and (dis.document_name or dis.document_number):
            when = f" от {dis.document_date:%d.%m.%Y}" if dis.document_date else ""
            lines.append(f"  расхождения: {dis.document_name or '-'} № {dis.document_number}{when}")
        if read.received_by:
            lines.append(f"  принял       {read.received_by}")
        lines.append(f"  подписал     {read.signer_name}, {read.signer_position}")
        return lines
    d = read.document
    label = f"формат {read.version}" + (" (только чтение)" if read.read_only else "")
    lines = [
        read.file_id,
        f"  УПД ({d.function.value}) № {d.number} от {d.date:%d.%m.%Y}, период {d.period}, {label}",
        f"  продавец    {d.seller.name} (ИНН {d.seller.inn})",
        f"  покупатель  {d.buyer.name} (ИНН {d.buyer.inn})",
    ]
    for line in d.lines:
        rate = "без НДС" if line.vat_rate is None else f"{line.vat_rate}%"
        lines.append(
            f"  {line.number:>3}. {line.name}: {line.quantity} × {line.price} = {line.amount}"
            f" + НДС {rate} {line.vat} = {line.total}"
        )
    lines.append(f"  итого {d.amount} + НДС {d.vat} = {d.total}")
    return lines


__all__ = [
    "RESULTS",
    "TITLE_SUMMARY_KEYS",
    "BuyerTitle",
    "Disagreements",
    "buyer_title_from_root",
    "read_buyer_title",
    "read_closing_xml",
    "summary",
    "title_summary",
]
