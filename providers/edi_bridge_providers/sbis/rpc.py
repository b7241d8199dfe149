"""The SBIS JSON-RPC client: signing in, calls, file downloads.

Everything shared with the other HTTP adapters comes from
:class:`~edi_bridge.http.HttpClient`: the one retry layer (5xx, 429, timeouts,
unreadable answers), the rate limit and at most 5 requests in flight, TLS rules,
and the credential with exactly one new sign-in when the session has expired
(HTTP 401 or error code 401/-32001). This module knows SBIS's paths, headers and
JSON-RPC envelopes only.
"""

from __future__ import annotations

import itertools
import json
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

import requests

from edi_bridge.errors import AuthError, RejectedRequest
from edi_bridge.http import Credential, HttpClient, json_body
from edi_bridge.retry import RetryPolicy

from .errors import PROVIDER, SessionExpired, error_from_body
from .settings import SbisSettings
from .wire import (
    AUTH_PATH,
    CONTENT_TYPE,
    M_AUTH,
    OAUTH_PATH,
    SERVICE_PATH,
    SESSION_HEADER,
    TOKEN_HEADER,
    rpc_request,
)

# Everything but 429 comes back to us: SBIS puts JSON-RPC errors in 4xx/5xx bodies.
_OK = tuple(s for s in range(200, 600) if s != 429)
_HEADERS = {"Content-Type": CONTENT_TYPE, "Accept": "application/json"}


def _payload(resp: requests.Response) -> Any:
    """The JSON body of any answer (an error answer too), or None."""
    try:
        return json.loads(resp.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def rpc_result(resp: requests.Response, method: str) -> Any:
    """The ``result`` of a JSON-RPC answer, or the mapped error.

    A 5xx without a JSON-RPC error and a success that is not JSON (a proxy's page, a
    garbled body) are transient: the call may have gone through, and SBIS calls are
    idempotent by Идентификатор.
    """
    payload = _payload(resp)
    has_error = isinstance(payload, dict) and "error" in payload
    if resp.status_code >= 300 or has_error:
        raise error_from_body(resp.status_code, resp.content)
    if payload is None:
        json_body(resp, provider=PROVIDER)  # raises the transient "not JSON" error
    if not isinstance(payload, dict) or "result" not in payload:
        raise RejectedRequest(f"{method}: answer without result", provider=PROVIDER)
    return payload["result"]


class SbisSession(Credential):
    """A session (login + password) or a service token, put in SBIS's own header."""

    def __init__(self, settings: SbisSettings) -> None:
        super().__init__()
        self.settings = settings
        self.header = SESSION_HEADER if settings.auth_mode == "login" else TOKEN_HEADER

    def apply(self, secret: str) -> dict[str, str]:
        return {self.header: secret}

    def obtain(self, http: HttpClient) -> tuple[str, float | None]:
        s = self.settings
        if s.auth_mode == "login":
            body = rpc_request(M_AUTH, {"Параметр": {"Логин": s.login, "Пароль": s.password}})
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            resp = http.send_once("POST", AUTH_PATH, ok=_OK, data=data, headers=_HEADERS)
            try:
                result = rpc_result(resp, M_AUTH)
            except AuthError as exc:
                raise AuthError(f"sign-in refused ({exc})", provider=PROVIDER) from None
            if not isinstance(result, str) or not result:
                raise AuthError("sign-in answered without a session id", provider=PROVIDER)
            return result, None
        form = {
            "app_client_id": s.app_client_id,
            "app_secret": s.app_secret,
            "secret_key": s.secret_key,
        }
        resp = http.send_once("POST", OAUTH_PATH, ok=_OK, json=form)
        payload = _payload(resp)
        if resp.status_code >= 500 and not isinstance(payload, dict):
            raise error_from_body(resp.status_code, resp.content)  # transient
        if resp.status_code != 200 or not isinstance(payload, dict) or "error" in payload:
            raise AuthError(str(error_from_body(resp.status_code, resp.content)))
        # The field is ``token`` in SBIS's examples; some answers say ``access_token``.
        token = payload.get("token") or payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthError("service sign-in answered without a token", provider=PROVIDER)
        return token, None


class SbisClient:
    """One signed-in SBIS account."""

    def __init__(self, settings: SbisSettings, retry: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.session = SbisSession(settings)
        self.retry = retry
        self.http = self._client(settings.base_url)
        self._downloads: dict[str, HttpClient] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"<SbisClient {self.settings.base_url} auth={self.settings.auth_mode}>"

    @property
    def sign_ins(self) -> int:
        return self.session.sign_ins

    def _client(self, base_url: str) -> HttpClient:
        return HttpClient.over(
            base_url,
            self.settings.transport,
            provider=PROVIDER,
            error_mapper=lambda resp: error_from_body(resp.status_code, resp.content),
            credential=self.session,
            retry=self.retry,
        )

    def call(self, method: str, params: Mapping[str, Any]) -> Any:
        """Call one method; returns its ``result``."""
        body = rpc_request(method, params, next(self._ids))
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            return self.http.call(
                "POST",
                SERVICE_PATH,
                lambda resp: rpc_result(resp, method),
                ok=_OK,
                data=data,
                headers=_HEADERS,
            )
        except SessionExpired as exc:
            raise AuthError(
                f"{method}: session refused after signing in again ({exc})",
                provider=PROVIDER,
                status=exc.status,
                code=exc.code,
            ) from None

    def download(self, link: str) -> bytes:
        """Fetch a file by its ``Ссылка`` (links need the session too)."""
        parts = urllib.parse.urlsplit(link)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RejectedRequest("file link is not an http(s) URL", provider=PROVIDER)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            client = self._downloads.get(origin)
            if client is None:
                client = self.http if origin == self.http.base_url else self._client(origin)
                self._downloads[origin] = client
        path = urllib.parse.urlunsplit(("", "", parts.path, parts.query, ""))
        try:
            return client.request("GET", path).content
        except SessionExpired:
            raise AuthError("file download refused after signing in again") from None

    def close(self) -> None:
        for client in {id(c): c for c in [self.http, *self._downloads.values()]}.values():
            client.close()


__all__ = ["SbisClient", "SbisSession", "rpc_result"]
