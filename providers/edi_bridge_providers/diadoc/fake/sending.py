"""The fake Diadoc's sending routes: PostMessage (validated, idempotent by
``operationId``) and the shelf (ShelfUploadPartInit, ShelfUploadPart, ShelfDownload)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

from edi_bridge.fakes.base import json_answer
from edi_bridge.fakes.scenario import parse_scenario

from . import answers
from .patches import confirm
from .poa import check_power_of_attorney
from .validate import (
    MAX_DOCUMENT_SIZE,
    MAX_DOCUMENTS,
    SUPPORTED_TYPES,
    ApiError,
    b64,
    bad,
    check_formalized,
    check_metadata,
    check_signature,
    metadata,
    required_arg,
)
from .world import Org, SentDocument, World, _now_ticks

# Document.Title as Diadoc shows the type (the fake's wording).
_TITLES = {
    "Contract": "Договор",
    "Nonformalized": "Неформализованный документ",
    "UniversalTransferDocument": "УПД",
}

SHELF_PART_LIMIT = 3 * 1024 * 1024


class Sending:
    """PostMessage and the shelf; mixed into the app, which holds the world."""

    world: World

    # -- sending ---------------------------------------------------------

    def _our_box(self, box_id: str) -> None:
        if box_id != self.world.our_org.box_id:
            raise ApiError(403, "DiadocApi.Forbidden", f"no access to box {box_id}")

    def post_message(self, request: Request) -> Response:
        raw = request.get_data()
        try:
            body = json.loads(raw)
        except ValueError:
            raise bad("body is not valid JSON") from None
        if not isinstance(body, Mapping):
            raise bad("body must be a MessageToPost object")
        from_box = body.get("FromBoxId")
        if not from_box:
            raise bad("FromBoxId is required")
        self._our_box(str(from_box))
        operation = request.args.get("operationId") or hashlib.md5(raw).hexdigest()  # noqa: S324
        world = self.world
        existing = world.operations.get((str(from_box), operation))
        if existing is not None:
            return json_answer(world.messages[existing])  # idempotent on operationId
        to_box = body.get("ToBoxId")
        if not to_box:
            raise bad("ToBoxId is required")
        recipient = world.box_owner(str(to_box))
        if recipient is None:
            raise ApiError(404, "DiadocApi.BoxNotFound", f"box {to_box} not found")
        scenario = parse_scenario(recipient.scenario or world.default_scenario)
        attachments = body.get("DocumentAttachments")
        if not isinstance(attachments, list) or not attachments:
            raise bad("DocumentAttachments must hold at least one document")
        if len(attachments) > MAX_DOCUMENTS:
            raise bad(f"at most {MAX_DOCUMENTS} documents per message")
        prepared = [self._prepare(a, i) for i, a in enumerate(attachments)]
        calls = world.calls.get("flaky:" + operation, 0) + 1
        world.calls["flaky:" + operation] = calls
        if calls <= scenario.failing_calls:
            raise ApiError(500, "DiadocApi.InternalError", "transient failure (scenario flaky)")
        message = self._create(str(from_box), recipient, prepared, scenario)
        world.operations[(str(from_box), operation)] = message["MessageId"]
        if world.fail_after_commit > 0:
            world.fail_after_commit -= 1
            raise ApiError(500, "DiadocApi.InternalError", "failed after the message was stored")
        return json_answer(message)

    def _prepare(self, attachment: Any, index: int) -> dict[str, Any]:
        where = f"DocumentAttachments[{index}]"
        if not isinstance(attachment, Mapping):
            raise bad(f"{where} must be an object")
        type_id = attachment.get("TypeNamedId")
        if not type_id:
            raise bad(f"{where}.TypeNamedId is required")
        if type_id not in SUPPORTED_TYPES:
            raise bad(f"{where}.TypeNamedId {type_id!r} is not accepted by the recipient box")
        signed = attachment.get("SignedContent")
        if not isinstance(signed, Mapping):
            raise bad(f"{where}.SignedContent is required")
        if bool(signed.get("Content")) == bool(signed.get("NameOnShelf")):
            raise bad(f"{where}.SignedContent needs exactly one of Content and NameOnShelf")
        if signed.get("NameOnShelf"):
            content = self.world.shelf_done.get(str(signed["NameOnShelf"]))
            if content is None:
                raise bad(f"{where}.SignedContent.NameOnShelf: no such complete file on the shelf")
        else:
            content = b64(signed.get("Content"), f"{where}.SignedContent.Content")
        if not content:
            raise bad(f"{where}: content is empty")
        if len(content) > MAX_DOCUMENT_SIZE:
            raise ApiError(413, "DiadocApi.TooLarge", f"{where}: document larger than 70 MB")
        signature = b64(signed.get("Signature"), f"{where}.SignedContent.Signature")
        check_signature(signature, content, index)
        poa_number = check_power_of_attorney(
            signed,
            signature,
            index=index,
            type_id=str(type_id),
            sender_inn=self.world.our_org.inn,
            registry=self.world.powers_of_attorney,
        )
        meta = metadata(attachment, index)
        check_metadata(str(type_id), meta, index)
        check_formalized(str(type_id), attachment, index)
        return {
            "type": str(type_id),
            "content": content,
            "signature": signature,
            "meta": meta,
            "custom_id": str(attachment.get("CustomDocumentId") or ""),
            "power_of_attorney": poa_number,
            "need_receipt": bool(attachment.get("NeedReceipt")),
            # A document without Function/Version gets the type's default ones; the
            # names "default" and "v1" are the fake's guess (unconfirmed for Contract).
            "function": str(attachment.get("Function") or "default"),
            "version": str(attachment.get("Version") or "v1"),
            "title": _TITLES.get(str(type_id), "Документ"),
            "need_signature": bool(attachment.get("NeedRecipientSignature"))
            or type_id == "Contract",
        }

    def _create(
        self, from_box: str, recipient: Org, prepared: list[dict[str, Any]], scenario: Any
    ) -> dict[str, Any]:
        world = self.world
        message_id = str(uuid.uuid4())
        entities: list[dict[str, Any]] = []
        for item in prepared:
            meta = item["meta"]
            document = world.entity(
                message_id,
                entity_type="Attachment",
                content=item["content"],
                attachment_type=item["type"],
                file_name=meta["FileName"],
                extra={
                    "NeedRecipientSignature": item["need_signature"],
                    "NeedReceipt": item["need_receipt"],
                },
            )
            document["DocumentInfo"] = answers.document_info(
                message_id=message_id,
                entity_id=document["EntityId"],
                ticks=document["RawCreationDate"],
                type_named_id=item["type"],
                function=item["function"],
                version=item["version"],
                title=item["title"],
                counterparty_box=recipient.box_id,
                meta=meta,
                custom_id=item["custom_id"],
                need_signature=item["need_signature"],
            )
            signature = world.entity(
                message_id,
                entity_type="Signature",
                content=item["signature"],
                parent=document["EntityId"],
                signer_box=from_box,
            )
            entities += [
                document,
                signature,
                *confirm(world, message_id, document, item["function"]),
            ]
            if item["custom_id"]:
                world.custom_ids.setdefault((from_box, item["custom_id"]), []).append(
                    (message_id, document["EntityId"])
                )
            world.documents[f"{message_id}:{document['EntityId']}"] = SentDocument(
                message_id=message_id,
                entity_id=document["EntityId"],
                from_box=from_box,
                to_box=recipient.box_id,
                recipient=recipient,
                content=item["content"],
                file_name=meta["FileName"],
                scenario=scenario,
                done=scenario.last_poll == 0,
                type_id=item["type"],
                signature=item["signature"],
            )
        ticks = _now_ticks()
        message = answers.message(
            MessageId=message_id,
            TimestampTicks=ticks,
            LastPatchTimestampTicks=ticks,
            FromBoxId=from_box,
            FromTitle=world.our_org.name,
            ToBoxId=recipient.box_id,
            ToTitle=recipient.name,
            Entities=entities,
            IsDraft=False,
            IsDeleted=False,
            IsTest=False,
            IsInternal=False,
        )
        world.messages[message_id] = message
        world.add_event([from_box, recipient.box_id], message=message)
        return message

    # -- the shelf -------------------------------------------------------

    def _part(self, request: Request) -> bytes:
        data = request.get_data()
        if not data:
            raise bad("the part is empty")
        if len(data) > SHELF_PART_LIMIT:
            raise ApiError(413, "DiadocApi.TooLarge", "a part is larger than 3 MB")
        return data

    def _finish(self, name: str) -> list[int]:
        parts = self.world.shelf[name]
        last = max(parts)
        missing = [i for i in range(last + 1) if i not in parts]
        if not missing:
            self.world.shelf_done[name] = b"".join(parts[i] for i in range(last + 1))
        return missing

    def shelf_init(self, request: Request) -> Response:
        ext = request.args.get("fileExtension") or ""
        name = f"{uuid.uuid4().hex}{ext if ext.startswith('.') or not ext else '.' + ext}"
        self.world.shelf[name] = {0: self._part(request)}
        if request.args.get("isLastPart", "").lower() in ("true", "1"):
            self._finish(name)
        return Response(name, content_type="text/plain; charset=utf-8")

    def shelf_part(self, request: Request) -> Response:
        name = required_arg(request, "fileName")
        if name not in self.world.shelf:
            raise ApiError(404, "DiadocApi.ShelfFileNotFound", f"no shelf file {name}")
        try:
            index = int(required_arg(request, "partIndex"))
        except ValueError:
            raise bad("partIndex must be a whole number") from None
        if index < 1:
            raise bad("partIndex starts at 1 (part 0 goes with ShelfUploadPartInit)")
        self.world.shelf[name][index] = self._part(request)
        if request.args.get("isLastPart", "").lower() in ("true", "1"):
            return json_answer(self._finish(name))
        return json_answer([])

    def shelf_download(self, request: Request) -> Response:
        name = required_arg(request, "fileName")
        data = self.world.shelf_done.get(name)
        if data is None:
            raise ApiError(404, "DiadocApi.ShelfFileNotFound", f"no shelf file {name}")
        return Response(data, content_type="application/octet-stream")


__all__ = ["SHELF_PART_LIMIT", "Sending"]
