"""SBIS sign-in as an :class:`edi_bridge.http.Credential`: a session or a service token.

``login`` + ``password`` give a session id from ``СБИС.Аутентифицировать`` (header
``X-SBISSessionID``); ``app_client_id`` + ``app_secret`` + ``secret_key`` give a service
token from ``/oauth/service/`` (header ``X-SBISAccessToken``). The HTTP layer signs in
again exactly once when a call answers that the session has expired.
"""

from __future__ import annotations

import json

from edi_bridge.errors import AuthError
from edi_bridge.http import Credential, HttpClient

from .errors import PROVIDER, error_from_body, payload_of, rpc_result
from .settings import SbisSettings
from .wire import (
    AUTH_PATH,
    CONTENT_TYPE,
    M_AUTH,
    OAUTH_PATH,
    SESSION_HEADER,
    TOKEN_HEADER,
    rpc_request,
)

# Everything but 429 comes back to us: SBIS puts JSON-RPC errors in 4xx/5xx bodies.
OK_STATUSES = tuple(s for s in range(200, 600) if s != 429)
RPC_HEADERS = {"Content-Type": CONTENT_TYPE, "Accept": "application/json"}


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
            resp = http.send_once("POST", AUTH_PATH, ok=OK_STATUSES, data=data, headers=RPC_HEADERS)
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
        resp = http.send_once("POST", OAUTH_PATH, ok=OK_STATUSES, json=form)
        payload = payload_of(resp)
        if resp.status_code >= 500 and not isinstance(payload, dict):
            raise error_from_body(resp.status_code, resp.content)  # transient
        if resp.status_code != 200 or not isinstance(payload, dict) or "error" in payload:
            raise AuthError(str(error_from_body(resp.status_code, resp.content)))
        # The field is ``token`` in SBIS's examples; some answers say ``access_token``.
        token = payload.get("token") or payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthError("service sign-in answered without a token", provider=PROVIDER)
        return token, None


__all__ = ["OK_STATUSES", "RPC_HEADERS", "SbisSession", "payload_of"]
