"""The fake Diadoc as a WSGI application (werkzeug).

It answers the endpoints the adapter uses with Diadoc's paths, query
parameters and JSON field names, checks the Authorization header on every
API call, and answers errors with a status code, a text body and the
``X-Diadoc-ErrorCode`` header. The control endpoints of the fake scaffold (``/_fake/``, no
auth, loopback only) and ``POST /_fake/scenario`` let tests and developers steer it;
see docs/diadoc.md.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

from edi_bridge.errors import ValidationError
from edi_bridge.fakes.base import CONTROL_PREFIX, FakeApp, json_answer
from edi_bridge.fakes.scenario import parse_scenario

from . import answers, docflows
from .patches import Patches
from .revocations import RevocationRoutes
from .sending import Sending
from .validate import (
    ApiError,
    bad,
    required_arg,
)
from .world import World

Handler = Callable[[Request], Response]


class DiadocApp(Sending, RevocationRoutes, Patches, FakeApp):
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
            ("POST", "/V3/GetDocflows", self.get_docflows, True),
            ("GET", "/V4/GetEntityContent", self.entity_content, True),
            ("GET", "/GetPowerOfAttorneyContent", self.power_of_attorney_content, True),
            ("GET", "/GetDocumentsByCustomId", self.documents_by_custom_id, True),
            ("POST", "/V2/GenerateReceiptXml", self.generate_receipt_xml, True),
            ("POST", "/V4/PostMessagePatch", self.post_message_patch, True),
            ("POST", "/PrevalidatePowerOfAttorney", self.prevalidate_power_of_attorney, True),
            (
                "POST",
                "/V2/GenerateRevocationRequestXml",
                self.generate_revocation_request_xml,
                True,
            ),
            (
                "POST",
                "/V2/GenerateSignatureRejectionXml",
                self.generate_signature_rejection_xml,
                True,
            ),
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
            return json_answer({"error": "invalid_client"}, 400)
        if grant == "client_credentials":
            if form.get("client_secret") != self._oidc_secret:
                return json_answer({"error": "invalid_client"}, 400)
        elif grant == "refresh_token":
            if form.get("refresh_token") not in self._refresh_tokens:
                return json_answer({"error": "invalid_grant"}, 400)
            self._refresh_tokens.discard(form["refresh_token"])  # rotated: one use each
        else:
            return json_answer({"error": "unsupported_grant_type"}, 400)
        refresh = secrets.token_urlsafe(24)
        self._refresh_tokens.add(refresh)
        return json_answer(
            {
                "access_token": self._new_token(),
                "token_type": "Bearer",
                "expires_in": 3600,
                "refresh_token": refresh,
            }
        )

    # -- organizations -----------------------------------------------------

    def my_organizations(self, request: Request) -> Response:
        return json_answer(answers.organization_list([self.world.our_org.as_json()]))

    def organizations_by_inn_kpp(self, request: Request) -> Response:
        inn = required_arg(request, "inn")
        if not inn.isdigit() or len(inn) not in (10, 12):
            raise bad("inn must be 10 or 12 digits")
        orgs = self.world.find_orgs(inn, request.args.get("kpp") or None)
        return json_answer(answers.organization_list([o.as_json() for o in orgs]))

    # -- reading ---------------------------------------------------------

    def new_events(self, request: Request) -> Response:
        box_id = required_arg(request, "boxId")
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
        return json_answer(answers.box_event_list(events, total))

    def _message(self, request: Request) -> dict[str, Any]:
        box_id = required_arg(request, "boxId")
        self._our_box(box_id)
        message = self.world.messages.get(required_arg(request, "messageId"))
        if message is None or box_id not in (message["FromBoxId"], message["ToBoxId"]):
            raise ApiError(404, "DiadocApi.MessageNotFound", "message not found")
        return message

    def get_message(self, request: Request) -> Response:
        message = self._message(request)
        entity_id = request.args.get("entityId")
        if entity_id and not any(e["EntityId"] == entity_id for e in message["Entities"]):
            raise ApiError(404, "DiadocApi.EntityNotFound", "entity not found")
        return json_answer(message)

    def get_docflows(self, request: Request) -> Response:
        box_id = required_arg(request, "boxId")
        self._our_box(box_id)
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            raise bad("body must be JSON (GetDocflowBatchRequest)") from None
        return json_answer(docflows.answer(self.world, box_id, body))

    def entity_content(self, request: Request) -> Response:
        message = self._message(request)
        entity_id = required_arg(request, "entityId")
        data = self.world.contents.get((message["MessageId"], entity_id))
        if data is None:
            raise ApiError(404, "DiadocApi.EntityNotFound", "entity not found")
        return Response(data, content_type="application/octet-stream")

    def power_of_attorney_content(self, request: Request) -> Response:
        """The МЧД file by its id (``registrationNumber``, ``issuerInn``); the answer's
        shape (the XML itself) is the fake's, Diadoc's is not confirmed."""
        number = required_arg(request, "registrationNumber").lower()
        data = self.world.powers_of_attorney.get(number)
        if data is None:
            raise ApiError(404, "DiadocApi.PowerOfAttorneyNotFound", "power of attorney not found")
        return Response(data, content_type="application/xml")

    def documents_by_custom_id(self, request: Request) -> Response:
        box_id = required_arg(request, "boxId")
        self._our_box(box_id)
        found = self.world.custom_ids.get((box_id, required_arg(request, "customDocumentId")), [])
        documents = []
        for message_id, entity_id in found:
            entity = next(
                e for e in self.world.messages[message_id]["Entities"] if e["EntityId"] == entity_id
            )
            documents.append(entity["DocumentInfo"])
        return json_answer(answers.document_list(documents))

    # -- control (not part of Diadoc) ----------------------------------------

    def control_scenario(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        try:
            self.world.default_scenario = str(parse_scenario(body.get("scenario")))
        except ValidationError as exc:
            raise bad(str(exc)) from None
        return json_answer({"scenario": self.world.default_scenario})

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
