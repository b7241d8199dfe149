"""The buyer's title of a УПД we sent, read from the box feed.

On a formalized УПД the buyer does not sign our file: it answers with its own title
(``ON_NSCHFDOPPOK``), posted as ``MessagePatchToPost.RecipientTitles`` with
``RecipientTitleAttachment{ParentEntityId, SignedContent, NeedReceipt}``. In the feed that
is an ``Attachment`` entity whose parent is our document, with the buyer's ``Signature``
under it. We report it as **signed**, with the signature, the title's bytes (what the
signature covers) and what the title says: signer, acceptance date, result and
disagreements, read by :func:`edi_bridge.closing.upd_buyer.read_buyer_title`.

*Unconfirmed:* which ``AttachmentType`` the title entity carries for a 970-format УПД; the
enum has ``UniversalTransferDocumentBuyerTitle`` (the older formats) and ``Title`` (the
generic titles), and both are read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

TITLE_TYPES = frozenset({"Title", "UniversalTransferDocumentBuyerTitle"})
log = logging.getLogger("edi_bridge.diadoc")


def title_signature(
    title: Mapping[str, Any], entities: Sequence[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The signature entity under a title, in the same batch of entities."""
    return next(
        (
            e
            for e in entities
            if e.get("EntityType") == "Signature"
            and e.get("ParentEntityId") == title.get("EntityId")
        ),
        None,
    )


def summary(content: bytes) -> dict[str, Any]:
    """What the buyer's title says (the core's summary, shared by every adapter)."""
    from edi_bridge.closing.upd_buyer import title_summary

    return title_summary(content)


def title_parts(
    title: Mapping[str, Any],
    entities: Sequence[Mapping[str, Any]],
    content: Callable[[Mapping[str, Any]], bytes],
) -> tuple[bytes, bytes, dict[str, Any], Mapping[str, Any]] | None:
    """(the buyer's signature, the title, its summary, the signature entity), or None
    while the title has no signature."""
    signature = title_signature(title, entities)
    if signature is None:
        return None
    data = content(title)
    return content(signature), data, summary(data), signature


__all__ = ["TITLE_TYPES", "summary", "title_parts", "title_signature"]
