"""УПД format 5.03 (order ЕД-7-26/970@): writing one from a :class:`ClosingDocument`
and reading one back.

The writer fills what a monthly closing document for services needs: the
invoice part (СвСчФакт, ТаблСчФакт) and the transfer part (СвПродПер) and the
signer. Function СЧФДОП when the document is also the invoice, ДОП otherwise.
The file is windows-1251, the encoding the format prescribes, and its name is
its ``ИдФайл``::

    ON_NSCHFDOPPR_<recipient id>_<sender id>_<YYYYMMDD>_<GUID>_<N2>_<N3>_<N4>_<N5>_<N6>_<N7>

N2..N6 are 0/1 flags and N7 two digits. The flags mark special content
(traceable or marked goods and the like); a services document has none, so
they are all ``0`` and N7 is ``00``. *Unconfirmed*: the meaning of each flag
was not found in a public source; the reader accepts any 0/1 values.

The reader is safe (:func:`~edi_bridge.safexml.parse_untrusted`) and
strict: figures that do not add up are refused with the element named.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

import pydantic
from lxml import etree

from ..errors import UnsafeInput, ValidationError
from ..models import Signatory, _as_validation_error
from ..safexml import MAX_XML_BYTES, parse_untrusted
from .model import Basis, ClosingDocument, ClosingKind, Line, Party, UpdFunction, split_full_name

FORMAT_VERSION = "5.03"
KND = "1115131"
PREFIX = "ON_NSCHFDOPPR"
ENCODING = "windows-1251"
PROGRAM = "edi-bridge 0.1"
NO_VAT = "без НДС"
CURRENCY_NAMES = {"643": "Российский рубль"}
COUNTRY_CODE, COUNTRY_NAME = "643", "Россия"

TITLE_TRANSFER = (
    "Документ об отгрузке товаров (выполнении работ), передаче имущественных прав "
    "(документ об оказании услуг)"
)
TITLE_INVOICE_AND_TRANSFER = "Счет-фактура и " + TITLE_TRANSFER[0].lower() + TITLE_TRANSFER[1:]
OPERATION = "Услуги оказаны в полном объеме"

_FILE_ID_RE = re.compile(
    r"ON_NSCHFDOPPR_(?P<recipient>[^_]{1,46})_(?P<sender>[^_]{1,46})_(?P<date>\d{8})_"
    r"(?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"_[01]_[01]_[01]_[01]_[01]_\d{2}"
)


@dataclasses.dataclass(frozen=True)
class UpdFile:
    """A generated УПД: its ``ИдФайл``, file name and windows-1251 bytes."""

    file_id: str
    content: bytes

    @property
    def file_name(self) -> str:
        return self.file_id + ".xml"


def file_id(recipient: str, sender: str, day: dt.date, guid: uuid.UUID) -> str:
    """``ИдФайл`` for a document from ``sender`` to ``recipient`` (EDI participant ids)."""
    for field, value in (("recipient", recipient), ("sender", sender)):
        if not value or "_" in value or len(value) > 46:
            raise ValidationError(field, "participant id must be 1 to 46 characters without '_'")
    return f"{PREFIX}_{recipient}_{sender}_{day:%Y%m%d}_{guid}_0_0_0_0_0_00"


def _date(value: dt.date) -> str:
    return value.strftime("%d.%m.%Y")


def _num(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _money(value: Decimal) -> str:
    return format(value, ".2f")


def _rate(rate: int | None) -> str:
    return NO_VAT if rate is None else f"{rate}%"


def _sub(parent: etree._Element, tag: str, **attrs: str | None) -> etree._Element:
    el = etree.SubElement(parent, tag)
    for key, value in attrs.items():
        if value is not None:
            el.set(key, value)
    return el


def _fio(parent: etree._Element, full_name: str) -> None:
    surname, first, patronymic = split_full_name(full_name)
    _sub(parent, "ФИО", Фамилия=surname, Имя=first, Отчество=patronymic)


def _participant(parent: etree._Element, tag: str, party: Party) -> None:
    el = _sub(parent, tag)
    ident = _sub(el, "ИдСв")
    if party.is_organisation:
        _sub(ident, "СвЮЛУч", НаимОрг=party.name, ИННЮЛ=party.inn, КПП=party.kpp)
    else:
        ip = _sub(ident, "СвИП", ИННФЛ=party.inn, ИныеСвед=party.name[:255])
        _fio(ip, party.person or "")
    address = _sub(el, "Адрес")
    _sub(address, "АдрИнф", КодСтр=COUNTRY_CODE, НаимСтран=COUNTRY_NAME, АдрТекст=party.address)


def build_upd(
    doc: ClosingDocument,
    *,
    sender_id: str,
    recipient_id: str,
    now: dt.datetime | None = None,
    guid: uuid.UUID | None = None,
) -> UpdFile:
    """Write ``doc`` as a УПД 5.03 file.

    ``now`` (the moment the file is formed) and ``guid`` default to the
    current time and a random UUID; pass them to get the same bytes again.
    """
    if doc.kind is not ClosingKind.UPD:
        raise ValidationError("document.kind", "only a УПД is written as XML")
    now = now or dt.datetime.now().astimezone()
    ident = file_id(recipient_id, sender_id, now.date(), guid or uuid.uuid4())
    dual = doc.function is UpdFunction.INVOICE_AND_TRANSFER
    title = TITLE_INVOICE_AND_TRANSFER if dual else TITLE_TRANSFER

    root = etree.Element("Файл", ИдФайл=ident, ВерсФорм=FORMAT_VERSION, ВерсПрог=PROGRAM)
    seller = doc.seller
    body = _sub(
        root,
        "Документ",
        КНД=KND,
        Функция=doc.function.value,
        ПоФактХЖ=TITLE_TRANSFER,
        НаимДокОпр=title,
        ДатаИнфПр=_date(now.date()),
        ВремИнфПр=now.strftime("%H.%M.%S"),
        НаимЭконСубСост=f"{seller.name}, ИНН: {seller.inn}"[:1000],
    )
    info = _sub(body, "СвСчФакт", НомерДок=doc.number, ДатаДок=_date(doc.date))
    _participant(info, "СвПрод", seller)
    _sub(
        info,
        "ДокПодтвОтгрНом",
        РеквНаимДок=title,
        РеквНомерДок=doc.number,
        РеквДатаДок=_date(doc.date),
    )
    _participant(info, "СвПокуп", doc.buyer)
    _sub(info, "ДенИзм", КодОКВ=doc.currency, НаимОКВ=CURRENCY_NAMES.get(doc.currency, "Валюта"))

    table = _sub(body, "ТаблСчФакт")
    for line in doc.lines:
        row = _sub(
            table,
            "СведТов",
            НомСтр=str(line.number),
            НаимТов=line.name,
            ОКЕИ_Тов=line.unit_code,
            НаимЕдИзм=line.unit_name,
            КолТов=_num(line.quantity),
            ЦенаТов=_num(line.price),
            СтТовБезНДС=_money(line.amount),
            НалСт=_rate(line.vat_rate),
            СтТовУчНал=_money(line.total),
        )
        _sub(_sub(row, "Акциз"), "БезАкциз").text = "без акциза"
        _vat(_sub(row, "СумНал"), None if line.vat_rate is None else line.vat)
    totals = _sub(
        table,
        "ВсегоОпл",
        СтТовБезНДСВсего=_money(doc.amount),
        СтТовУчНалВсего=_money(doc.total),
    )
    _vat(_sub(totals, "СумНалВсего"), doc.vat if doc.vat_charged else None)

    transfer = _sub(_sub(body, "СвПродПер"), "СвПер", СодОпер=OPERATION)
    transfer.set("ДатаПер", _date(doc.date))
    period_start = dt.date(int(doc.period[:4]), int(doc.period[5:7]), 1)
    transfer.set("ДатаНачПер", _date(period_start))
    transfer.set("ДатаОконПер", _date(_month_end(period_start)))
    if doc.basis is not None:
        _sub(
            transfer,
            "ОснПер",
            РеквНаимДок=doc.basis.name,
            РеквНомерДок=doc.basis.number,
            РеквДатаДок=_date(doc.basis.date),
        )
    else:
        _sub(transfer, "БезДокОснПер").text = "1"

    signer = _sub(body, "Подписант", Должн=doc.signatory.position, СпосПодтПолном="1")
    _fio(signer, doc.signatory.full_name)

    content = etree.tostring(root, xml_declaration=True, encoding=ENCODING, pretty_print=True)
    assert isinstance(content, bytes)  # an encoding was given, so never str
    return UpdFile(file_id=ident, content=content)


def _vat(parent: etree._Element, amount: Decimal | None) -> None:
    if amount is None:
        _sub(parent, "БезНДС").text = NO_VAT
    else:
        _sub(parent, "СумНал").text = _money(amount)


def _month_end(first: dt.date) -> dt.date:
    nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


# -- reading ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReadUpd:
    """What an incoming УПД holds: its ``ИдФайл``, when it was formed, and the document."""

    file_id: str
    formed_at: dt.datetime
    document: ClosingDocument

    def as_json(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "formed_at": self.formed_at.isoformat(),
            "document": self.document.model_dump(mode="json"),
        }


class _Reader:
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
            return dt.datetime.strptime(value, "%d.%m.%Y").date()
        except ValueError:
            raise ValidationError(f"{self.path(el)}/@{name}", "must be a date DD.MM.YYYY") from None

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


def _read_party(r: _Reader, el: etree._Element) -> dict[str, Any]:
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
        fio = r.one(ip, "ФИО")
        person = " ".join(x for x in (fio.get("Фамилия"), fio.get("Имя"), fio.get("Отчество")) if x)
        data.update(
            inn=r.attr(ip, "ИННФЛ"), person=person, name=ip.get("ИныеСвед") or f"ИП {person}"
        )
    address = r.maybe(el, "Адрес")
    data["address"] = _read_address(address) if address is not None else "-"
    return data


def _read_address(el: etree._Element) -> str:
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


def _read_vat(r: _Reader, el: etree._Element) -> Decimal | None:
    amount = el.find("СумНал")
    if amount is not None:
        return r.decimal(amount)
    if el.find("БезНДС") is not None:
        return None
    raise ValidationError(r.path(el), "must hold СумНал or БезНДС")


def _read_rate(r: _Reader, row: etree._Element) -> int | None:
    raw = r.attr(row, "НалСт")
    if raw == NO_VAT:
        return None
    match = re.fullmatch(r"(\d{1,2})%", raw)
    if not match:
        raise ValidationError(
            f"{r.path(row)}/@НалСт", f"rate {raw!r} is not read (only N% or без НДС)"
        )
    return int(match.group(1))


def read_upd(data: bytes, *, limit: int = MAX_XML_BYTES) -> ReadUpd:
    """Read an incoming УПД 5.03; raises UnsafeInput or ValidationError naming the element."""
    root = parse_untrusted(data, limit=limit, what="УПД")
    r = _Reader(root)
    if root.tag != "Файл":
        raise ValidationError(str(root.tag), "the root element must be Файл")
    if root.get("ВерсФорм") != FORMAT_VERSION:
        raise ValidationError("Файл/@ВерсФорм", f"must be {FORMAT_VERSION}")
    ident = r.attr(root, "ИдФайл")
    if not _FILE_ID_RE.fullmatch(ident):
        raise ValidationError("Файл/@ИдФайл", "must be ON_NSCHFDOPPR_<to>_<from>_<date>_<GUID>_...")
    body = r.one(root, "Документ")
    function = r.attr(body, "Функция")
    if function not in {f.value for f in UpdFunction}:
        raise ValidationError("Файл/Документ/@Функция", "only СЧФДОП and ДОП are read")
    formed = dt.datetime.combine(
        r.date(body, "ДатаИнфПр"),
        dt.datetime.strptime(r.attr(body, "ВремИнфПр"), "%H.%M.%S").time(),
    )
    info = r.one(body, "СвСчФакт")
    seller = _read_party(r, r.one(info, "СвПрод"))
    buyer = _read_party(r, r.one(info, "СвПокуп"))
    currency = r.attr(r.one(info, "ДенИзм"), "КодОКВ")

    table = r.one(body, "ТаблСчФакт")
    lines: list[dict[str, Any]] = []
    for row in table.findall("СведТов"):
        rate = _read_rate(r, row)
        vat = _read_vat(r, r.one(row, "СумНал"))
        if (rate is None) != (vat is None):
            raise ValidationError(f"{r.path(row)}/СумНал", "must agree with НалСт")
        lines.append(
            {
                "number": int(r.attr(row, "НомСтр")),
                "name": r.attr(row, "НаимТов"),
                "quantity": r.decimal(row, "КолТов"),
                "price": r.decimal(row, "ЦенаТов"),
                "unit_code": row.get("ОКЕИ_Тов"),
                "unit_name": row.get("НаимЕдИзм"),
                "vat_rate": rate,
                "amount": r.decimal(row, "СтТовБезНДС"),
                "vat": vat if vat is not None else Decimal("0.00"),
                "total": r.decimal(row, "СтТовУчНал"),
            }
        )
    if not lines:
        raise ValidationError(r.path(table) + "/СведТов", "at least one line is required")
    totals = r.one(table, "ВсегоОпл")
    total_vat = _read_vat(r, r.one(totals, "СумНалВсего"))

    transfer = r.one(r.one(body, "СвПродПер"), "СвПер")
    start = transfer.get("ДатаНачПер")
    period_of = r.date(transfer, "ДатаНачПер") if start else r.date(info, "ДатаДок")
    basis_el = r.maybe(transfer, "ОснПер")
    basis = (
        {
            "name": r.attr(basis_el, "РеквНаимДок"),
            "number": r.attr(basis_el, "РеквНомерДок"),
            "date": r.date(basis_el, "РеквДатаДок"),
        }
        if basis_el is not None
        else None
    )
    signer = r.one(body, "Подписант")
    fio = r.one(signer, "ФИО")
    full_name = " ".join(x for x in (fio.get("Фамилия"), fio.get("Имя"), fio.get("Отчество")) if x)
    try:
        document = ClosingDocument(
            kind=ClosingKind.UPD,
            number=r.attr(info, "НомерДок"),
            date=r.date(info, "ДатаДок"),
            period=f"{period_of:%Y-%m}",
            seller=Party.model_validate(seller),
            buyer=Party.model_validate(buyer),
            function=UpdFunction(function),
            basis=Basis.model_validate(basis) if basis else None,
            currency=currency,
            signatory=Signatory(full_name=full_name, position=signer.get("Должн") or "-"),
            lines=[Line.model_validate(x) for x in lines],
            amount=r.decimal(totals, "СтТовБезНДСВсего"),
            vat=total_vat if total_vat is not None else Decimal("0.00"),
            total=r.decimal(totals, "СтТовУчНалВсего"),
        )
    except pydantic.ValidationError as exc:
        raise _as_validation_error(exc, "УПД") from None
    return ReadUpd(file_id=ident, formed_at=formed, document=document)


__all__ = [
    "ENCODING",
    "FORMAT_VERSION",
    "ReadUpd",
    "UnsafeInput",
    "UpdFile",
    "build_upd",
    "file_id",
    "read_upd",
]
