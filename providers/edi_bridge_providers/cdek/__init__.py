"""CDEK order tracking over the v2 REST API.

A token comes from ``POST /v2/oauth/token`` (client credentials, form-encoded)
and is kept until shortly before ``expires_in``; a 401 gets one fresh token
and one more try. ``GET /v2/orders?cdek_number=N`` returns the order with its
``statuses``; the current status is the one with the latest ``date_time``, not
the last in the array, so records are ordered by time here.

Settings (``EDI_BRIDGE_CDEK_*``): ``url`` (https://api.cdek.ru; the test host
is https://api.edu.cdek.ru), ``client_id``, ``client_secret``, ``timeout`` (30),
``rate`` (requests per second, 5).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import requests

from edi_bridge.errors import (
    AuthError,
    ConfigurationError,
    Forbidden,
    ProviderError,
    ProviderNotFound,
    RejectedRequest,
)
from edi_bridge.http import HttpClient
from edi_bridge.paper.carrier import Carrier, CarrierContext, ShipmentStatus, TrackingRecord
from edi_bridge.paper.tracking import check_cdek
from edi_bridge.retry import RetryPolicy

DEFAULT_URL = "https://api.cdek.ru"
TOKEN_MARGIN = 60.0  # seconds before expiry when a token is renewed
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


def _error(resp: requests.Response) -> ProviderError:
    code = None
    message = f"HTTP {resp.status_code}"
    try:
        body = resp.json()
        errors = [e for r in body.get("requests") or [] for e in r.get("errors") or []]
        errors += body.get("errors") or []
        if errors:
            code = errors[0].get("code")
            message = errors[0].get("message") or message
    except (ValueError, AttributeError):
        pass
    if resp.status_code == 401:
        return AuthError(message, provider="cdek", status=401, code=code)
    if resp.status_code == 403:
        return Forbidden(message, provider="cdek", status=403, code=code)
    if resp.status_code == 404 or code == "v2_entity_not_found":
        return ProviderNotFound(message, provider="cdek", status=resp.status_code, code=code)
    return RejectedRequest(message, provider="cdek", status=resp.status_code, code=code)


class CdekCarrier(Carrier):
    name = "cdek"
    title = "CDEK"
    tracks = True

    def __init__(self, context: CarrierContext) -> None:
        super().__init__(context)
        cfg = context.config
        self._client_id = cfg.get("client_id")
        self._client_secret = cfg.get("client_secret")
        try:
            timeout = float(cfg.get("timeout") or 30)
            rate = float(cfg.get("rate") or 5)
        except ValueError:
            raise ConfigurationError("cdek: timeout and rate must be numbers") from None
        self.http = HttpClient(
            cfg.get("url") or DEFAULT_URL,
            provider="cdek",
            error_mapper=_error,
            rate=rate,
            in_flight=2,
            timeout=timeout,
            retry=context.retry or RetryPolicy(attempts=3, base_delay=0.2, max_delay=5),
        )
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<CdekCarrier {self.http.base_url}>"

    def check_tracking(self, number: str) -> str:
        return check_cdek(number)

    def _bearer(self, fresh: bool = False) -> str:
        with self._lock:
            if fresh or self._token is None or time.monotonic() >= self._expires:
                if not self._client_id or not self._client_secret:
                    raise ConfigurationError(
                        "cdek: set EDI_BRIDGE_CDEK_CLIENT_ID and EDI_BRIDGE_CDEK_CLIENT_SECRET"
                    )
                resp = self.http.request(
                    "POST",
                    "/v2/oauth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": self._client_id,
                        "client_secret": self._client_secret,
                    },
                )
                try:
                    body = resp.json()
                    self._token = str(body["access_token"])
                    lifetime = float(body.get("expires_in") or 3600)
                except (ValueError, KeyError, TypeError):
                    raise ProviderError(
                        "token answer without access_token", provider="cdek"
                    ) from None
                self._expires = time.monotonic() + max(0.0, lifetime - TOKEN_MARGIN)
            return self._token

    def _get(self, path: str, params: dict[str, str]) -> requests.Response:
        try:
            return self.http.request(
                "GET", path, params=params, headers={"Authorization": f"Bearer {self._bearer()}"}
            )
        except AuthError:
            # The token may have been revoked early: one fresh token, one more try.
            token = self._bearer(fresh=True)
            return self.http.request(
                "GET", path, params=params, headers={"Authorization": f"Bearer {token}"}
            )

    def track(self, tracking: str) -> list[TrackingRecord]:
        number = self.check_tracking(tracking)
        resp = self._get("/v2/orders", {"cdek_number": number})
        try:
            entity = resp.json()["entity"]
        except (ValueError, KeyError, TypeError):
            raise ProviderError("order answer without entity", provider="cdek") from None
        return records_from_order(number, entity)

    def close(self) -> None:
        self.http.close()


__all__ = ["CdekCarrier", "normalize", "parse_time", "records_from_order"]
