"""УПД format 5.03 (order ЕД-7-26/970@): writing one from a :class:`ClosingDocument`.

Reading one back (and reading 5.01 / 5.02 from archives) is :mod:`.upd_read`;
reading a buyer's title is :mod:`.upd_buyer`.

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

"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal

from lxml import etree

from ..errors import UnsafeInput, ValidationError
from .model import ClosingDocument, ClosingKind, Party, UpdFunction, split_full_name
from .upd_read import FORMAT_VERSION, PREFIX, ReadUpd, read_upd
from .xmlread import NO_VAT

KND = "1115131"
ENCODING = "windows-1251"
PROGRAM = "edi-bridge 0.1"
CURRENCY_NAMES = {"643": "Российский рубль"}
COUNTRY_CODE, COUNTRY_NAME = "643", "Россия"

TITLE_TRANSFER = (
    "Документ об отгрузке товаров (выполнении работ), передаче имущественных прав "
    "(документ об оказании услуг)"
)
TITLE_INVOICE_AND_TRANSFER = "Счет-фактура и " + TITLE_TRANSFER[0].lower() + TITLE_TRANSFER[1:]
OPERATION = "Услуги оказаны в полном объеме"


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
