"""The fake Diadoc's world as the counterparty page sees it (:mod:`edi_bridge.fakes.page`)."""

from __future__ import annotations

from edi_bridge.fakes.page import DeskDocument
from edi_bridge.fakes.scenario import Play, parse_scenario

from .world import SentDocument, World


class DiadocDesk:
    """Documents sent from our box, and the counterparty's moves on them."""

    employee_signing = True  # a personal certificate and an МЧД the fake issues

    def __init__(self, world: World) -> None:
        self.world = world

    def _doc(self, doc_id: str) -> SentDocument:
        return self.world.documents[doc_id]

    def documents(self) -> list[DeskDocument]:
        return [
            DeskDocument(
                id=doc_id,
                counterparty=f"{doc.recipient.name}, ИНН {doc.recipient.inn}",
                file_name=doc.file_name,
                state=doc.state,
            )
            for doc_id, doc in self.world.documents.items()
        ]

    def content(self, doc_id: str) -> bytes | None:
        return self._doc(doc_id).content

    def our_signature(self, doc_id: str) -> bytes | None:
        doc = self._doc(doc_id)
        for entity in self.world.messages[doc.message_id]["Entities"]:
            if (
                entity.get("EntityType") == "Signature"
                and entity.get("ParentEntityId") == doc.entity_id
                and entity.get("SignerBoxId") == doc.from_box
            ):
                return self.world.contents[(doc.message_id, entity["EntityId"])]
        return None

    def play(self, doc_id: str, play: Play, reason: str | None, *, employee: bool = False) -> None:
        doc = self._doc(doc_id)
        doc.done = doc.manual = True  # the developer plays this counterparty from now on
        if employee:
            doc.scenario = parse_scenario("sign-employee")  # signs as its employee case says
        self.world.play(doc, play, reason)


__all__ = ["DiadocDesk"]
