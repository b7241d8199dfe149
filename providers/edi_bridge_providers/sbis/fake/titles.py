"""How the SBIS fake's counterparty approves a УПД (with its own buyer's title) and refuses.

As SBIS (its own published 1C processing, saby-integration/vo2_core ``Титулы.1c``): the buyer
approves a formalized УПД with the action «Утвердить», whose preparation yields the buyer's
title (``ON_NSCHFDOPPOK``); the buyer signs the title, not the seller's file. The fake adds the
title, signed by the counterparty's head, to the document and lists it in the «Утверждение»
event. *Unconfirmed*: that the approval event lists the title among its ``Вложение`` (the
adapter reads it from there) and the title's ``Название``; the title accepts without
disagreements on the day it is made (built by :mod:`edi_bridge.closing.upd_buyer_build`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

from edi_bridge.closing.upd_buyer import read_buyer_title
from edi_bridge.closing.upd_buyer_build import TitleSigner, build_buyer_title
from edi_bridge.errors import EdiBridgeError
from edi_bridge.fakes.scenario import Play

if TYPE_CHECKING:
    from .world import Attachment, Document, World


def buyer_title(world: World, doc: Document, main: Attachment) -> Attachment | None:
    """The counterparty's signed title answering ``main``; None when it is no 5.03 УПД."""
    from .world import Attachment

    ours = [s for s in main.signatures if s.inn == world.our_inn]
    if not ours or not main.name.upper().startswith("ON_NSCHFDOPPR"):
        return None
    signer = world._signer_for(doc)
    card = doc.party.get("СвЮЛ") or doc.party.get("СвФЛ") or {}
    name = str(card.get("Название") or doc.party_inn) if isinstance(card, dict) else ""
    try:
        data = build_buyer_title(
            main.data,
            ours[0].data,
            buyer_name=name or doc.party_inn,
            buyer_inn=doc.party_inn,
            signer=TitleSigner.from_certificate(signer.certificate),
            accepted_on=dt.datetime.now(dt.UTC).date(),
        )
    except EdiBridgeError:
        return None  # a УПД the builder does not read is approved by signing the file
    file_id = read_buyer_title(data).file_id
    att = Attachment(str(uuid.uuid4()), f"{file_id}.xml", data, to_sign=False)
    att.signatures.append(world._counterparty_signature(doc, att))
    return att


def approve(world: World, doc: Document, main: Attachment) -> tuple[str, ...]:
    """The counterparty's approval: its signed title for a УПД, else its signature on
    ``main``; the ids of the attachments the approval event lists."""
    title = buyer_title(world, doc, main)
    if title is None:
        main.signatures.append(world._counterparty_signature(doc, main))
        return (main.id,)
    doc.attachments.append(title)
    return (title.id,)


def refusal(world: World, doc: Document, reason: str) -> tuple[str, ...]:
    """The counterparty's refusal: a notice (уведомление об уточнении) it signs, in the fake's
    own format (*unconfirmed* that SBIS lists a signed notice with every refusal)."""
    from .world import Attachment

    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f"<УведомлениеОбУточнении Документ={quoteattr(doc.id)} "
        f"Отправитель={quoteattr(doc.party_inn)} Текст={quoteattr(reason)}/>\n"
    ).encode()
    att = Attachment(str(uuid.uuid4()), f"Уведомление_об_уточнении_{doc.id}.xml", body)
    att.to_sign = False
    att.signatures.append(world._counterparty_signature(doc, att))
    doc.attachments.append(att)
    return (att.id,)


def answer(
    world: World, doc: Document, main: Attachment, play: Play, reason: str
) -> tuple[str, ...]:
    """The counterparty signs (:func:`approve`) or refuses (:func:`refusal`)."""
    return approve(world, doc, main) if play is Play.SIGNED else refusal(world, doc, reason)


__all__ = ["answer", "approve", "buyer_title", "refusal"]
