"""What a counterparty's signed attachment in the box feed answers, and the signed files an
event keeps (a rejection's XML with its signature, a revocation request).

Diadoc hangs an answer under the entity it answers: a signature or an
``XmlSignatureRejection`` under our document signs or refuses the document; the same under
*our* ``RevocationRequest`` accepts or refuses the revocation. The parent may have come in an
earlier patch, so its type is looked up (:class:`.revocation.ParentLookup`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from edi_bridge.provider import EventFile

Entity = Mapping[str, Any]
ParentOf = Callable[[str, str], "tuple[Entity, str | None] | None"]
"""(message id, entity id) -> (the entity, the box that signed it), None when unknown."""

REVOCATION = "RevocationRequest"
# Roles the files are kept under with the exchange, by what they are.
ROLES = {
    "rejection": "rejection.xml",
    "revocation_request": "revocation-request.xml",
    "revocation_rejection": "revocation-rejection.xml",
}


def our_request_answered(
    parent_of: ParentOf | None, message_id: str, parent: str, our_box: str
) -> tuple[bool, str] | None:
    """``(True, document)`` when ``parent`` is our revocation request on ``document``;
    ``(False, parent)`` when it is anything else; None when the answer is to another
    side's request (not news for us)."""
    found = parent_of(message_id, parent) if parent_of is not None else None
    if found is None or found[0].get("AttachmentType") != REVOCATION:
        return False, parent
    request, author = found
    if author != our_box:
        return None
    return True, str(request.get("ParentEntityId") or "")


def signed_files(
    role: str,
    entity: Entity,
    entities: Sequence[Entity],
    data: bytes,
    content: Callable[[Entity], bytes],
) -> tuple[EventFile, ...]:
    """The attachment's XML and, when it came in the same batch, the signature under it."""
    name = ROLES[role]
    files = [EventFile(role, name, data)]
    for other in entities:
        # An entity without Content says nothing to load (as in hand-made feeds).
        if (
            other.get("EntityType") == "Signature"
            and other.get("ParentEntityId") == entity.get("EntityId")
            and "Content" in other
        ):
            files.append(EventFile(f"{role}_signature", f"{name}.sig", content(other)))
            break
    return tuple(files)


__all__ = ["ROLES", "ParentOf", "our_request_answered", "signed_files"]
