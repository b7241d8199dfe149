"""The fake Diadoc's receipt routes: GenerateReceiptXml (V2) and PostMessagePatch (V4).

A УПД with an invoice function (СЧФ, СЧФДОП) gets the operator's ``InvoiceConfirmation``
when it is sent, and its sender's receipt status reads ``HaveToCreateReceipt`` until a
signed receipt on that confirmation comes back in a patch; then ``Finished``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from edi_bridge.fakes.base import json_answer

from ..conformance import build, differences
from . import answers
from .poa import check_power_of_attorney, prevalidate
from .validate import ApiError, b64, bad, check_signature, required_arg
from .world import World, _now_ticks

CONFIRMED_FUNCTIONS = frozenset({"СЧФ", "СЧФДОП"})


def _body(request: Request, model: str) -> Mapping[str, Any]:
    try:
        body = json.loads(request.get_data())
    except ValueError:
        raise bad("body is not valid JSON") from None
    # Unknown fields are the client's business; a missing required one is a 400.
    found = [d for d in differences(body, model) if "required field" in d or "expected" in d]
    if found:
        raise bad("; ".join(found))
    assert isinstance(body, Mapping)
    return body


class Patches:
    """Receipts on the operator's confirmations; mixed into the app, which holds the world."""

    world: World

    def _our_box(self, box_id: str) -> None: ...  # from Sending

    if TYPE_CHECKING:  # from RevocationRoutes, ahead of this class in the app

        def revocation_entities(
            self, box: str, message_id: str, body: Mapping[str, Any]
        ) -> list[dict[str, Any]]: ...

    def _confirmation(self, message_id: str, entity_id: str) -> dict[str, Any]:
        message = self.world.messages.get(message_id)
        entity = next(
            (e for e in (message or {}).get("Entities", []) if e["EntityId"] == entity_id), None
        )
        if entity is None or entity.get("AttachmentType") != "InvoiceConfirmation":
            raise ApiError(404, "DiadocApi.EntityNotFound", f"no confirmation {entity_id}")
        found: dict[str, Any] = entity
        return found

    def generate_receipt_xml(self, request: Request) -> Response:
        self._our_box(required_arg(request, "boxId"))
        body = _body(request, "ReceiptGenerationRequestV2")
        self._confirmation(str(body["MessageId"]), str(body["AttachmentId"]))
        b64(body["SignerContent"], "SignerContent")
        xml = answers.fns_xml("ИзвПол", "СвИзвПолуч", {"ИдПолучФайла": str(body["AttachmentId"])})
        response = Response(xml, content_type="application/xml")
        response.headers["Content-Disposition"] = 'attachment; filename="receipt.xml"'
        return response

    def post_message_patch(self, request: Request) -> Response:
        body = _body(request, "MessagePatchToPostV2")
        box = str(body["BoxId"])
        self._our_box(box)
        world = self.world
        operation = required_arg(request, "operationId")
        done = world.operations.get((box, "patch:" + operation))
        if done is not None:
            return json_answer(world.patches[done])  # idempotent on operationId
        message_id = str(body["MessageId"])
        receipts = body.get("Receipts") or []
        # Revocation parts are checked before anything is added (.revocations).
        entities: list[dict[str, Any]] = self.revocation_entities(box, message_id, body)
        if not receipts and not entities:
            raise bad(
                "the patch carries nothing the fake handles (Receipts, RevocationRequests, "
                "Signatures, XmlSignatureRejections)"
            )
        if receipts and world.refuse_receipts > 0:
            world.refuse_receipts -= 1
            raise bad("the receipt is refused (the fake's refuse_receipts)")
        for n, receipt in enumerate(receipts):
            parent = self._confirmation(message_id, str(receipt["ParentEntityId"]))
            signed = receipt["SignedContent"]
            content = b64(signed.get("Content"), f"Receipts[{n}].SignedContent.Content")
            signature = b64(signed.get("Signature"), f"Receipts[{n}].SignedContent.Signature")
            check_signature(signature, content, n)
            # An employee's receipt must carry the МЧД too, checked as on a document.
            check_power_of_attorney(
                signed,
                signature,
                index=n,
                type_id="Receipt",
                sender_inn=world.our_org.inn,
                registry=world.powers_of_attorney,
                where=f"Receipts[{n}].SignedContent",
            )
            attachment = world.entity(
                message_id,
                entity_type="Attachment",
                content=content,
                parent=parent["EntityId"],
                attachment_type="Receipt",
                file_name="receipt.xml",
            )
            entities += [
                attachment,
                world.entity(
                    message_id,
                    entity_type="Signature",
                    content=signature,
                    parent=attachment["EntityId"],
                    signer_box=box,
                ),
            ]
            document = self._confirmation_document(message_id, parent)
            document["SenderReceiptMetadata"] = {"ReceiptStatus": "Finished"}
        patch = world.add_patch(message_id, entities)
        world.operations[(box, "patch:" + operation)] = patch["PatchId"]
        return json_answer(patch)

    def prevalidate_power_of_attorney(self, request: Request) -> Response:
        """PrevalidatePowerOfAttorney: the МЧД by its id, for the certificate in the body."""
        self._our_box(required_arg(request, "boxId"))
        number = required_arg(request, "registrationNumber")
        issuer = required_arg(request, "issuerInn")
        body = _body(request, "PowerOfAttorneyPrevalidateRequest")
        confidant = body["ConfidantCertificate"]
        content = (confidant.get("Content") or {}).get("Content")
        if not content:
            raise bad("ConfidantCertificate.Content.Content is required (the fake has no store)")
        certificate = b64(content, "ConfidantCertificate.Content.Content")
        status = prevalidate(self.world.powers_of_attorney, number, issuer, certificate)
        return json_answer(build("PowerOfAttorneyPrevalidateResult", PrevalidateStatus=status))

    def _confirmation_document(self, message_id: str, parent: Mapping[str, Any]) -> Any:
        for entity in self.world.messages[message_id]["Entities"]:
            if entity["EntityId"] == parent.get("ParentEntityId"):
                return entity["DocumentInfo"]
        raise ApiError(500, "DiadocApi.InternalError", "confirmation without its document")


def confirm(world: World, message_id: str, document: dict[str, Any], function: str) -> list[Any]:
    """The operator's confirmation on a УПД with an invoice function (else nothing)."""
    if function not in CONFIRMED_FUNCTIONS:
        return []
    document["DocumentInfo"]["SenderReceiptMetadata"] = {"ReceiptStatus": "HaveToCreateReceipt"}
    xml = answers.fns_xml("ПодтвОпер", "СвПодтв", {"ДатаОтпр": str(_now_ticks())})
    return [
        world.entity(
            message_id,
            entity_type="Attachment",
            content=xml,
            parent=document["EntityId"],
            attachment_type="InvoiceConfirmation",
            file_name="confirmation.xml",
        )
    ]


__all__ = ["CONFIRMED_FUNCTIONS", "Patches", "confirm"]
