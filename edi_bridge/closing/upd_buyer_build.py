"""Building a УПД buyer's title (``ON_NSCHFDOPPOK``, format 5.03) that answers a seller's
file: the acceptance (operation, date, result code 1/2/3) and who signs it.

The title names the seller's file it answers (``ИдИнфПрод/@ИдФайлИнфПр``, with the date
and time the seller formed it and the seller's signature in ``ЭП``), repeats the
document's name, function, number and date (``СодФХЖ4``), and holds the acceptance in
``СвПрин`` (``СодОпер``, ``ДатаПрин``, ``КодСодОпер/@КодИтога``). The file is encoded in
windows-1251, as the format requires; :func:`edi_bridge.closing.upd_buyer.read_buyer_title`
reads back what this writes. Used by the Diadoc fake for the buyer's side of a УПД we send,
and for our own title on a УПД we receive.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import uuid

from lxml import etree

from ..errors import ValidationError
from .upd_read import read_upd

KND = "1115131"
DOCUMENT_NAME = (
    "Счет-фактура и документ об отгрузке товаров (выполнении работ), передаче имущественных "
    "прав (документ об оказании услуг)"
)
TRANSFER_NAME = "Документ об отгрузке товаров (выполнении работ), передаче имущественных прав"
RESULT_TEXT = {
    "1": "Товары (работы, услуги) приняты без расхождений",
    "2": "Товары (работы, услуги) приняты с расхождениями",
    "3": "Товары (работы, услуги) не приняты",
}


@dataclasses.dataclass(frozen=True)
class TitleSigner:
    """Who signs the buyer's title (the head, or an employee under an МЧД: ``authority``
    2 for the latter, as ``СпосПодтПолном`` reads)."""

    surname: str
    name: str
    patronymic: str | None
    position: str
    authority: str = "1"

    @classmethod
    def from_certificate(cls, der: bytes, fallback_position: str | None = None) -> TitleSigner:
        """The certificate's person (its full name split as surname, name, patronymic) and
        title; a certificate that names no person signs as a placeholder head."""
        from asn1crypto import x509

        from ..signing.identity import identity_from_certificate

        identity = identity_from_certificate(x509.Certificate.load(der))
        parts = (identity.full_name or "Подписант Уполномоченный").split()
        return cls(
            surname=parts[0],
            name=parts[1] if len(parts) > 1 else parts[0],
            patronymic=" ".join(parts[2:]) or None,
            position=identity.title or fallback_position or "Руководитель",
        )


def build_buyer_title(
    seller_xml: bytes,
    seller_signature: bytes,
    *,
    buyer_name: str,
    buyer_inn: str,
    signer: TitleSigner,
    accepted_on: dt.date,
    result: str = "1",
    operation: str | None = None,
    now: dt.datetime | None = None,
) -> bytes:
    """The buyer's title answering ``seller_xml`` (a 5.03 УПД), windows-1251 bytes."""
    if result not in RESULT_TEXT:
        raise ValidationError("КодИтога", "must be 1, 2 or 3")
    upd = read_upd(seller_xml)
    if upd.read_only:
        raise ValidationError("Файл/@ВерсФорм", "a buyer's title is built for a 5.03 УПД only")
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.timezone(dt.timedelta(hours=3)))
    parts = upd.file_id.split("_")
    # ON_NSCHFDOPPR_<to>_<from>_...: the buyer's title goes the other way.
    receiver, sender = (parts[3], parts[2]) if len(parts) > 3 else ("", "")
    file_id = f"ON_NSCHFDOPPOK_{receiver}_{sender}_{when:%Y%m%d}_{uuid.uuid4()}_0_0_0_0_0_00"
    root = etree.Element("Файл", ИдФайл=file_id, ВерсФорм="5.03", ВерсПрог="edi-bridge")
    body = etree.SubElement(
        root,
        "Документ",
        КНД=KND,
        ДатаИнфПок=f"{when:%d.%m.%Y}",
        ВремИнфПок=f"{when:%H.%M.%S}",
        НаимЭконСубСост=f"{buyer_name}, ИНН: {buyer_inn}",
    )
    formed = upd.formed_at
    seller = etree.SubElement(
        body,
        "ИдИнфПрод",
        ИдФайлИнфПр=upd.file_id,
        ДатаФайлИнфПр=f"{formed:%d.%m.%Y}",
        ВремФайлИнфПр=f"{formed:%H.%M.%S}",
    )
    etree.SubElement(seller, "ЭП").text = base64.b64encode(seller_signature).decode("ascii")
    document = upd.document
    function = document.function.value
    facts = etree.SubElement(
        body,
        "СодФХЖ4",
        НаимДокОпрПр=DOCUMENT_NAME if function == "СЧФДОП" else TRANSFER_NAME,
        Функция=function,
        ПорНомДокИнфПр=document.number,
        ДатаДокИнфПр=f"{document.date:%d.%m.%Y}",
    )
    acceptance = etree.SubElement(
        facts,
        "СвПрин",
        СодОпер=operation or RESULT_TEXT[result],
        ДатаПрин=f"{accepted_on:%d.%m.%Y}",
    )
    etree.SubElement(acceptance, "КодСодОпер", КодИтога=result)
    person = etree.SubElement(
        body, "Подписант", Должн=signer.position, ТипПодпис="1", СпосПодтПолном=signer.authority
    )
    fio = etree.SubElement(person, "ФИО", Фамилия=signer.surname, Имя=signer.name)
    if signer.patronymic:
        fio.set("Отчество", signer.patronymic)
    data = etree.tostring(root, encoding="windows-1251", xml_declaration=True)
    assert isinstance(data, bytes)  # an encoding was given: bytes, never str
    return data


__all__ = ["KND", "TitleSigner", "build_buyer_title"]
