"""A fake of the CDEK v2 API: OAuth client credentials and order statuses.

``POST /v2/oauth/token`` issues bearer tokens for the configured client;
``GET /v2/orders?cdek_number=N`` returns the order with its statuses, played by
the shipment scenario (queries counted per number). The statuses are listed
newest first on purpose: clients must order by ``date_time``. Numbers that
start with ``0`` are unknown orders (``v2_entity_not_found``).
"""

from __future__ import annotations

import datetime as dt
import uuid

from werkzeug.wrappers import Request, Response

from edi_bridge.fakes.base import FakeApp, FakeWorld, json_answer
from edi_bridge.fakes.server import FakeOptions
from edi_bridge.paper.carrier import ShipmentStatus
from edi_bridge.paper.scenario import ShipmentScenario, parse_shipment_scenario

MSK = dt.timezone(dt.timedelta(hours=3))
# (code, name) shown for each normalized step. CDEK documents no code for a
# lost order, so ``lost`` plays an order that stops at "not delivered".
_STEPS: dict[ShipmentStatus, tuple[str, str]] = {
    ShipmentStatus.ACCEPTED: ("ACCEPTED", "Принят"),
    ShipmentStatus.IN_TRANSIT: ("RECEIVED_AT_SHIPMENT_WAREHOUSE", "Принят на склад отправителя"),
    ShipmentStatus.DELIVERY_FAILED: ("NOT_DELIVERED", "Не вручен"),
    ShipmentStatus.DELIVERED: ("DELIVERED", "Вручен"),
    ShipmentStatus.RETURNED: ("SENT_TO_SENDER_CITY", "Отправлен в г. отправитель"),
    ShipmentStatus.LOST: ("NOT_DELIVERED", "Не вручен"),
    ShipmentStatus.INVALID: ("INVALID", "Некорректный заказ"),
}


def _errors(code: str, message: str, status: int) -> Response:
    return json_answer(
        {"requests": [{"state": "INVALID", "errors": [{"code": code, "message": message}]}]}, status
    )


class CdekFake(FakeApp):
    name = "cdek"
    section = "cdek"

    def __init__(
        self,
        scenario: ShipmentScenario,
        *,
        client_id: str = "fake-client",
        client_secret: str = "fake-secret",  # noqa: S107 - the fake's own test credential
        token_lifetime: int = 3600,
        invalid: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(FakeWorld())
        self.scenario = scenario
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime = token_lifetime
        # Orders CDEK refused as registered: accepted, then INVALID ("Некорректный заказ").
        self.invalid = invalid
        self.answer_number: str | None = None  # set: every answer names this order instead
        self._orders: dict[str, tuple[str, dt.datetime, int]] = {}
        self.route("POST", "/v2/oauth/token", self._token, auth=False)
        self.route("GET", "/v2/orders", self._orders_query)

    def settings(self, base_url: str) -> dict[str, str]:
        return {
            "cdek.url": base_url,
            "cdek.client_id": self.client_id,
            "cdek.client_secret": self.client_secret,
        }

    def authorized(self, request: Request) -> bool:
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and self.world.knows(auth[7:])

    def unauthorized(self, request: Request) -> Response:
        return _errors("v2_token_expired", "access token is invalid or expired", 401)

    def not_found(self, request: Request) -> Response:
        return _errors("v2_not_found", "no such endpoint", 404)

    def _token(self, request: Request) -> Response:
        form = request.form
        if form.get("grant_type") != "client_credentials":
            return json_answer({"error": "unsupported_grant_type"}, 400)
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return json_answer(
                {"error": "invalid_client", "error_description": "Bad credentials"}, 401
            )
        return json_answer(
            {
                "access_token": self.world.issue_credential(),
                "token_type": "bearer",
                "expires_in": self.token_lifetime,
                "scope": "order:all payment:all",
                "jti": uuid.uuid4().hex,
            }
        )

    def _orders_query(self, request: Request) -> Response:
        return self._order(request.args.get("cdek_number", ""))

    def _order(self, number: str) -> Response:
        if not number.isdigit() or number.startswith("0"):
            return _errors("v2_entity_not_found", f"Order with cdek_number {number} not found", 404)
        with self.world.lock:
            order_uuid, first, queries = self._orders.get(
                number,
                (
                    str(uuid.uuid4()),
                    dt.datetime.now(MSK).replace(microsecond=0) - dt.timedelta(days=2),
                    0,
                ),
            )
            queries += 1
            self._orders[number] = (order_uuid, first, queries)
        statuses = []
        steps = self.scenario.visible(queries)
        if number in self.invalid:
            steps = [ShipmentStatus.ACCEPTED, ShipmentStatus.INVALID]
        for n, step in enumerate(steps):
            code, name = _STEPS[step]
            statuses.append(
                {
                    "code": code,
                    "name": name,
                    "date_time": (first + dt.timedelta(hours=6 * n)).strftime(
                        "%Y-%m-%dT%H:%M:%S%z"
                    ),
                    "city": "Москва",
                }
            )
        statuses.reverse()  # newest first: order must come from date_time
        return json_answer(
            {
                "entity": {
                    "uuid": order_uuid,
                    "type": 1,
                    "cdek_number": self.answer_number or number,
                    "statuses": statuses,
                },
                "requests": [],
            }
        )


def make_fake(options: FakeOptions) -> CdekFake:
    extra = options.extra
    return CdekFake(
        parse_shipment_scenario(options.scenario),
        client_id=extra.get("client_id", "fake-client"),
        client_secret=extra.get("client_secret", "fake-secret"),
        invalid=frozenset(n for n in extra.get("invalid", "").split(",") if n),
    )


__all__ = ["CdekFake", "make_fake"]
