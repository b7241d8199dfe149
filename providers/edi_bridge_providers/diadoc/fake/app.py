"""The fake Diadoc as a WSGI application (werkzeug).

It answers the endpoints the adapter uses with Diadoc's paths, query
parameters and JSON field names, checks the Authorization header on every
API call, and answers errors with a status code, a text body and the
``X-Diadoc-ErrorCode`` header. The control endpoints of the fake scaffold (``/_fake/``, no
auth, loopback only) and ``POST /_fake/scenario`` let tests and developers steer it;
see docs/diadoc.md.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

from edi_bridge.errors import ValidationError
from edi_bridge.fakes.base import CONTROL_PREFIX, FakeApp
from edi_bridge.fakes.scenario import parse_scenario

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
)
from .world import Org, SentDocument, World, _now_ticks

SHELF_PART_LIMIT = 3 * 1024 * 1024
Handler = Callable[[Request], Response]


def _json(data: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def _arg(request: Request, name: str) -> str:
    value = request.args.get(name)
    if not value:
        raise bad(f"query parameter {name} is required")
    return value


class DiadocApp(FakeApp):
    """Diadoc's routes on the fake scaffold; every handler runs under the world's lock."""

    name = "diadoc"
    section = "diadoc"
    world: World

    def __init__(
        self,
        world: World,
        *,
        api_client_id: str,
        login: str,
        password: str,
        oidc_client_id: str,
        oidc_client_secret: str,
    ) -> None:
        super().__init__(world)
        self.api_client_id = api_client_id
        self.login = login
        self._password = password
        self.oidc_client_id = oidc_client_id
        self._oidc_secret = oidc_client_secret
        self._refresh_tokens: set[str] = set()
        for method, path, handler, auth in (
            ("POST", "/V3/Authenticate", self.authenticate, False),
            ("POST", "/connect/token", self.oidc_token, False),
            ("GET", "/GetMyOrganizations", self.my_organizations, True),
            ("GET", "/GetOrganizationsByInnKpp", self.organizations_by_inn_kpp, True),
            ("POST", "/V3/PostMessage", self.post_message, True),
            ("POST", "/ShelfUploadPartInit", self.shelf_init, True),
            ("POST", "/ShelfUploadPart", self.shelf_part, True),
            ("GET", "/V2/ShelfDownload", self.shelf_download, True),
            ("GET", "/V8/GetNewEvents", self.new_events, True),
            ("GET", "/V6/GetMessage", self.get_message, True),
            ("GET", "/V4/GetEntityContent", self.entity_content, True),
            ("GET", "/GetDocumentsByCustomId", self.documents_by_custom_id, True),
            ("POST", CONTROL_PREFIX + "scenario", self.control_scenario, False),
        ):
            self.route(method, path, handler, auth)

    # -- the scaffold's hooks: Diadoc's error answers ------------------------

    def answer_error(self, exc: Exception) -> Response | None:
        if not isinstance(exc, ApiError):
            return None
        response = Response(exc.text, status=exc.status, content_type="text/plain; charset=utf-8")
        response.headers["X-Diadoc-ErrorCode"] = exc.code
        return response

    def not_found(self, request: Request) -> Response:
        known = any(path == request.path for _m, path in self.routes)
        error = ApiError(
            405 if known else 404, "Http.NotFound", f"no route {request.method} {request.path}"
        )
        return self.answer_error(error) or Response(status=500)

    def authorized(self, request: Request) -> bool:
        self._check_auth(request)  # raises the ApiError Diadoc answers with
        return True

    # -- auth ------------------------------------------------------------

    def _check_auth(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, rest = header.partition(" ")
        token = None
        if scheme == "DiadocAuth":
            params = dict(p.strip().partition("=")[::2] for p in rest.split(",") if "=" in p)
            if params.get("ddauth_api_client_id") != self.api_client_id:
                raise ApiError(401, "DiadocApi.InvalidApiClientId", "unknown ddauth_api_client_id")
            token = params.get("ddauth_token")
        elif scheme == "Bearer":
            token = rest.strip()
        if not self.world.knows(token):
            raise ApiError(401, "DiadocApi.Unauthorized", "missing, invalid or expired token")

    def _new_token(self) -> str:
        return self.world.issue_credential()

    def authenticate(self, request: Request) -> Response:
        if request.args.get("type") != "password":
            raise bad("the fake supports type=password only")
        header = request.headers.get("Authorization", "")
        if f"ddauth_api_client_id={self.api_client_id}" not in header:
            raise ApiError(401, "DiadocApi.InvalidApiClientId", "unknown ddauth_api_client_id")
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            raise bad("body must be JSON {login, password}") from None
        if not isinstance(body, Mapping) or not body.get("login") or not body.get("password"):
            raise bad("login and password are required")
        if body["login"] != self.login or body["password"] != self._password:
            raise ApiError(401, "DiadocApi.InvalidCredentials", "wrong login or password")
        return Response(self._new_token(), content_type="text/plain; charset=utf-8")

    def oidc_token(self, request: Request) -> Response:
        form = request.form
        grant = form.get("grant_type")
        if form.get("client_id") != self.oidc_client_id:
            return _json({"error": "invalid_client"}, 400)
        if grant == "client_credentials":
            if form.get("client_secret") != self._oidc_secret:
                return _json({"error": "invalid_client"}, 400)
        elif grant == "refresh_token":
            if form.get("refresh_token") not in self._refresh_tokens:
                return _json({"error": "invalid_grant"}, 400)
            self._refresh_tokens.discard(form["refresh_token"])  # rotated: one use each
        else:
            return _json({"error": "unsupported_grant_type"}, 400)
        refresh = secrets.token_urlsafe(24)
        self._refresh_tokens.add(refresh)
        return _json(
            {
                "access_token": self._new_token(),
                "token_type": "Bearer",
                "expires_in": 3600,
                "refresh_token": refresh,
            }
        )

    # -- organizations -----------------------------------------------------

    def my_organizations(self, request: Request) -> Response:
        return _json({"Organizations": [self.world.our_org.as_json()]})

    def organizations_by_inn_kpp(self, request: Request) -> Response:
        inn = _arg(request, "inn")
        if not inn.isdigit() or len(inn) not in (10, 12):
            raise bad("inn must be 10 or 12 digits")
        orgs = self.world.find_orgs(inn, request.args.get("kpp") or None)
        return _json({"Organizations": [o.as_json() for o in orgs]})

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
            return _json(world.messages[existing])  # idempotent on operationId
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
        return _json(message)

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
        meta = metadata(attachment, index)
        check_metadata(str(type_id), meta, index)
        check_formalized(str(type_id), attachment, index)
        return {
            "type": str(type_id),
            "content": content,
            "signature": signature,
            "meta": meta,
            "custom_id": str(attachment.get("CustomDocumentId") or ""),
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
                extra={"NeedRecipientSignature": item["need_signature"]},
            )
            document["DocumentInfo"] = {
                "MessageId": message_id,
                "EntityId": document["EntityId"],
                "CustomDocumentId": item["custom_id"],
                "TypeNamedId": item["type"],
                "FileName": meta["FileName"],
                "DocumentNumber": meta.get("DocumentNumber", ""),
                "DocumentDate": meta.get("DocumentDate", ""),
                "Metadata": [{"Key": k, "Value": v} for k, v in meta.items()],
                "CounteragentBoxId": recipient.box_id,
            }
            signature = world.entity(
                message_id,
                entity_type="Signature",
                content=item["signature"],
                parent=document["EntityId"],
                signer_box=from_box,
            )
            entities += [document, signature]
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
            )
        ticks = _now_ticks()
        message = {
            "MessageId": message_id,
            "TimestampTicks": ticks,
            "LastPatchTimestampTicks": ticks,
            "FromBoxId": from_box,
            "FromTitle": world.our_org.name,
            "ToBoxId": recipient.box_id,
            "ToTitle": recipient.name,
            "Entities": entities,
            "IsDraft": False,
            "IsDeleted": False,
            "IsTest": False,
            "IsInternal": False,
        }
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
        name = _arg(request, "fileName")
        if name not in self.world.shelf:
            raise ApiError(404, "DiadocApi.ShelfFileNotFound", f"no shelf file {name}")
        try:
            index = int(_arg(request, "partIndex"))
        except ValueError:
            raise bad("partIndex must be a whole number") from None
        if index < 1:
            raise bad("partIndex starts at 1 (part 0 goes with ShelfUploadPartInit)")
        self.world.shelf[name][index] = self._part(request)
        if request.args.get("isLastPart", "").lower() in ("true", "1"):
            return _json(self._finish(name))
        return _json([])

    def shelf_download(self, request: Request) -> Response:
        name = _arg(request, "fileName")
        data = self.world.shelf_done.get(name)
        if data is None:
            raise ApiError(404, "DiadocApi.ShelfFileNotFound", f"no shelf file {name}")
        return Response(data, content_type="application/octet-stream")

    # -- reading ---------------------------------------------------------

    def new_events(self, request: Request) -> Response:
        box_id = _arg(request, "boxId")
        self._our_box(box_id)
        try:
            limit = int(request.args.get("limit") or 100)
        except ValueError:
            raise bad("limit must be a whole number") from None
        if not 1 <= limit <= 100:
            raise bad("limit must be between 1 and 100")
        found = self.world.page(box_id, request.args.get("afterIndexKey") or None, limit)
        if found is None:
            raise bad("afterIndexKey is not a key of this box", "DiadocApi.InvalidIndexKey")
        events, total = found
        return _json({"Events": events, "TotalCount": total})

    def _message(self, request: Request) -> dict[str, Any]:
        box_id = _arg(request, "boxId")
        self._our_box(box_id)
        message = self.world.messages.get(_arg(request, "messageId"))
        if message is None or box_id not in (message["FromBoxId"], message["ToBoxId"]):
            raise ApiError(404, "DiadocApi.MessageNotFound", "message not found")
        return message

    def get_message(self, request: Request) -> Response:
        message = self._message(request)
        entity_id = request.args.get("entityId")
        if entity_id and not any(e["EntityId"] == entity_id for e in message["Entities"]):
            raise ApiError(404, "DiadocApi.EntityNotFound", "entity not found")
        return _json(message)

    def entity_content(self, request: Request) -> Response:
        message = self._message(request)
        entity_id = _arg(request, "entityId")
        data = self.world.contents.get((message["MessageId"], entity_id))
        if data is None:
            raise ApiError(404, "DiadocApi.EntityNotFound", "entity not found")
        return Response(data, content_type="application/octet-stream")

    def documents_by_custom_id(self, request: Request) -> Response:
        box_id = _arg(request, "boxId")
        self._our_box(box_id)
        found = self.world.custom_ids.get((box_id, _arg(request, "customDocumentId")), [])
        documents = []
        for message_id, entity_id in found:
            entity = next(
                e for e in self.world.messages[message_id]["Entities"] if e["EntityId"] == entity_id
            )
            documents.append(
                {
                    **entity["DocumentInfo"],
                    "CreationTimestampTicks": entity["RawCreationDate"],
                }
            )
        return _json({"TotalCount": len(documents), "Documents": documents})

    # -- control (not part of Diadoc) ----------------------------------------

    def control_scenario(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        try:
            self.world.default_scenario = str(parse_scenario(body.get("scenario")))
        except ValidationError as exc:
            raise bad(str(exc)) from None
        return _json({"scenario": self.world.default_scenario})

    def state(self) -> dict[str, Any]:
        world = self.world
        return {
            **super().state(),
            "messages": len(world.messages),
            "events": {box: len(feed) for box, feed in world.feeds.items()},
            "our_box": world.our_org.box_id,
            "default_scenario": world.default_scenario,
        }


__all__ = ["DiadocApp"]
