"""The scaffold every operator and carrier fake is built on.

:class:`FakeWorld` holds what every fake's state needs: one lock, a clock, the
credentials issued (and their expiry on demand), a call log and the scenario
advance. :class:`FakeApp` is the WSGI side: a route table of ``(method, path)`` to
handlers, JSON answers, an authentication hook, the call log, and the steering
API that is the same on every fake:

* ``add_counterparty(counterparty, scenario=None, **plan)`` — who the fake's client is and
  how it behaves;
* ``expire_credentials()`` — every issued token or session dies now;
* ``documents_for_key(idempotency_key)`` — how many documents the fake holds for
  one send (0 or 1 when nothing was sent twice);
* ``signatures_for_key(idempotency_key)`` — the signatures it holds for that send;
* ``settings(base_url)`` — the Bridge settings (``section.key``) that point the
  adapter at the fake; ``exports(base_url)`` gives the same as ``EDI_BRIDGE_*``
  variables.

The same steering is reachable over HTTP under one control prefix, ``/_fake/``
(``POST /_fake/counterparties`` with ``{"counterparty": {requisites}, "scenario": …}``,
``POST /_fake/expire-credentials``,
``GET /_fake/state``). Every EDI fake also serves a counterparty page at ``/``
(:mod:`.page`) over its :meth:`FakeApp.desk`. The fault dice and recording with
secrets masked wrap every fake in :class:`edi_bridge.fakes.server.FakeServer`.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from werkzeug.wrappers import Request, Response

from ..config import env_name
from ..errors import EdiBridgeError, UnsupportedFeature, ValidationError
from ..models import Counterparty
from .page import CounterpartyPage, Desk
from .scenario import Play, parse_scenario

CONTROL_PREFIX = "/_fake/"
Handler = Callable[[Request], Response]


class FakeWorld:
    """State every fake shares: lock, clock, credentials, call log, scenario advance."""

    def __init__(
        self, *, default_scenario: str | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock or time.time
        # The counterparty's scenario (operators); carriers play shipment scenarios instead.
        self.default_scenario = str(parse_scenario(default_scenario)) if default_scenario else None
        self.credentials: set[str] = set()
        self.sign_ins = 0  # credentials issued: each expiry should cost exactly one
        self.calls: collections.Counter[str] = collections.Counter()

    def issue_credential(self) -> str:
        """A new token or session id, known until :meth:`expire_credentials`."""
        with self.lock:
            credential = secrets.token_urlsafe(24)
            self.credentials.add(credential)
            self.sign_ins += 1
            return credential

    def knows(self, credential: str | None) -> bool:
        with self.lock:
            return bool(credential) and credential in self.credentials

    def expire_credentials(self) -> None:
        with self.lock:
            self.credentials.clear()

    def due(self, scenario: str | None, poll: int) -> list[tuple[Play, str | None]]:
        """What a counterparty playing ``scenario`` does at its ``poll``-th look."""
        return parse_scenario(scenario or self.default_scenario).due(poll)


@dataclasses.dataclass(frozen=True)
class Route:
    handler: Handler
    auth: bool = True  # the operator's credential is checked before the handler runs


def json_answer(data: Any, status: int = 200, content_type: str = "application/json") -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False),
        status=status,
        content_type=f"{content_type}; charset=utf-8",
    )


class FakeApp:
    """A fake operator as a WSGI app: route table, auth hook, call log, steering API.

    Subclasses set ``name`` and ``section``, register their routes with
    :meth:`route`, and override the hooks they need: :meth:`authorized` and
    :meth:`unauthorized` (how the operator checks and refuses credentials),
    :meth:`answer_error` (how it answers an error raised by a handler), and the
    steering methods.
    """

    name: ClassVar[str] = ""
    section: ClassVar[str] = ""  # the Bridge settings section of the adapter

    def __init__(self, world: FakeWorld) -> None:
        self.world = world
        self.routes: dict[tuple[str, str], Route] = {}
        self.route("POST", CONTROL_PREFIX + "counterparties", self._control_counterparty, False)
        self.route("POST", CONTROL_PREFIX + "expire-credentials", self._control_expire, False)
        self.route("GET", CONTROL_PREFIX + "state", self._control_state, False)
        # The counterparty page at / (EDI fakes; a carrier's desk() is None: 404).
        for (method, path), handler in CounterpartyPage(self.desk).routes().items():
            self.route(method, path, handler, False)

    def route(self, method: str, path: str, handler: Handler, auth: bool = True) -> None:
        self.routes[(method, path)] = Route(handler, auth)

    # -- hooks -------------------------------------------------------------

    def authorized(self, request: Request) -> bool:
        return True

    def unauthorized(self, request: Request) -> Response:
        return json_answer({"error": "unauthorized"}, 401)

    def not_found(self, request: Request) -> Response:
        known = any(path == request.path for _m, path in self.routes)
        return Response("Method Not Allowed" if known else "Not Found", 405 if known else 404)

    def desk(self) -> Desk | None:
        """The world as the counterparty page sees it (:mod:`.page`); None: no page."""
        return None

    def answer_error(self, exc: Exception) -> Response | None:
        """The operator's answer to an error a handler raised (None: not the fake's)."""
        return None

    def resolve(self, request: Request) -> Route | None:
        return self.routes.get((request.method, request.path))

    # -- WSGI --------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        route = self.resolve(request)
        if route is None:
            return self.not_found(request)(environ, start_response)
        # One request at a time changes the world: handlers need no locks of their own.
        with self.world.lock:
            self.world.calls[request.path] += 1
            try:
                if route.auth and not self.authorized(request):
                    response = self.unauthorized(request)
                else:
                    response = route.handler(request)
            except Exception as exc:
                answer = self.answer_error(exc)
                if answer is None:
                    raise
                response = answer
        return response(environ, start_response)

    # -- steering (the same on every fake) -----------------------------------

    def settings(self, base_url: str) -> dict[str, str]:
        """Bridge settings (``section.key``) that point the adapter at this fake."""
        raise NotImplementedError

    def exports(self, base_url: str) -> dict[str, str]:
        """The same settings as ``EDI_BRIDGE_*`` environment variables."""
        return {env_name(key): value for key, value in self.settings(base_url).items()}

    def add_counterparty(
        self, counterparty: Counterparty, scenario: str | None = None, **plan: Any
    ) -> str:
        """Register the fake's client and how it plays; returns the operator's id for it.

        ``plan`` holds what only one operator knows (Diadoc: ``has_box``; SBIS:
        ``reachable``, ``operator``); an unknown option is refused naming it.
        """
        raise UnsupportedFeature(self.name, "counterparties (a carrier has none)")

    def expire_credentials(self) -> None:
        self.world.expire_credentials()

    def documents_for_key(self, idempotency_key: str) -> int:
        raise UnsupportedFeature(self.name, "documents (a carrier holds none)")

    def signatures_for_key(self, idempotency_key: str) -> dict[str, bytes]:
        """The signatures the operator holds for one send, by role (``ours``,
        ``counterparty``): what the contracts compare with what the Bridge kept."""
        raise UnsupportedFeature(self.name, "signatures (a carrier holds none)")

    @property
    def sign_ins(self) -> int:
        return self.world.sign_ins

    def calls(self, path: str) -> int:
        with self.world.lock:
            return self.world.calls.get(path, 0)

    def state(self) -> dict[str, Any]:
        return {"sign_ins": self.world.sign_ins, "calls": dict(self.world.calls)}

    # -- the same steering over HTTP -------------------------------------------

    def _control_counterparty(self, request: Request) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, Mapping) or not isinstance(body.get("counterparty"), Mapping):
            return json_answer(
                {"error": "counterparty: a JSON object of requisites is required"}, 400
            )
        plan = {k: v for k, v in body.items() if k not in ("counterparty", "scenario")}
        scenario = body.get("scenario")
        try:
            counterparty = Counterparty.model_validate(body["counterparty"])
            ident = self.add_counterparty(counterparty, str(scenario) if scenario else None, **plan)
        except (EdiBridgeError, ValueError, TypeError) as exc:
            # pydantic's ValidationError is a ValueError: it names the field.
            return json_answer({"error": str(exc)}, 400)
        return json_answer({"id": ident})

    def _control_expire(self, request: Request) -> Response:
        self.expire_credentials()
        return json_answer({"expired": True})

    def _control_state(self, request: Request) -> Response:
        with self.world.lock:
            return json_answer(self.state())


def probability(extra: Mapping[str, str], key: str) -> float:
    """A fake option that is a probability; refused naming the option otherwise."""
    raw = extra.get(key) or "0"
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= 1:  # also refuses NaN
        raise ValidationError(key, f"must be a probability between 0 and 1, got {raw!r}")
    return value


__all__ = [
    "CONTROL_PREFIX",
    "FakeApp",
    "FakeWorld",
    "Handler",
    "Route",
    "json_answer",
    "probability",
]
