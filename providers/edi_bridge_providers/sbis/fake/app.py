"""The SBIS fake: a WSGI app speaking SBIS's JSON-RPC on loopback.

Endpoints (as SBIS): ``POST /auth/service/`` (``СБИС.Аутентифицировать``),
``POST /oauth/service/`` (service token), ``POST /service/?srv=1`` (every
other method), ``GET /disk/<token>`` (file links). Control endpoints for tests
and developers are the scaffold's, under ``/_fake/`` (see docs/sbis.md).

Errors come back as SBIS sends them: a JSON-RPC ``error`` object with HTTP 500
for refusals, HTTP 400 for malformed calls, HTTP 401 for a dead session (as a
JSON-RPC error with code -32001, or as a plain string in ``expire_mode=string``).
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from edi_bridge.config import flag
from edi_bridge.errors import ValidationError
from edi_bridge.fakes.base import FakeApp, Route, json_answer, probability
from edi_bridge.fakes.scenario import parse_scenario
from edi_bridge.fakes.server import FakeOptions
from edi_bridge.models import Counterparty

from ..wire import (
    AUTH_PATH,
    M_AUTH,
    OAUTH_PATH,
    SERVICE_PATH,
    SESSION_HEADER,
    TOKEN_HEADER,
    as_dict,
    document_uuid,
)
from .desk import SbisDesk
from .methods import Methods
from .world import (
    FakeError,
    PartyPlan,
    World,
)

DEFAULTS = {
    "login": "demo",
    "password": "demo-password",
    "app_client_id": "demo-app",
    "app_secret": "demo-app-secret",
    "secret_key": "demo-secret-key",
    "our_inn": "7707083893",
    "our_kpp": "773601001",
    "our_name": "ООО «Поставщик»",
}
Handler = Callable[[dict[str, Any], str], Any]


class SbisFake(Methods, FakeApp):
    """SBIS on loopback; see the module docstring and docs/sbis.md."""

    name = "sbis"
    section = "sbis"
    world: World

    def __init__(self, options: FakeOptions | None = None) -> None:
        options = options or FakeOptions()
        extra = dict(options.extra)
        self.options = {k: extra.get(k, v) for k, v in DEFAULTS.items()}
        super().__init__(World(our_inn=self.options["our_inn"], default_scenario=options.scenario))
        self.expire_every = int(extra.get("expire_every", "0") or 0)
        self.expire_mode = extra.get("expire_mode", "rpc")  # "rpc" or "string"
        self.shuffle = flag(extra.get("shuffle"), True)
        self.repeat_rate = probability(extra, "repeat_rate")
        self.sign_extra = flag(extra.get("sign_extra"), False)
        self.rng = random.Random(int(extra["seed"]) if extra.get("seed") else None)
        for key, value in extra.items():
            if key.startswith("scenario."):
                self._plan(key.partition(".")[2], scenario=value)
        self.world.receipts = flag(extra.get("receipts"), False)
        self.methods: dict[str, Handler] = self.method_table()
        self.rpc_log: list[str] = []  # method names in call order, for tests
        self.route("POST", OAUTH_PATH, self._oauth, auth=False)
        # Both JSON-RPC paths check the session themselves: a dead one is a JSON-RPC error.
        self.route("POST", AUTH_PATH, lambda r: self._rpc(r, auth=True), auth=False)
        self.route("POST", SERVICE_PATH.split("?", 1)[0], lambda r: self._rpc(r, auth=False), False)
        self.route("GET", "/disk/", self._download)

    def __repr__(self) -> str:
        return f"<SbisFake documents={len(self.world.documents)}>"

    # -- the scaffold's hooks -------------------------------------------------

    def resolve(self, request: Request) -> Route | None:
        if request.path.startswith("/disk/") and request.method == "GET":
            return self.routes[("GET", "/disk/")]  # file links: /disk/<token>
        return super().resolve(request)

    def authorized(self, request: Request) -> bool:
        return self.world.knows(request.headers.get(SESSION_HEADER)) or self.world.knows(
            request.headers.get(TOKEN_HEADER)
        )

    def unauthorized(self, request: Request) -> Response:
        return json_answer({"error": "Unauthorized"}, 401)

    # -- steering ------------------------------------------------------------

    def settings(self, base_url: str) -> dict[str, str]:
        s = self.options
        return {
            "sbis.base_url": base_url,
            "sbis.login": s["login"],
            "sbis.password": s["password"],
            "sbis.our_inn": s["our_inn"],
            "sbis.our_kpp": s["our_kpp"],
            "sbis.our_name": s["our_name"],
        }

    def add_counterparty(
        self, counterparty: Counterparty, scenario: str | None = None, **plan: Any
    ) -> str:
        """How the counterparty behaves; ``plan``: ``reachable``, ``operator`` (a roaming
        box is another operator's id). Returns its INN, SBIS's key for it."""
        self._plan(
            counterparty.inn,
            scenario=scenario,
            ogrn=counterparty.ogrn,
            full_name=counterparty.signatory.full_name,
            position=counterparty.signatory.position,
            **plan,
        )
        return counterparty.inn

    def _plan(self, inn: str, **plan: Any) -> None:
        if plan.get("scenario"):
            parse_scenario(str(plan["scenario"]))  # refuse a bad scenario up front
        unknown = set(plan) - {f.name for f in dataclasses.fields(PartyPlan)}
        if unknown:
            raise ValidationError("counterparty", f"unknown options {sorted(unknown)}")
        with self.world.lock:
            self.world.plans[inn] = PartyPlan(**plan)

    def documents_for_key(self, idempotency_key: str) -> int:
        """The document behind the key's ``Идентификатор`` and its twins: a second
        document for one send would carry another id but the same number."""
        with self.world.lock:
            doc = self.world.documents.get(document_uuid(idempotency_key))
            if doc is None:
                return 0
            return sum(1 for d in self.world.documents.values() if d.number == doc.number)

    def signatures_for_key(self, idempotency_key: str) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self.world.lock:
            doc = self.world.documents.get(document_uuid(idempotency_key))
            # The contract is the first attachment that is not a service file (receipts).
            main = next((a for a in doc.attachments if not a.service), None) if doc else None
            for sig in main.signatures if main else []:
                found["ours" if sig.inn == self.world.our_inn else "counterparty"] = sig.data
        return found

    def desk(self) -> SbisDesk:
        """The counterparty page's view of the world (``/`` on the fake's port)."""
        return SbisDesk(self.world)

    def documents_numbered(self, number: str) -> int:
        with self.world.lock:
            return sum(1 for d in self.world.documents.values() if d.number == number)

    def state(self) -> dict[str, Any]:
        docs = list(self.world.documents.values())
        return {
            **super().state(),
            "documents": len(docs),
            "sent": sum(1 for d in docs if d.sent),
            "states": {d.id: str(d.state) for d in docs},
            "events": len(self.world.events),
        }

    # -- auth ---------------------------------------------------------------

    def _oauth(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data())
        except ValueError:
            return json_answer({"error": "Некорректный запрос"}, 400)
        s = self.options
        given = {k: as_dict(body).get(k) for k in ("app_client_id", "app_secret", "secret_key")}
        if given != {k: s[k] for k in given}:
            return json_answer({"error": "Неверные параметры авторизации"}, 401)
        token = self.world.issue_credential()
        return json_answer({"token": token, "sid": token})

    def _expired(self, request_id: Any) -> Response:
        if self.expire_mode == "string":
            return json_answer({"error": "Unauthorized"}, 401)
        return json_answer(
            {
                "jsonrpc": "2.0",
                "error": {
                    "code": -32001,
                    "message": "Сессия истекла или не найдена",
                    "details": "Требуется повторная авторизация",
                    "type": "error",
                },
                "id": request_id,
            },
            401,
        )

    # -- JSON-RPC -----------------------------------------------------------

    def _rpc(self, request: Request, *, auth: bool) -> Response:
        ctype = request.headers.get("Content-Type", "")
        if "application/json-rpc" not in ctype or "charset=utf-8" not in ctype.lower():
            # Without the charset SBIS reads the body as cp1251 and cannot parse it.
            return self._error(None, FakeError("Parse error", code=-32700, http=400))
        try:
            body = json.loads(request.get_data().decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self._error(None, FakeError("Parse error", code=-32700, http=400))
        if not isinstance(body, dict) or body.get("jsonrpc") != "2.0" or "method" not in body:
            return self._error(None, FakeError("Invalid Request", code=-32600, http=400))
        request_id = body.get("id")
        method = str(body["method"])
        params = as_dict(body.get("params"))
        self.rpc_log.append(method)
        if auth:
            if method != M_AUTH:
                return self._error(request_id, FakeError("Method not found", code=-32601, http=404))
            return self._authenticate(request_id, params)
        self.world.rpc_calls += 1
        if self.expire_every and self.world.rpc_calls % self.expire_every == 0:
            self.world.expire_credentials()  # the session dies mid-run
        if not self.authorized(request):
            return self._expired(request_id)
        handler = self.methods.get(method)
        if handler is None:
            return self._error(request_id, FakeError("Method not found", code=-32601, http=404))
        try:
            with self.world.lock:
                result = handler(params, request.host_url.rstrip("/"))
        except FakeError as exc:
            return self._error(request_id, exc)
        return json_answer({"jsonrpc": "2.0", "result": result, "id": request_id})

    @staticmethod
    def _error(request_id: Any, exc: FakeError) -> Response:
        if exc.http == 503:
            return Response(exc.message, status=503, content_type="text/plain; charset=utf-8")
        return json_answer(
            {
                "jsonrpc": "2.0",
                "error": {
                    "code": exc.code,
                    "message": exc.message,
                    "details": exc.details,
                    "type": "error",
                    "data": {"classid": None, "error_code": exc.code},
                },
                "id": request_id,
            },
            exc.http,
        )

    def _authenticate(self, request_id: Any, params: dict[str, Any]) -> Response:
        given = as_dict(params.get("Параметр"))
        if (given.get("Логин"), given.get("Пароль")) != (
            self.options["login"],
            self.options["password"],
        ):
            return self._error(
                request_id,
                FakeError("Неверный логин или пароль", code=-32001, http=401),
            )
        sid = self.world.issue_credential()
        return json_answer({"jsonrpc": "2.0", "result": sid, "id": request_id})

    # -- files and control ----------------------------------------------------

    def _download(self, request: Request) -> Response:
        token = request.path.rsplit("/", 1)[-1]
        data = self.world.files.get(token)
        if data is None:
            return Response("Not Found", status=404)
        return Response(data, content_type="application/octet-stream")


__all__ = ["SbisFake"]
