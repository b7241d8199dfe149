"""Diadoc authentication: the DiadocAuth token scheme and OpenID Connect bearers.

Both are :class:`edi_bridge.http.Credential` objects: one token per process, shared by
all threads, obtained again exactly once after a 401 (or shortly before an OIDC token
expires). Tokens and secrets never appear in reprs.
"""

from __future__ import annotations

import json
from typing import Any

from edi_bridge.errors import AuthError, ConfigurationError
from edi_bridge.http import Credential, HttpClient, is_loopback, json_body

from .settings import DiadocSettings

PROVIDER = "diadoc"


class PasswordAuth(Credential):
    """``POST /V3/Authenticate?type=password`` with the API client id; token as text."""

    def __init__(self, api_client_id: str, login: str, password: str) -> None:
        super().__init__()
        self.api_client_id = api_client_id
        self.login = login
        self._password = password

    def apply(self, secret: str) -> dict[str, str]:
        return {
            "Authorization": f"DiadocAuth ddauth_api_client_id={self.api_client_id},"
            f"ddauth_token={secret}"
        }

    def obtain(self, http: HttpClient) -> tuple[str, float | None]:
        body = json.dumps({"login": self.login, "password": self._password}).encode()
        resp = http.send_once(
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
            raise AuthError("Authenticate answered without a token", provider=PROVIDER)
        return token, None  # valid until refused (Diadoc says 24 hours)


class OidcAuth(Credential):
    """OpenID Connect bearer tokens: client credentials or a refresh token.

    The token endpoint is configurable (Kontur's identity service address is
    not fixed in public docs). A rotated refresh token from the answer
    replaces the configured one for the rest of the process.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        scope: str | None = None,
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
        self.verify = verify

    def apply(self, secret: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret}"}

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

    def obtain(self, http: HttpClient) -> tuple[str, float | None]:
        resp = http.send_once(
            "POST", self.token_url, ok=(200, 400, 401), data=self._form(), verify=self.verify
        )
        if resp.status_code != 200:
            # OAuth errors (invalid_client, invalid_grant) mean bad credentials.
            raise AuthError(
                "token endpoint refused the credentials", provider=PROVIDER, status=resp.status_code
            )
        data: Any = json_body(resp, provider=PROVIDER)
        if not isinstance(data, dict) or not data.get("access_token"):
            raise AuthError("token endpoint answered without access_token", provider=PROVIDER)
        if data.get("refresh_token"):
            self._refresh_token = str(data["refresh_token"])
        return str(data["access_token"]), float(data.get("expires_in") or 3600)


def make_auth(settings: DiadocSettings) -> Credential:
    if settings.auth == "oidc":
        # Both checked by DiadocSettings.from_config.
        assert settings.token_url is not None
        assert settings.client_id is not None
        return OidcAuth(
            settings.token_url,
            settings.client_id,
            client_secret=settings.client_secret,
            refresh_token=settings.refresh_token,
            scope=settings.scope,
            verify=settings.transport.tls_verify,
        )
    assert settings.api_client_id is not None
    assert settings.login is not None
    assert settings.password is not None
    return PasswordAuth(settings.api_client_id, settings.login, settings.password)


__all__ = ["OidcAuth", "PasswordAuth", "make_auth"]
