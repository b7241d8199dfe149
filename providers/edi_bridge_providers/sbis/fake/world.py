"""The SBIS fake's memory: documents, files, events, sessions, counterparties.

The counterparty is played by scenario (:mod:`edi_bridge.fakes.scenario`),
chosen per counterparty INN (see :class:`PartyPlan`), falling back to the
fake's default scenario. It moves when a client has read every change already
listed and asks again: each open document's counterparty takes its next step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid
from typing import TYPE_CHECKING, Any

from edi_bridge.fakes.base import FakeWorld
from edi_bridge.fakes.identities import counterparty_signer
from edi_bridge.fakes.scenario import Play, Scenario, parse_scenario

from ..wire import MSK, format_datetime
from .cms import digest_matches, thumbprint_of
from .employees import employee_signer

if TYPE_CHECKING:
    from .service import ServiceStage

EVENT_NAMES = {
    Play.DELIVERED: "Получение",
    Play.SIGNED: "Утверждение",
    Play.REJECTED: "Отклонение",
}
# State codes and names as SBIS's own published 1C processing lists them (saby-integration/
# vo3_core, the task list's statuses); that ``Состояние.Код`` carries these codes is
# *unconfirmed*. The annulment states are the fake's page states (edi_bridge.fakes.page).
STATES: dict[str, tuple[str, str]] = {
    "draft": ("0", "Документ редактируется"),
    "sent": ("3", "Отправлен"),
    Play.DELIVERED: ("4", "Доставлен"),
    Play.SIGNED: ("7", "Выполнение завершено успешно"),
    Play.REJECTED: ("9", "Выполнение завершено с проблемами"),
    "revocation_requested": ("27", "Ожидает аннулирования"),  # the counterparty asked
    "revocation_offered": ("27", "Ожидает аннулирования"),  # we asked
    Play.REVOCATION_ACCEPTED: ("22", "Аннулирован по соглашению"),
    # Refused: the document stays in force (unconfirmed which state SBIS shows then).
    Play.REVOCATION_REJECTED: ("7", "Выполнение завершено успешно"),
}


class FakeError(Exception):
    """An error the fake answers as a JSON-RPC error."""

    def __init__(self, message: str, details: str = "", code: int = -32000, http: int = 500):
        self.message = message
        self.details = details or message
        self.code = code
        self.http = http
        super().__init__(message)


def invalid(field: str, rule: str) -> FakeError:
    return FakeError("Неверные параметры метода", f"{field}: {rule}", code=-32602, http=400)


@dataclasses.dataclass
class PartyPlan:
    """How one counterparty (by INN) behaves at the fake."""

    scenario: str | None = None
    ogrn: str | None = None
    full_name: str | None = None
    position: str | None = None
    reachable: bool = True
    operator: str = "2BE"  # another operator's id means a roaming box


@dataclasses.dataclass
class Signature:
    file_name: str
    data: bytes
    inn: str
    fio: str
    thumbprint: str


@dataclasses.dataclass
class Attachment:
    id: str
    name: str
    data: bytes
    service: bool = False
    to_sign: bool = True
    signatures: list[Signature] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Event:
    seq: int
    id: str
    document_id: str
    name: str
    at: dt.datetime
    comment: str = ""
    attachment_ids: tuple[str, ...] = ()


@dataclasses.dataclass
class Document:
    id: str
    type: str
    number: str
    date: str
    ours: dict[str, Any]
    party: dict[str, Any]
    party_inn: str
    attachments: list[Attachment]
    stage_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    sent: bool = False
    prepared: bool = False
    scenario: Scenario | None = None
    polls: int = 0
    done: bool = False
    state: str | Play = "draft"
    writes: int = 0
    manual: bool = False  # played from the counterparty page: no scenario answers
    # Annulment: who asked ("ours"/"theirs", None: no open request), the stage that
    # offers it, the action prepared and the agreement file awaiting our signature.
    annulment: str | None = None
    annul_stage_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    prepared_action: str | None = None
    pending: Attachment | None = None
    service_stages: list[ServiceStage] = dataclasses.field(default_factory=list)


class World(FakeWorld):
    """Everything the fake remembers; all access under one lock."""

    def __init__(self, *, our_inn: str, default_scenario: str) -> None:
        super().__init__(default_scenario=default_scenario)
        self.our_inn = our_inn
        self.plans: dict[str, PartyPlan] = {}
        self.documents: dict[str, Document] = {}
        self.events: list[Event] = []
        self.files: dict[str, bytes] = {}
        self.rpc_calls = 0
        self.receipts = False  # option receipts=1: our receipt is due after a send (.service)
        self.write_attempts: dict[str, int] = {}
        self._clock = dt.datetime.now(MSK).replace(microsecond=0)

    # -- time: strictly increasing whole seconds, so every event has its own ----

    def now(self) -> dt.datetime:
        real = dt.datetime.now(MSK).replace(microsecond=0)
        self._clock = max(real, self._clock + dt.timedelta(seconds=1))
        return self._clock

    # -- files ------------------------------------------------------------

    def link(self, data: bytes) -> str:
        """A download token for ``data`` (stable for the same bytes)."""
        token = hashlib.sha256(data).hexdigest()[:40]
        self.files[token] = data
        return token

    # -- counterparties ---------------------------------------------------

    def plan(self, inn: str) -> PartyPlan:
        return self.plans.get(inn) or PartyPlan()

    def scenario_for(self, inn: str) -> Scenario:
        chosen = self.plan(inn).scenario
        return parse_scenario(chosen or self.default_scenario)

    # -- events -----------------------------------------------------------

    def add_event(
        self, doc: Document, name: str, comment: str = "", attachment_ids: tuple[str, ...] = ()
    ) -> Event:
        event = Event(
            seq=len(self.events) + 1,
            id=str(uuid.uuid4()),
            document_id=doc.id,
            name=name,
            at=self.now(),
            comment=comment,
            attachment_ids=attachment_ids,
        )
        self.events.append(event)
        return event

    def after(self, event_id: str | None, since: dt.datetime | None) -> list[Event]:
        if event_id:
            known = next((e for e in self.events if e.id == event_id), None)
            if known is not None:
                return self.events[known.seq :]
        if since is None:
            return list(self.events)
        return [e for e in self.events if e.at >= since]

    def advance(self) -> None:
        """Each open document's counterparty takes its next step."""
        from . import annulment  # it builds on this module's classes

        for doc in self.documents.values():
            annulment.answer_due(self, doc)  # our revocation request, answered now
            if not doc.sent or doc.done or doc.scenario is None:
                continue
            doc.polls += 1
            doc.done = doc.polls >= doc.scenario.last_poll
            for play, reason in doc.scenario.due(doc.polls):
                self._play(doc, play, reason)

    def _play(self, doc: Document, play: Play, reason: str | None) -> None:
        from . import annulment

        if play is Play.REVOKED:
            annulment.play_request(self, doc, reason or "")
            return
        if play in (Play.REVOCATION_ACCEPTED, Play.REVOCATION_REJECTED):
            annulment.play_answer(self, doc, play, reason or "")
            return
        main = doc.attachments[0]
        touched: tuple[str, ...] = (main.id,)
        if play is Play.DELIVERED:
            receipt = self._receipt(doc)
            doc.attachments.append(receipt)
            touched = (receipt.id,)
        elif play in (Play.SIGNED, Play.REJECTED):
            from .titles import answer  # a УПД's title, or a signature; a refusal's notice

            touched = answer(self, doc, main, play, reason or "")
        doc.state = play
        self.add_event(doc, EVENT_NAMES[play], reason or "", touched)

    def _signer_for(self, doc: Document) -> Any:
        plan = self.plan(doc.party_inn)
        ul = doc.party.get("СвЮЛ") or {}
        fl = doc.party.get("СвФЛ") or {}
        name = ul.get("Название") if isinstance(ul, dict) else None
        employee = employee_signer(doc.scenario, name, doc.party_inn)
        if employee is not None:
            return employee
        names = ("Фамилия", "Имя", "Отчество")
        fio = " ".join(str(fl[k]) for k in names if isinstance(fl, dict) and fl.get(k))
        return counterparty_signer(
            doc.party_inn, plan.ogrn, name, plan.full_name or fio or None, plan.position
        )

    def _counterparty_signature(self, doc: Document, att: Attachment) -> Signature:
        signer = self._signer_for(doc)
        data = signer.sign(att.data)
        return Signature(
            file_name=f"{att.name}.{doc.party_inn}.sig",
            data=data,
            inn=doc.party_inn,
            fio=self.plan(doc.party_inn).full_name or "",
            thumbprint=hashlib.sha1(signer.certificate).hexdigest().upper(),  # noqa: S324
        )

    def _receipt(self, doc: Document) -> Attachment:
        when = format_datetime(self.now())
        body = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<Извещение Документ="{doc.id}" Получатель="{doc.party_inn}" ДатаВремя="{when}"/>\n'
        ).encode()
        receipt = Attachment(
            id=str(uuid.uuid4()),
            name=f"ИОП_{doc.id}.xml",
            data=body,
            service=True,
            to_sign=False,
        )
        signer = self._signer_for(doc)
        receipt.signatures.append(
            Signature(
                file_name=f"{receipt.name}.sig",
                data=signer.sign(body),
                inn=doc.party_inn,
                fio="",
                thumbprint=hashlib.sha1(signer.certificate).hexdigest().upper(),  # noqa: S324
            )
        )
        return receipt


__all__ = [
    "Attachment",
    "Document",
    "Event",
    "FakeError",
    "PartyPlan",
    "Signature",
    "World",
    "digest_matches",
    "invalid",
    "thumbprint_of",
]
