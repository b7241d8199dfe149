"""The fake Diadoc's records: organizations with their boxes, and the documents we sent."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from edi_bridge.fakes.scenario import Scenario

from . import answers

_NS = uuid.UUID("6f1c9a3e-2b4d-4c8e-9a51-3d2f7e6b8c10")


@dataclasses.dataclass
class Org:
    inn: str
    kpp: str | None
    name: str
    ogrn: str | None = None
    full_name: str | None = None
    position: str | None = None
    scenario: str | None = None
    has_box: bool = True

    @property
    def key(self) -> str:
        return f"{self.inn}-{self.kpp or ''}"

    @property
    def org_id(self) -> str:
        return str(uuid.uuid5(_NS, "org:" + self.key))

    @property
    def box_id(self) -> str:
        return uuid.uuid5(_NS, "box:" + self.key).hex + "@diadoc.ru"

    def as_json(self) -> dict[str, Any]:
        box = {"BoxId": self.box_id, "BoxIdGuid": self.box_id.split("@")[0], "Title": self.name}
        return answers.organization(
            org_id=self.org_id,
            inn=self.inn,
            kpp=self.kpp or "",
            name=self.name,
            box=box if self.has_box else None,
            fns_id=f"2BM-{self.inn}-{self.kpp or ''}-{self.org_id[:8]}",
        )


@dataclasses.dataclass
class SentDocument:
    """One document we sent, with the counterparty's progress on it."""

    message_id: str
    entity_id: str
    from_box: str
    to_box: str
    recipient: Org
    content: bytes
    file_name: str
    scenario: Scenario
    polls: int = 0
    done: bool = False
    state: str = "sent"  # the last Play, for the counterparty page
    manual: bool = False  # played from the counterparty page: no scenario answers for it
    our_request: str | None = None  # our pending revocation request (its entity id)
    their_request: str | None = None  # the counterparty's pending revocation request
    type_id: str = ""  # TypeNamedId: a UniversalTransferDocument is answered by a title
    signature: bytes = b""  # our signature, quoted by the buyer's title (ЭП)


__all__ = ["Org", "SentDocument"]
