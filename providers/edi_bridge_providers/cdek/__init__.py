"""CDEK order tracking over the v2 REST API.

A token comes from ``POST /v2/oauth/token`` (client credentials, form-encoded)
and is kept until shortly before ``expires_in``; a 401 gets one fresh token
and one more try (both from :mod:`edi_bridge.http`, as for every HTTP adapter).
``GET /v2/orders?cdek_number=N`` returns the order with its ``statuses``; the current
status is the one with the latest ``date_time``, not the last in the array, so records
are ordered by time here.

Settings (``EDI_BRIDGE_CDEK_*``): ``url`` (https://api.cdek.ru; the test host
is https://api.edu.cdek.ru), ``client_id``, ``client_secret``, and the shared
transport keys (:class:`edi_bridge.http.Transport`): ``timeout`` (30), ``retry_attempts``
(3), ``rate`` (requests per second, 5), ``max_connections`` (2), ``tls_verify``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, ClassVar

import requests

from edi_bridge.errors import AuthError, ConfigurationError, ProviderError, ProviderNotFound
from edi_bridge.http import (
    TRANSPORT_KEYS,
    Credential,
    ErrorMap,
    HttpClient,
    Transport,
    json_body,
    short_text,
)
from edi_bridge.paper.carrier import Carrier, CarrierContext, ShipmentStatus, TrackingRecord
from edi_bridge.paper.tracking import check_cdek

DEFAULT_URL = "https://api.cdek.ru"
PROVIDER = "cdek"
log = logging.getLogger("edi_bridge.cdek")
_S = ShipmentStatus
# CDEK's public order status list (api-docs.cdek.ru, "Статусы заказа"). Every warehouse,
# transport, customs and pick-up step is in transit; listed here are the codes that mean
# more. The return chain (SENT_TO_SENDER_CITY, ACCEPTED_IN_SENDER_CITY) is a return;
# RETURNED_TO_*_WAREHOUSE is a re-arrival at a warehouse on the way (the order could not
# be handed on), so it stays in transit.
STATUS_CODES: dict[str, ShipmentStatus] = {
    "ACCEPTED": _S.ACCEPTED,  # Принят: registered, still being validated
    "CREATED": _S.ACCEPTED,  # Создан
    "INVALID": _S.INVALID,  # Некорректный заказ: to be corrected and registered again
    "REMOVED": _S.INVALID,  # Удален: cancelled before it reached CDEK's warehouse
    "NOT_DELIVERED": _S.DELIVERY_FAILED,  # Не вручен
    "POSTOMAT_SEIZED": _S.DELIVERY_FAILED,  # taken out of the parcel locker by a courier
    "DELIVERED": _S.DELIVERED,  # Вручен
    "POSTOMAT_RECEIVED": _S.DELIVERED,  # taken out of the parcel locker by the recipient
    "SENT_TO_SENDER_CITY": _S.RETURNED,
    "ACCEPTED_IN_SENDER_CITY": _S.RETURNED,
}
# The in-transit codes of the same list (an unlisted, newer code is taken as in transit too).
_IN_TRANSIT_TEXT = """
    RECEIVED_AT_SHIPMENT_WAREHOUSE READY_TO_SHIP_AT_SENDING_OFFICE
    READY_FOR_SHIPMENT_IN_SENDER_CITY RETURNED_TO_SENDER_CITY_WAREHOUSE
    TAKEN_BY_TRANSPORTER_FROM_SENDER_CITY SENT_TO_TRANSIT_CITY ACCEPTED_IN_TRANSIT_CITY
    ACCEPTED_AT_TRANSIT_WAREHOUSE RETURNED_TO_TRANSIT_WAREHOUSE
    READY_FOR_SHIPMENT_IN_TRANSIT_CITY TAKEN_BY_TRANSPORTER_FROM_TRANSIT_CITY
    SENT_TO_RECIPIENT_CITY ACCEPTED_IN_RECIPIENT_CITY ACCEPTED_AT_RECIPIENT_CITY_WAREHOUSE
    ACCEPTED_AT_PICK_UP_POINT TAKEN_BY_COURIER RETURNED_TO_RECIPIENT_CITY_WAREHOUSE
    IN_CUSTOMS_INTERNATIONAL SHIPPED_TO_DESTINATION PASSED_TO_TRANSIT_CARRIER
    IN_CUSTOMS_LOCAL CUSTOMS_COMPLETE POSTOMAT_POSTED
"""
IN_TRANSIT_CODES = frozenset(_IN_TRANSIT_TEXT.split())


def normalize(code: str) -> ShipmentStatus:
    """A CDEK status code, normalized; an unknown code is logged and taken as in transit."""
    key = code.strip().upper()
    if key not in STATUS_CODES and key not in IN_TRANSIT_CODES:
        log.info("cdek: status code %s is not in the known list; taken as in transit", key)
    return STATUS_CODES.get(key, _S.IN_TRANSIT)


def parse_time(value: str) -> dt.datetime:
    """CDEK writes offsets without a colon (``2026-11-24T10:00:00+0300``)."""
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
    return dt.datetime.fromisoformat(value)


def records_from_order(number: str, entity: dict[str, Any]) -> list[TrackingRecord]:
    out = []
    for item in entity.get("statuses") or []:
        code = str(item.get("code") or "")
        raw_time = item.get("date_time")
        if not code or not raw_time:
            continue
        try:
            when = parse_time(str(raw_time))
        except ValueError:
            continue
        out.append(
            TrackingRecord(
                record_id=f"{number}:{code}:{raw_time}",
                status=normalize(code),
                at=when,
                description=str(item.get("name") or code),
                place=item.get("city") or None,
                raw={"code": code},
            )
        )
    return sorted(out, key=lambda r: r.at)


class CdekErrors(ErrorMap):
    """CDEK lists errors as ``{"errors": [{"code", "message"}]}`` (per request too)."""

    def _first(self, resp: requests.Response) -> dict[str, Any]:
        try:
            body = resp.json()
            errors = [e for r in body.get("requests") or [] for e in r.get("errors") or []]
            errors += body.get("errors") or []
        except (ValueError, AttributeError):
            return {}
        return errors[0] if errors and isinstance(errors[0], dict) else {}

    def code(self, resp: requests.Response) -> str | None:
        code = self._first(resp).get("code")
        return str(code) if code else None

    def text(self, resp: requests.Response) -> str:
        return short_text(self._first(resp).get("message") or f"HTTP {resp.status_code}")


class CdekToken(Credential):
    """``POST /v2/oauth/token`` (client credentials, form-encoded): a bearer token."""

    def __init__(self, client_id: str | None, client_secret: str | None) -> None:
        super().__init__()
        self._client_id = client_id
        self._client_secret = client_secret

    def apply(self, secret: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret}"}

    def obtain(self, http: HttpClient) -> tuple[str, float | None]:
        if not self._client_id or not self._client_secret:
            raise ConfigurationError(
                "cdek: set EDI_BRIDGE_CDEK_CLIENT_ID and EDI_BRIDGE_CDEK_CLIENT_SECRET"
            )
        resp = http.send_once(
            "POST",
            "/v2/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
            },
        )
        body = json_body(resp, provider=PROVIDER)
        if not isinstance(body, dict) or not body.get("access_token"):
            raise AuthError("token answer without access_token", provider=PROVIDER)
        try:
            lifetime = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        return str(body["access_token"]), lifetime


class CdekCarrier(Carrier):
    name = "cdek"
    title = "CDEK"
    tracks = True
    settings_keys: ClassVar[frozenset[str] | None] = TRANSPORT_KEYS | {
        "url",
        "client_id",
        "client_secret",
    }

    def __init__(self, context: CarrierContext) -> None:
        super().__init__(context)
        cfg = context.config
        base_url = cfg.get("url") or DEFAULT_URL
        transport = Transport.from_config(
            "cdek", cfg, base_url, rate=5.0, max_connections=2, retry_attempts=3
        )
        self.credential = CdekToken(cfg.get("client_id"), cfg.get("client_secret"))
        self.http = HttpClient.over(
            base_url,
            transport,
            provider=PROVIDER,
            error_mapper=CdekErrors(PROVIDER, codes={"v2_entity_not_found": ProviderNotFound}),
            credential=self.credential,
            retry=context.retry,
        )

    def __repr__(self) -> str:
        return f"<CdekCarrier {self.http.base_url}>"

    def check_tracking(self, number: str) -> str:
        return check_cdek(number)

    def track(self, tracking: str) -> list[TrackingRecord]:
        number = self.check_tracking(tracking)
        body = self.http.json("GET", "/v2/orders", params={"cdek_number": number})
        entity = body.get("entity") if isinstance(body, dict) else None
        if not isinstance(entity, dict):
            raise ProviderError("order answer without entity", provider=PROVIDER)
        answered = str(entity.get("cdek_number") or number)
        if answered != number:
            # Another order's history must never move this shipment.
            raise ProviderError(
                f"asked for order {number}, the answer is about order {answered}",
                provider=PROVIDER,
            )
        return records_from_order(number, entity)

    def close(self) -> None:
        self.http.close()


__all__ = [
    "IN_TRANSIT_CODES",
    "STATUS_CODES",
    "CdekCarrier",
    "normalize",
    "parse_time",
    "records_from_order",
]
