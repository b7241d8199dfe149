"""How the fake's counterparty signs what we sent.

A contract or any unformalized file gets a ``Signature`` entity under our document. A
formalized УПД (``UniversalTransferDocument``) is answered the way Diadoc's recipient
answers one: with its own title, the buyer's ``ON_NSCHFDOPPOK`` (5.03), as an
``Attachment`` entity under our document (``AttachmentType`` ``Title``; which type a
970-format title carries is unconfirmed) with the buyer's ``Signature`` under the title,
the way ``MessagePatchToPost.RecipientTitles`` delivers it. The title accepts without
disagreements on the day it is made and is signed by the counterparty's head, whose name
comes from the signing certificate.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from edi_bridge.closing.upd_buyer_build import TitleSigner, build_buyer_title
from edi_bridge.errors import EdiBridgeError

from .records import SentDocument

if TYPE_CHECKING:
    from .world import World

UPD_TYPE = "UniversalTransferDocument"
TITLE_TYPE = "Title"


def buyer_title(doc: SentDocument, signer: Any) -> bytes | None:
    """The buyer's title answering ``doc``; None when ``doc`` is no 5.03 УПД."""
    if doc.type_id != UPD_TYPE:
        return None
    org = doc.recipient
    try:
        return build_buyer_title(
            doc.content,
            doc.signature,
            buyer_name=org.name,
            buyer_inn=org.inn,
            signer=TitleSigner.from_certificate(signer.certificate, org.position),
            accepted_on=dt.datetime.now(dt.UTC).date(),
        )
    except EdiBridgeError:
        return None  # a УПД the builder does not read is signed as a file


def recipient_signs(
    world: World, doc: SentDocument, signer: Any, extra: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The entities the counterparty's signing adds to the message."""
    title = buyer_title(doc, signer)
    if title is None:
        signature = world.entity(
            doc.message_id,
            entity_type="Signature",
            content=signer.sign(doc.content),
            parent=doc.entity_id,
            signer_box=doc.to_box,
            extra=extra,
        )
        return [signature]
    attachment = world.entity(
        doc.message_id,
        entity_type="Attachment",
        content=title,
        parent=doc.entity_id,
        attachment_type=TITLE_TYPE,
        file_name=f"{doc.file_name.rsplit('.', 1)[0]}.buyer-title.xml",
    )
    signature = world.entity(
        doc.message_id,
        entity_type="Signature",
        content=signer.sign(title),
        parent=attachment["EntityId"],
        signer_box=doc.to_box,
        extra=extra,
    )
    return [attachment, signature]


__all__ = ["TITLE_TYPE", "UPD_TYPE", "buyer_title", "recipient_signs"]
