"""Diadoc authentication: the DiadocAuth token scheme and OpenID Connect bearers.

Both keep one token per process, shared by all threads, and fetch a new one
only when asked to (:meth:`Authenticator.invalidate` after a 401) or when an
OIDC token is about to expire. Tokens and secrets never appear in reprs.
"""

from __future__ import annotations

import abc
import json
import threading
import time
from typing import Any

import requests

from edi_bridge.errors import AuthError, ConfigurationError, TransientError
from edi_bridge.http import HttpClient, is_loopback

from .errors import map_error


class Authenticator(abc.ABC):
    """Produces the Authorization header for Diadoc API calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: str | None = None
        self.logins = 0  # how many tokens were fetched (for tests and metrics)

    def __repr__(self) -> str:
        state = "token cached" if self._token else "no token"
        return f"<{type(self).__name__} {state}>"

    def header(self, http: HttpClient) -> dict[str, str]:
        with self._lock:
            if self._token is None or self._expired():
                self._token = self._fetch(http)
                self.logins += 1
            return {"Authorization": self._format(self._token)}

    def invalidate(self, used: dict[str, str] | None = None) -> None:
        """Forget the token (after a 401), unless another thread already replaced it."""
        with self._lock:
            if (
                used is None
                or self._token is None
                or used.get("Authorization") == self._format(self._token)
            ):
                self._token = None

    def _expired(self) -> bool:
        return False

    @abc.abstractmethod
    def _fetch(self, http: HttpClient) -> str: ...

    @abc.abstractmethod
    def _format(self, token: str) -> str: ...


class PasswordAuth(Authenticator):
    """``POST /V3/Authenticate?type=password`` with the API client id; token as text."""

    def __init__(self, api_client_id: str, login: str, password: str) -> None:
        super().__init__()
        self.api_client_id = api_client_id
        self.login = login
        self._password = password

    def _format(self, token: str) -> str:
        return f"DiadocAuth ddauth_api_client_id={self.api_client_id},ddauth_token={token}"

    def _fetch(self, http: HttpClient) -> str:
        body = json.dumps({"login": self.login, "password": self._password}).encode()
        resp = http.request(
            "POST",
            "/V3/Authenticate",
            params={"type": "password"},
            headers={
                "Authorization": f"DiadocAuth ddauth_api_client_id={self.api_client_id}",
                "Content-Type": "application/json; charset=utf-8",
            },
            data=body,
        )
        token = resp.text.strip().strip('"')
        if not token:
            raise AuthError("Authenticate answered without a token", provider="diadoc")
        return token


class OidcAuth(Authenticator):
    """OpenID Connect bearer tokens: client credentials or a refresh token.

    The token endpoint is configurable (Kontur's identity service address is
    not fixed in public docs). A rotated refresh token from the answer
    replaces the configured one for the rest of the process.
    """

    MARGIN = 60.0  # renew this many seconds before expiry

    def __init__(
        self,
        token_url: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        scope: str | None = None,
        timeout: float = 30.0,
        verify: bool | str = True,
    ) -> None:
        super().__init__()
        if verify is False and not is_loopback(token_url):
            raise ConfigurationError(f"diadoc: TLS verification cannot be disabled for {token_url}")
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self.scope = scope
        self.timeout = timeout
        self.verify = verify
        self._expires_at = 0.0

    def _format(self, token: str) -> str:
        return f"Bearer {token}"

    def _expired(self) -> bool:
        return time.monotonic() >= self._expires_at

    def _form(self) -> dict[str, str]:
        form = {"client_id": self.client_id}
        if self._refresh_token:
            form.update(grant_type="refresh_token", refresh_token=self._refresh_token)
        else:
            form["grant_type"] = "client_credentials"
        if self._client_secret:
            form["client_secret"] = self._client_secret
        if self.scope:
            form["scope"] = self.scope
        return form

    def _fetch(self, http: HttpClient) -> str:
        def once() -> requests.Response:
            with http.limiter:
                try:
                    resp = http.session.post(
                        self.token_url, data=self._form(), timeout=self.timeout, verify=self.verify
                    )
                except requests.RequestException as exc:
                    raise TransientError(
                        f"token endpoint: {type(exc).__name__}", provider="diadoc"
                    ) from None
            if resp.status_code >= 500:
                raise TransientError("token endpoint: server error", provider="diadoc")
            return resp

        resp = http.retry.call(once, what="diadoc token")
        if resp.status_code in (400, 401):
            # OAuth errors (invalid_client, invalid_grant) mean bad credentials.
            raise AuthError(
                "token endpoint refused the credentials", provider="diadoc", status=resp.status_code
            )
        if resp.status_code != 200:
            raise map_error(resp)
        try:
            data: Any = resp.json()
            token = str(data["access_token"])
        except (ValueError, KeyError, TypeError):
            raise AuthError(
                "token endpoint answered without access_token", provider="diadoc"
            ) from None
        expires_in = float(data.get("expires_in") or 3600)
        self._expires_at = time.monotonic() + max(0.0, expires_in - self.MARGIN)
        if data.get("refresh_token"):
            self._refresh_token = str(data["refresh_token"])
        return token


__all__ = ["Authenticator", "OidcAuth", "PasswordAuth"]
