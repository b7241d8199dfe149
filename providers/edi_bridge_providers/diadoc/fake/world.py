"""The fake Diadoc's world: organizations and boxes, messages, box feeds, the shelf.

Everything is kept in memory behind one lock. The counterparty of each sent
document moves by its scenario (see :mod:`edi_bridge.fakes.scenario`) when our
box's feed is read to its end, the way the mock advances on a poll round.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import secrets
import uuid
from typing import Any

from edi_bridge.fakes.base import FakeWorld
from edi_bridge.fakes.identities import counterparty_signer
from edi_bridge.fakes.scenario import Play
from edi_bridge.mchd.model import organisation_of
from edi_bridge.mchd.reader import read_power_of_attorney
from edi_bridge.requisites import check_inn
from edi_bridge.signing.personal import employee_signing

from ..feed import datetime_to_ticks
from . import answers, revocations, titles
from .records import Org, SentDocument

INLINE_CONTENT_LIMIT = 256 * 1024  # entity content carried inside JSON answers


def _now_ticks() -> int:
    return datetime_to_ticks(dt.datetime.now(dt.UTC))


class World(FakeWorld):
    """All state of one fake Diadoc."""

    def __init__(
        self,
        our_org: Org,
        *,
        default_scenario: str = "sign",
        duplicate_events: float = 0.0,
        duplicate_index_keys: float = 0.0,
        seed: int | None = None,
    ) -> None:
        super().__init__(default_scenario=default_scenario)
        self.our_org = our_org
        self.duplicate_events = duplicate_events
        self.duplicate_index_keys = duplicate_index_keys
        self.rng = random.Random(seed)
        self.orgs: dict[str, Org] = {our_org.key: our_org}
        self.messages: dict[str, dict[str, Any]] = {}
        self.contents: dict[tuple[str, str], bytes] = {}
        self.operations: dict[tuple[str, str], str] = {}
        self.custom_ids: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.feeds: dict[str, list[dict[str, Any]]] = {}
        # {box: (events indexed so far, {IndexKey: position of its first event})};
        # feeds only grow, so the index catches up with new events on lookup.
        self._feed_index: dict[str, tuple[int, dict[str, int]]] = {}
        self.documents: dict[str, SentDocument] = {}
        self.patches: dict[str, dict[str, Any]] = {}
        self.shelf: dict[str, dict[int, bytes]] = {}
        self.shelf_done: dict[str, bytes] = {}
        self.counter = 0
        self.fail_after_commit = 0
        # Steering for tests: this many receipt patches are refused (400) before one is taken,
        # leaving a signed document whose document flow is not finished.
        self.refuse_receipts = 0
        # The МЧД registry the fake consults for FullId: {number: EMCHD_1 XML}.
        self.powers_of_attorney: dict[str, bytes] = {}
        # {(box, message id): (EventId, ticks)}: its last box event (GetDocflows' LastEvent).
        self.last_events: dict[tuple[str, str], tuple[str, int]] = {}

    # -- organizations -----------------------------------------------------

    def box_owner(self, box_id: str) -> Org | None:
        return next((o for o in self.orgs.values() if o.has_box and o.box_id == box_id), None)

    def find_orgs(self, inn: str, kpp: str | None) -> list[Org]:
        found = [o for o in self.orgs.values() if o.inn == inn and (not kpp or o.kpp == kpp)]
        if not found and check_inn(inn) is None:
            # Any organization with a valid INN is on Diadoc unless told otherwise.
            org = Org(inn=inn, kpp=kpp if len(inn) == 10 else None, name=f"Организация {inn}")
            self.orgs[org.key] = org
            found = [org]
        return found

    def add_org(self, org: Org) -> Org:
        self.orgs[org.key] = org
        return org

    # -- feeds -------------------------------------------------------------

    def _index_key(self, box_id: str) -> str:
        feed = self.feeds.get(box_id) or []
        if feed and self.rng.random() < self.duplicate_index_keys:
            return str(feed[-1]["IndexKey"])  # the known fault: a repeated IndexKey
        self.counter += 1
        # Real keys contain '+', which must be URL-encoded by clients.
        return f"{self.counter:012d}+{secrets.token_hex(3)}"

    def add_event(self, box_ids: list[str], *, message: Any = None, patch: Any = None) -> None:
        body = message or patch
        for box_id in box_ids:
            # A BoxEvent carries no time of its own: the time is the TimestampTicks
            # of its Message or Patch.
            event_id = str(uuid.uuid4())
            event = answers.box_event(
                event_id=event_id, index_key=self._index_key(box_id), Message=message, Patch=patch
            )
            self.feeds.setdefault(box_id, []).append(event)
            if body:
                ticks = int(body["TimestampTicks"])
                self.last_events[(box_id, body["MessageId"])] = (event_id, ticks)

    def page(self, box_id: str, after: str | None, limit: int) -> tuple[list[Any], int] | None:
        """Events after ``after`` (None: unknown key); moves counterparties at the end."""
        feed = self.feeds.setdefault(box_id, [])
        start = 0
        if after:
            # Position after the *first* event with this key: an equal key that
            # follows shows up again on the next page, as users report.
            index = self._index_of(box_id, feed, after)
            if index is None:
                return None
            start = index + 1
        if start >= len(feed):
            self.advance(box_id)
        events = list(feed[start : start + limit])
        if self.duplicate_events and events:
            out: list[Any] = []
            for event in events:
                out.append(event)
                if self.rng.random() < self.duplicate_events:
                    out.append(event)  # the known fault: the same EventId twice
            events = out[:limit]
        return events, max(0, len(feed) - start)

    def _index_of(self, box_id: str, feed: list[dict[str, Any]], key: str) -> int | None:
        done, positions = self._feed_index.get(box_id, (0, {}))
        if done > len(feed):  # the feed was replaced: index it again
            done, positions = 0, {}
        for i in range(done, len(feed)):
            positions.setdefault(feed[i]["IndexKey"], i)
        self._feed_index[box_id] = (len(feed), positions)
        return positions.get(key)

    # -- entities ----------------------------------------------------------

    def entity(
        self,
        message_id: str,
        *,
        entity_type: str,
        content: bytes,
        parent: str | None = None,
        attachment_type: str | None = None,
        file_name: str | None = None,
        signer_box: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        entity_id = str(uuid.uuid4())
        self.contents[(message_id, entity_id)] = content
        body: dict[str, Any] = {
            "EntityType": entity_type,
            "EntityId": entity_id,
            "Content": {"Size": len(content)},
            "RawCreationDate": _now_ticks(),
        }
        if len(content) <= INLINE_CONTENT_LIMIT:
            body["Content"]["Data"] = base64.b64encode(content).decode("ascii")
        if parent:
            body["ParentEntityId"] = parent
        if attachment_type:
            body["AttachmentType"] = attachment_type
        if file_name:
            body["FileName"] = file_name
        if signer_box:
            body["SignerBoxId"] = signer_box
        body.update(extra or {})
        return answers.entity(**body)

    # -- the counterparty ----------------------------------------------------

    def advance(self, box_id: str) -> None:
        revocations.answer_pending(self, box_id)
        for doc in list(self.documents.values()):
            if doc.from_box != box_id or doc.done:
                continue
            doc.polls += 1
            doc.done = doc.polls >= doc.scenario.last_poll
            for play, reason in doc.scenario.due(doc.polls):
                self.play(doc, play, reason)

    def _signed_attachment(
        self, doc: SentDocument, attachment_type: str, file_name: str, content: bytes
    ) -> list[dict[str, Any]]:
        attachment = self.entity(
            doc.message_id,
            entity_type="Attachment",
            content=content,
            parent=doc.entity_id,
            attachment_type=attachment_type,
            file_name=file_name,
        )
        signature = self.entity(
            doc.message_id,
            entity_type="Signature",
            content=self.signer(doc.recipient).sign(content),
            parent=attachment["EntityId"],
            signer_box=doc.to_box,
        )
        return [attachment, signature]

    @staticmethod
    def signer(org: Org) -> Any:
        return counterparty_signer(org.inn, org.ogrn, org.name, org.full_name, org.position)

    def _employee(self, org: Org, case: str) -> tuple[Any, dict[str, Any] | None]:
        """An employee's signer, and the МЧД it signed under as Diadoc shows it on the
        signature (``PowerOfAttorneyInfo``: its id and Diadoc's own validation status)."""
        employee = employee_signing(organisation_of(org), case)
        if employee.power_of_attorney is None:
            return employee.signer, None
        poa = read_power_of_attorney(employee.power_of_attorney)
        self.powers_of_attorney[poa.number] = employee.power_of_attorney
        problem = poa.validity_problem(dt.datetime.now(dt.UTC))
        if any(p.inn != org.inn for p in poa.principals):
            problem = "the principal is not the signer's organisation"
        named = "IsNotValid" if problem or case.endswith("representative") else "IsValid"
        status = {"StatusNamedId": named, "StatusText": problem or ""}
        full_id = {"RegistrationNumber": poa.number, "IssuerInn": poa.principals[0].inn}
        return employee.signer, {"PowerOfAttorneyInfo": {"FullId": full_id, "Status": status}}

    def play(self, doc: SentDocument, play: Play, reason: str | None) -> None:
        if play in revocations.STATUS_BY_PLAY:
            return revocations.answer_our_request(self, doc, play, reason)
        doc.state = play.value
        if play is Play.DELIVERED:
            xml = answers.fns_xml("ИзвПол", "СвИзвПолуч", {"ИмяПостФайла": doc.file_name})
            entities = self._signed_attachment(doc, "Receipt", "receipt.xml", xml)
        elif play is Play.SIGNED:
            signer, extra = self.signer(doc.recipient), None
            if doc.scenario.employee_case is not None:
                signer, extra = self._employee(doc.recipient, doc.scenario.employee_case)
            entities = titles.recipient_signs(self, doc, signer, extra)
        elif play is Play.REJECTED:
            xml = answers.fns_xml("UVUTOCH", "СвУведУточ", {"ТекстУведУточ": reason or ""})
            entities = self._signed_attachment(doc, "XmlSignatureRejection", "rejection.xml", xml)
        else:
            # The counterparty asks to annul: we accept or refuse (.revocations).
            xml = answers.fns_xml("PRANNUL", "СвПредАн", {"ТекстПредАн": reason or ""})
            entities = self._signed_attachment(doc, "RevocationRequest", "revocation.xml", xml)
            doc.their_request, doc.state = entities[0]["EntityId"], "revocation_requested"
        ticks = _now_ticks()
        info = next(
            e for e in self.messages[doc.message_id]["Entities"] if e["EntityId"] == doc.entity_id
        )
        if play is Play.REVOKED:
            answers.revocation_requested(info["DocumentInfo"], ticks)
        elif play is not Play.DELIVERED:
            signed = play is Play.SIGNED
            status = "WithRecipientSignature" if signed else "RecipientSignatureRequestRejected"
            answers.respond(info["DocumentInfo"], status, ticks)
        self.add_patch(doc.message_id, entities)

    def add_patch(self, message_id: str, entities: list[dict[str, Any]]) -> dict[str, Any]:
        """Entities added to a message, as a MessagePatch in both boxes' feeds."""
        message = self.messages[message_id]
        message["Entities"].extend(entities)
        ticks = _now_ticks()
        message["LastPatchTimestampTicks"] = ticks
        patch = answers.patch(
            message_id=message_id, patch_id=str(uuid.uuid4()), ticks=ticks, entities=entities
        )
        self.patches[patch["PatchId"]] = patch
        self.add_event([message["FromBoxId"], message["ToBoxId"]], patch=patch)
        return patch


__all__ = ["INLINE_CONTENT_LIMIT", "Org", "SentDocument", "World"]
