"""The SBIS JSON-RPC client: signing in, calls, file downloads.

Everything shared with the other HTTP adapters comes from
:class:`~edi_bridge.http.HttpClient`: the one retry layer (5xx, 429, timeouts,
unreadable answers), the rate limit and at most 5 requests in flight, TLS rules,
and the credential with exactly one new sign-in when the session has expired
(HTTP 401 or error code 401/-32001). This module knows SBIS's paths, headers and
JSON-RPC envelopes only.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

from edi_bridge.errors import AuthError, ProviderNotFound, RejectedRequest
from edi_bridge.http import HttpClient
from edi_bridge.retry import RetryPolicy

from .auth import OK_STATUSES, RPC_HEADERS, SbisSession
from .errors import PROVIDER, SessionExpired, error_from_body, rpc_result
from .settings import SbisSettings
from .wire import M_PARTY, SERVICE_PATH, party_member, rpc_request


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
                ok=OK_STATUSES,
                data=data,
                headers=RPC_HEADERS,
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


class SbisPing:
    """``Provider.ping`` for SBIS: signs in and asks about our own INN, reading no feed page."""

    client: SbisClient
    settings: SbisSettings

    def ping(self) -> None:
        inn = self.settings.our_inn
        member = party_member(inn, self.settings.our_kpp, len(inn) == 10)
        # Answered "not found" still means reachable and signed in: that is all a ping asks.
        with contextlib.suppress(ProviderNotFound):
            self.client.call(M_PARTY, {"Участник": member})


__all__ = ["SbisClient", "SbisPing"]
