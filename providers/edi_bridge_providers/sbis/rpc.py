"""The SBIS JSON-RPC client: signing in, calls, file downloads.

Every call goes through :class:`~edi_bridge.http.HttpClient` (rate limit, at
most 5 requests in flight, TLS rules). Transient failures are retried with
backoff; an expired session (HTTP 401 or error code 401/-32001) leads to one
new sign-in and one more try, then :class:`~edi_bridge.errors.AuthError`.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

import requests

from edi_bridge.errors import AuthError, ProviderError, RejectedRequest, TransientError
from edi_bridge.http import HttpClient
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

log = logging.getLogger("edi_bridge.sbis")
# Everything but 429 comes back to us: SBIS puts JSON-RPC errors in 4xx/5xx bodies.
_OK = tuple(s for s in range(200, 600) if s != 429)


def _mapper(resp: requests.Response) -> ProviderError:
    return error_from_body(resp.status_code, resp.content)


class SbisClient:
    """One signed-in SBIS account."""

    def __init__(self, settings: SbisSettings, retry: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy(
            attempts=settings.retry_attempts, base_delay=settings.retry_base_delay
        )
        self.http = self._client(settings.base_url)
        self._downloads: dict[str, HttpClient] = {}
        self._lock = threading.Lock()
        self._credential: str | None = None
        self._ids = itertools.count(1)
        self.sign_ins = 0

    def __repr__(self) -> str:
        return f"<SbisClient {self.settings.base_url} auth={self.settings.auth_mode}>"

    def _client(self, base_url: str) -> HttpClient:
        return HttpClient(
            base_url,
            provider=PROVIDER,
            error_mapper=_mapper,
            rate=self.settings.rate,
            in_flight=self.settings.in_flight,
            timeout=self.settings.timeout,
            retry=self.retry,
            verify=self.settings.verify,
        )

    # -- signing in ------------------------------------------------------

    @property
    def _header(self) -> str:
        return SESSION_HEADER if self.settings.auth_mode == "login" else TOKEN_HEADER

    def _sign_in(self) -> str:
        s = self.settings
        if s.auth_mode == "login":
            body = rpc_request(M_AUTH, {"Параметр": {"Логин": s.login, "Пароль": s.password}})
            resp = self._post(AUTH_PATH, body, headers={})
            result = self._result(resp, M_AUTH)
            if not isinstance(result, str) or not result:
                raise AuthError("sign-in answered without a session id", provider=PROVIDER)
            credential = result
        else:
            body = {
                "app_client_id": s.app_client_id,
                "app_secret": s.app_secret,
                "secret_key": s.secret_key,
            }
            resp = self.retry.call(
                lambda: self.http.request("POST", OAUTH_PATH, ok=_OK, retry=False, json=body),
                what="sbis service sign-in",
            )
            payload = self._json(resp)
            if resp.status_code != 200 or not isinstance(payload, dict) or "error" in payload:
                raise AuthError(str(error_from_body(resp.status_code, resp.content)))
            # The field is ``token`` in SBIS's examples; some answers say ``access_token``.
            token = payload.get("token") or payload.get("access_token")
            if not isinstance(token, str) or not token:
                raise AuthError("service sign-in answered without a token", provider=PROVIDER)
            credential = token
        self.sign_ins += 1
        log.info("sbis: signed in (%s)", s.auth_mode)
        return credential

    def _current(self) -> str:
        with self._lock:
            if self._credential is None:
                self._credential = self._sign_in()
            return self._credential

    def _expire(self, seen: str) -> None:
        with self._lock:
            if self._credential == seen:  # another thread may have renewed it already
                self._credential = None

    # -- calls -----------------------------------------------------------

    def _post(
        self, path: str, body: Mapping[str, Any], headers: Mapping[str, str]
    ) -> requests.Response:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        all_headers = {"Content-Type": CONTENT_TYPE, "Accept": "application/json", **headers}
        method = str(body.get("method"))
        return self.retry.call(
            lambda: self._post_once(method, path, data, all_headers), what=f"sbis {method}"
        )

    def _post_once(
        self, method: str, path: str, data: bytes, headers: dict[str, str]
    ) -> requests.Response:
        resp = self.http.request("POST", path, ok=_OK, retry=False, data=data, headers=headers)
        if resp.status_code >= 500 and not self._has_rpc_error(resp):
            raise error_from_body(resp.status_code, resp.content)  # transient: retried
        if resp.status_code < 300 and self._json(resp) is None:
            # A success status with a garbled body or a proxy's HTML page: the
            # call may have gone through, so it is retried (calls are idempotent
            # by Идентификатор), never taken as the operator's refusal.
            kind = resp.headers.get("Content-Type", "").split(";", 1)[0].strip() or "no type"
            raise TransientError(
                f"{method}: answer is not JSON ({kind})", provider=PROVIDER, status=resp.status_code
            )
        return resp

    @staticmethod
    def _json(resp: requests.Response) -> Any:
        try:
            return json.loads(resp.content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def _has_rpc_error(self, resp: requests.Response) -> bool:
        payload = self._json(resp)
        return isinstance(payload, dict) and isinstance(payload.get("error"), dict)

    def _result(self, resp: requests.Response, method: str) -> Any:
        payload = self._json(resp)
        if resp.status_code >= 300 or not isinstance(payload, dict) or "error" in payload:
            if isinstance(payload, dict) and "error" not in payload and resp.status_code < 300:
                raise RejectedRequest(f"{method}: answer without result", provider=PROVIDER)
            raise error_from_body(resp.status_code, resp.content)
        if "result" not in payload:
            raise RejectedRequest(f"{method}: answer without result", provider=PROVIDER)
        return payload["result"]

    def call(self, method: str, params: Mapping[str, Any]) -> Any:
        """Call one method; returns its ``result``."""
        for attempt in (1, 2):
            credential = self._current()
            body = rpc_request(method, params, next(self._ids))
            try:
                return self._result(
                    self._post(SERVICE_PATH, body, {self._header: credential}), method
                )
            except SessionExpired as exc:
                self._expire(credential)
                if attempt == 2:
                    raise AuthError(
                        f"{method}: session refused after signing in again ({exc})",
                        provider=PROVIDER,
                        status=exc.status,
                        code=exc.code,
                    ) from None
                log.info("sbis: session expired during %s; signing in again", method)
        raise AssertionError("unreachable")

    # -- files -----------------------------------------------------------

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
        for attempt in (1, 2):
            credential = self._current()
            try:
                resp = client.request("GET", path, headers={self._header: credential})
            except SessionExpired:
                self._expire(credential)
                if attempt == 2:
                    raise AuthError("file download refused after signing in again") from None
                continue
            return resp.content
        raise AssertionError("unreachable")

    def close(self) -> None:
        for client in {id(c): c for c in [self.http, *self._downloads.values()]}.values():
            client.close()


__all__ = ["SbisClient"]
