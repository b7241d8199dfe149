"""The fake SBIS's world as the counterparty page sees it (:mod:`edi_bridge.fakes.page`)."""

from __future__ import annotations

from edi_bridge.fakes.page import DeskDocument
from edi_bridge.fakes.scenario import Play

from .world import Attachment, Document, World


def _party_name(doc: Document) -> str:
    ul = doc.party.get("СвЮЛ")
    if isinstance(ul, dict) and ul.get("Название"):
        return str(ul["Название"])
    fl = doc.party.get("СвФЛ")
    if isinstance(fl, dict):
        fio = " ".join(str(fl[k]) for k in ("Фамилия", "Имя", "Отчество") if fl.get(k))
        if fio:
            return fio
    return "—"


class SbisDesk:
    """Documents we sent (drafts are not the counterparty's yet), and its moves on them."""

    # How SBIS carries an employee's МЧД is unconfirmed: the SBIS fake signs as the head.
    employee_signing = False

    def __init__(self, world: World) -> None:
        self.world = world

    def _doc(self, doc_id: str) -> Document:
        return self.world.documents[doc_id]

    @staticmethod
    def _main(doc: Document) -> Attachment | None:
        return next((a for a in doc.attachments if not a.service), None)

    def documents(self) -> list[DeskDocument]:
        out = []
        for doc in self.world.documents.values():
            main = self._main(doc)
            if not doc.sent or main is None:
                continue
            state = doc.state.value if isinstance(doc.state, Play) else str(doc.state)
            party = f"{_party_name(doc)}, ИНН {doc.party_inn}"
            out.append(
                DeskDocument(id=doc.id, counterparty=party, file_name=main.name, state=state)
            )
        return out

    def content(self, doc_id: str) -> bytes | None:
        main = self._main(self._doc(doc_id))
        return main.data if main else None

    def our_signature(self, doc_id: str) -> bytes | None:
        main = self._main(self._doc(doc_id))
        ours = [s for s in (main.signatures if main else []) if s.inn == self.world.our_inn]
        return ours[0].data if ours else None

    def play(self, doc_id: str, play: Play, reason: str | None, *, employee: bool = False) -> None:
        doc = self._doc(doc_id)
        doc.done = doc.manual = True  # the developer plays this counterparty from now on
        self.world._play(doc, play, reason)  # the scenario's own move


__all__ = ["SbisDesk"]
