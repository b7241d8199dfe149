"""The fake Diadoc's revocation routes and the counterparty's answers.

* ``POST /V2/GenerateRevocationRequestXml`` (``RevocationRequestInfo``) on a document both
  sides signed gives the revocation request XML; ``POST /V2/GenerateSignatureRejectionXml``
  (``SignatureRejectionGenerationRequestV2``) on the counterparty's revocation request gives
  the refusal XML.
* ``PostMessagePatch`` takes them back signed: ``RevocationRequests`` (ours), ``Signatures``
  under the counterparty's request (we accept) and ``XmlSignatureRejections`` under it (we
  refuse). The document's ``RevocationStatus`` follows.
* The counterparty answers our request when the feed is read to its end, as its scenario says
  (:meth:`Scenario.revocation_answer`), or as the counterparty page is clicked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from edi_bridge.fakes.scenario import Play

from ..conformance import build, differences
from . import answers
from .records import SentDocument
from .validate import ApiError, b64, bad, check_signature, required_arg

if TYPE_CHECKING:
    from .world import World

REVOCATION = "RevocationRequest"
REJECTION = "XmlSignatureRejection"
CONTENT_TYPES = frozenset({"revocation_request_01", "revocation_request_02"})
STATUS_BY_PLAY = {
    Play.REVOCATION_ACCEPTED: "RevocationAccepted",
    Play.REVOCATION_REJECTED: "RevocationRejected",
}


def _json(request: Request, model: str) -> Mapping[str, Any]:
    body = request.get_json(silent=True)
    found = [d for d in differences(body, model) if "required field" in d or "expected" in d]
    if body is None or found:
        raise bad("; ".join(found) or "body is not valid JSON")
    assert isinstance(body, Mapping)
    return body


def _xml(response: bytes, name: str) -> Response:
    answer = Response(response, content_type="application/xml")
    answer.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return answer


def document_of(world: World, message_id: str, entity_id: str) -> SentDocument:
    doc = world.documents.get(f"{message_id}:{entity_id}")
    if doc is None:
        raise ApiError(404, "DiadocApi.EntityNotFound", f"no document {entity_id}")
    return doc


def _doc_with_request(world: World, message_id: str, request_id: str) -> SentDocument:
    """The document whose pending counterparty revocation request is ``request_id``."""
    for doc in world.documents.values():
        if doc.message_id == message_id and doc.their_request == request_id:
            return doc
    raise ApiError(
        404, "DiadocApi.EntityNotFound", f"{request_id} is no pending revocation request"
    )


def _signed_both(world: World, doc: SentDocument) -> bool:
    return any(
        e.get("EntityType") == "Signature"
        and e.get("ParentEntityId") == doc.entity_id
        and e.get("SignerBoxId") == doc.to_box
        for e in world.messages[doc.message_id]["Entities"]
    )


def set_status(world: World, doc: SentDocument, status: str) -> None:
    entities = world.messages[doc.message_id]["Entities"]
    info = next(e for e in entities if e["EntityId"] == doc.entity_id)["DocumentInfo"]
    info["RevocationStatus"] = status
    build("Document", **info)


class RevocationRoutes:
    """Mixed into the app, which holds the world."""

    world: World

    def _our_box(self, box_id: str) -> None: ...  # from Sending

    def generate_revocation_request_xml(self, request: Request) -> Response:
        self._our_box(required_arg(request, "boxId"))
        kind = required_arg(request, "contentTypeId")
        if kind not in CONTENT_TYPES:
            raise bad(f"contentTypeId must be one of {', '.join(sorted(CONTENT_TYPES))}")
        doc = document_of(
            self.world, required_arg(request, "messageId"), required_arg(request, "attachmentId")
        )
        body = _json(request, "RevocationRequestInfo")
        if not _signed_both(self.world, doc):
            raise ApiError(409, "DiadocApi.Conflict", "the document is not signed by both sides")
        comment = str(body.get("Comment") or "")
        xml = answers.fns_xml("PRANNUL", "СвПредАн", {"ТекстПредАн": comment})
        return _xml(xml, "revocation-request.xml")

    def generate_signature_rejection_xml(self, request: Request) -> Response:
        self._our_box(required_arg(request, "boxId"))
        body = _json(request, "SignatureRejectionGenerationRequestV2")
        _doc_with_request(self.world, str(body["MessageId"]), str(body["AttachmentId"]))
        b64(body["SignerContent"], "SignerContent")
        text = str(body.get("ErrorMessage") or "")
        xml = answers.fns_xml("UVUTOCH", "СвУведУточ", {"ТекстУведУточ": text})
        return _xml(xml, "rejection.xml")

    def revocation_entities(
        self, box: str, message_id: str, body: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The entities a patch's revocation parts add (checked first, nothing half-done)."""
        world = self.world
        plans: list[tuple[SentDocument, str, bytes, bytes, str]] = []
        for n, item in enumerate(body.get("RevocationRequests") or []):
            doc = document_of(world, message_id, str(item["ParentEntityId"]))
            if not _signed_both(world, doc) or doc.our_request or doc.their_request:
                raise ApiError(409, "DiadocApi.Conflict", "the document cannot be revoked now")
            content, signature = _signed_content(item, f"RevocationRequests[{n}]")
            plans.append((doc, REVOCATION, content, signature, "RevocationIsRequestedByMe"))
        for n, item in enumerate(body.get("Signatures") or []):
            doc = _doc_with_request(world, message_id, str(item["ParentEntityId"]))
            signature = b64(item.get("Signature"), f"Signatures[{n}].Signature")
            check_signature(signature, world.contents[(message_id, doc.their_request or "")], n)
            plans.append((doc, "", b"", signature, "RevocationAccepted"))
        for n, item in enumerate(body.get("XmlSignatureRejections") or []):
            doc = _doc_with_request(world, message_id, str(item["ParentEntityId"]))
            content, signature = _signed_content(item, f"XmlSignatureRejections[{n}]")
            plans.append((doc, REJECTION, content, signature, "RevocationRejected"))
        entities: list[dict[str, Any]] = []
        for doc, attachment_type, content, signature, status in plans:
            parent = doc.entity_id if attachment_type == REVOCATION else str(doc.their_request)
            if attachment_type:
                name = "revocation-request.xml" if attachment_type == REVOCATION else "reject.xml"
                attachment = world.entity(
                    message_id,
                    entity_type="Attachment",
                    content=content,
                    parent=parent,
                    attachment_type=attachment_type,
                    file_name=name,
                )
                entities.append(attachment)
                parent = attachment["EntityId"]
            entities.append(
                world.entity(
                    message_id,
                    entity_type="Signature",
                    content=signature,
                    parent=parent,
                    signer_box=box,
                )
            )
            set_status(world, doc, status)
            if attachment_type == REVOCATION:
                doc.our_request, doc.state = parent, "revocation_offered"
            else:
                doc.their_request = None
                accepted = status == "RevocationAccepted"
                doc.state = "revocation_accepted" if accepted else "revocation_rejected"
        return entities


def _signed_content(item: Mapping[str, Any], where: str) -> tuple[bytes, bytes]:
    signed = item["SignedContent"]
    content = b64(signed.get("Content"), f"{where}.SignedContent.Content")
    signature = b64(signed.get("Signature"), f"{where}.SignedContent.Signature")
    check_signature(signature, content, 0)
    return content, signature


def answer_pending(world: World, box_id: str) -> None:
    """Counterparties answer our revocation requests as their scenarios say."""
    for doc in list(world.documents.values()):
        if doc.from_box != box_id or not doc.our_request or doc.manual:
            continue
        found = doc.scenario.revocation_answer()
        if found is not None:
            world.play(doc, *found)


def answer_our_request(world: World, doc: SentDocument, play: Play, reason: str | None) -> None:
    """The counterparty signs (accepts) or refuses our pending revocation request."""
    request = doc.our_request
    if request is None:
        return
    signer = world.signer(doc.recipient)
    entities: list[dict[str, Any]] = []
    if play is Play.REVOCATION_ACCEPTED:
        content = world.contents[(doc.message_id, request)]
        parent = request
    else:
        content = answers.fns_xml("UVUTOCH", "СвУведУточ", {"ТекстУведУточ": reason or ""})
        rejection = world.entity(
            doc.message_id,
            entity_type="Attachment",
            content=content,
            parent=request,
            attachment_type=REJECTION,
            file_name="rejection.xml",
        )
        entities.append(rejection)
        parent = rejection["EntityId"]
    entities.append(
        world.entity(
            doc.message_id,
            entity_type="Signature",
            content=signer.sign(content),
            parent=parent,
            signer_box=doc.to_box,
        )
    )
    doc.our_request, doc.state = None, play.value
    set_status(world, doc, STATUS_BY_PLAY[play])
    world.add_patch(doc.message_id, entities)


__all__ = [
    "RevocationRoutes",
    "answer_our_request",
    "answer_pending",
    "document_of",
    "set_status",
]
