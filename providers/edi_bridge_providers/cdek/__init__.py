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
from typing import Any

import requests

from edi_bridge.errors import AuthError, ConfigurationError, ProviderError, ProviderNotFound
from edi_bridge.http import Credential, ErrorMap, HttpClient, Transport, json_body, short_text
from edi_bridge.paper.carrier import Carrier, CarrierContext, ShipmentStatus, TrackingRecord
from edi_bridge.paper.tracking import check_cdek

DEFAULT_URL = "https://api.cdek.ru"
PROVIDER = "cdek"
_S = ShipmentStatus
STATUS_CODES: dict[str, ShipmentStatus] = {
    "CREATED": _S.ACCEPTED,
    "ACCEPTED": _S.ACCEPTED,
    "DELIVERED": _S.DELIVERED,
    "NOT_DELIVERED": _S.DELIVERY_FAILED,
    # On the way back to the sender.
    "SENT_TO_SENDER_CITY": _S.RETURNED,
    "ACCEPTED_IN_SENDER_CITY": _S.RETURNED,
    "RETURNED_TO_SENDER_CITY_WAREHOUSE": _S.RETURNED,
}


def normalize(code: str) -> ShipmentStatus:
    """Unlisted codes are warehouse and transport steps: in transit."""
    return STATUS_CODES.get(code.upper(), _S.IN_TRANSIT)


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
        return records_from_order(number, entity)

    def close(self) -> None:
        self.http.close()


__all__ = ["CdekCarrier", "normalize", "parse_time", "records_from_order"]
