"""The HTTP client of one operator endpoint (the one retry layer), and the credential
it keeps with exactly one re-login on 401."""

from __future__ import annotations

import abc
import logging
import os
import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import requests.utils

from ..errors import AuthError, ConfigurationError, RateLimited, TransientError
from ..retry import RetryPolicy, before_request
from .answers import (
    ErrorMap,
    ErrorMapper,
    is_loopback,
    json_body,
    retry_after_seconds,
    transport_error,
)
from .transport import RateLimiter, Transport

T = TypeVar("T")
log = logging.getLogger("edi_bridge.http")


TOKEN_MARGIN = 60.0  # seconds before expiry when a credential is renewed


class Credential(abc.ABC):
    """A credential kept per process and shared by threads.

    :meth:`obtain` signs in (one request through the client, no retries of its own:
    the call it serves owns the retry budget) and returns the secret and its
    lifetime in seconds (``None``: until refused). :meth:`apply` turns it into
    request headers. It is renewed ``margin`` seconds before expiry, and dropped
    when a call answers 401 unless another thread already renewed it.
    """

    margin = TOKEN_MARGIN

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secret: str | None = None
        self._expires_at = float("inf")
        self.sign_ins = 0  # how many times it was obtained (tests and metrics)

    def __repr__(self) -> str:
        state = "held" if self._secret else "none"
        return f"<{type(self).__name__} {state}>"

    @abc.abstractmethod
    def obtain(self, http: HttpClient) -> tuple[str, float | None]: ...

    @abc.abstractmethod
    def apply(self, secret: str) -> dict[str, str]: ...

    def current(self, http: HttpClient) -> str:
        with self._lock:
            if self._secret is None or time.monotonic() >= self._expires_at:
                secret, lifetime = self.obtain(http)
                if not secret:
                    raise AuthError("sign-in answered without a credential", provider=http.provider)
                self._secret = secret
                self._expires_at = (
                    float("inf")
                    if lifetime is None
                    else time.monotonic() + max(0.0, lifetime - self.margin)
                )
                self.sign_ins += 1
                log.info("%s: signed in (%s)", http.provider, type(self).__name__)
            return self._secret

    def invalidate(self, seen: str | None = None) -> None:
        """Forget the credential (after a 401), unless it was renewed since ``seen``."""
        with self._lock:
            if seen is None or self._secret == seen:
                self._secret = None


class HttpClient:
    """One operator's HTTP endpoint, used politely, with the one retry layer."""

    def __init__(
        self,
        base_url: str,
        *,
        provider: str,
        error_mapper: ErrorMapper | None = None,
        credential: Credential | None = None,
        rate: float = 100.0,
        in_flight: int = 4,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        verify: bool | str = True,
        session: requests.Session | None = None,
    ) -> None:
        if verify is False and not is_loopback(base_url):
            raise ConfigurationError(
                f"{provider}: TLS verification cannot be disabled for {base_url}"
            )
        self.base_url = base_url.rstrip("/")
        self.provider = provider
        self.error_mapper: ErrorMapper = error_mapper or ErrorMap(provider)
        self.credential = credential
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.limiter = RateLimiter(rate, in_flight)
        self.session = session or requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(4, in_flight))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.verify = verify
        # requests reads the proxy variables, the CA bundle variables and ~/.netrc on
        # every request (81 environment look-ups each): the environment is read here
        # once instead, and the proxies once per host (no_proxy applied as requests does).
        self._proxies: dict[tuple[str, str], dict[str, str]] = {}
        self._env = self.session.trust_env
        if self._env:
            self.session.trust_env = False
            if verify is True:
                bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
                self.session.verify = bundle or True

    @classmethod
    def over(
        cls,
        base_url: str,
        transport: Transport,
        *,
        provider: str,
        error_mapper: ErrorMapper | None = None,
        credential: Credential | None = None,
        retry: RetryPolicy | None = None,
    ) -> HttpClient:
        """A client with the shared transport settings."""
        return cls(
            base_url,
            provider=provider,
            error_mapper=error_mapper,
            credential=credential,
            rate=transport.rate,
            in_flight=transport.max_connections,
            timeout=transport.timeout,
            retry=retry or transport.retry_policy(),
            verify=transport.tls_verify,
        )

    def __repr__(self) -> str:
        return f"<HttpClient {self.provider} {self.base_url}>"

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path  # an absolute address (a token endpoint, a file link)
        return f"{self.base_url}/{path.lstrip('/')}"

    def proxies(self, url: str) -> dict[str, str]:
        """The environment's proxies for ``url``'s host, read once per host."""
        if not self._env:
            return {}
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        found = self._proxies.get(key)
        if found is None:
            found = self._proxies[key] = requests.utils.get_environ_proxies(url)
        return found

    def send_once(
        self,
        method: str,
        path: str,
        *,
        ok: Collection[int] = (200,),
        **kwargs: Any,
    ) -> requests.Response:
        """One request, no retry, no credential: a transport failure, 429 or 5xx raises
        :class:`TransientError`, another status outside ``ok`` the mapped error."""
        before_request()  # a send whose lease was lost stops here (LeaseLost)
        url = self.url(path)
        stream, verify = bool(kwargs.pop("stream", False)), kwargs.pop("verify", None)
        try:
            # Built before our turn, so the turn is taken as near the wire as it can be:
            # the operator counts arrivals, and the time between the two is jitter.
            prepared = self.session.prepare_request(requests.Request(method, url, **kwargs))
            settings = self.session.merge_environment_settings(
                url, self.proxies(url), stream, verify, None
            )
            with self.limiter:
                resp = self.session.send(prepared, timeout=self.timeout, **settings)
        except requests.RequestException as exc:
            raise transport_error(exc, f"{method} {path}", self.timeout, self.provider) from None
        if resp.status_code in ok:
            return resp
        if resp.status_code == 429:
            raise RateLimited(
                f"{method} {path}: rate limited",
                retry_after=retry_after_seconds(resp.headers.get("Retry-After")),
                provider=self.provider,
            )
        if resp.status_code >= 500:
            raise TransientError(
                f"{method} {path}: server error", provider=self.provider, status=resp.status_code
            )
        raise self.error_mapper(resp)

    def _authorized(
        self,
        method: str,
        path: str,
        ok: Collection[int],
        kwargs: dict[str, Any],
        read: Callable[[requests.Response], T],
        credential: Credential | None,
    ) -> T:
        """One attempt: the credential, the request, the answer read; one re-login on 401."""
        for second in (False, True):
            headers = dict(kwargs.get("headers") or {})
            secret = None
            if credential is not None:
                secret = credential.current(self)
                headers.update(credential.apply(secret))
            try:
                resp = self.send_once(method, path, ok=ok, **{**kwargs, "headers": headers})
                return read(resp)
            except AuthError:
                if credential is None or second:
                    raise
                log.info("%s: %s %s answered 401; signing in again", self.provider, method, path)
                credential.invalidate(secret)
        raise AssertionError("unreachable")  # pragma: no cover

    def call(
        self,
        method: str,
        path: str,
        read: Callable[[requests.Response], T],
        *,
        ok: Collection[int] = (200,),
        retry: bool = True,
        auth: bool = True,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        json: Any = None,
        stream: bool = False,
    ) -> T:
        """A request whose answer ``read`` turns into a value, retried as a whole.

        ``read`` runs inside the attempt: a :class:`TransientError` it raises (an
        unreadable answer) is retried, an :class:`AuthError` leads to one re-login.
        """
        kwargs: dict[str, Any] = {"stream": stream}
        if params is not None:
            kwargs["params"] = params
        if headers is not None:
            kwargs["headers"] = dict(headers)
        if data is not None:
            kwargs["data"] = data
        if json is not None:
            kwargs["json"] = json
        credential = self.credential if auth else None

        def attempt() -> T:
            return self._authorized(method, path, ok, kwargs, read, credential)

        if not retry:
            return attempt()
        return self.retry.call(attempt, what=f"{self.provider} {method} {path}")

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        """The raw answer of a (retried, authorized) request."""
        return self.call(method, path, _same, **kw)

    def json(self, method: str, path: str, **kw: Any) -> Any:
        """The decoded JSON answer; an answer that is not JSON is retried."""
        return self.call(method, path, lambda r: json_body(r, provider=self.provider), **kw)

    def close(self) -> None:
        self.session.close()


def _same(resp: requests.Response) -> requests.Response:
    return resp


__all__ = ["TOKEN_MARGIN", "Credential", "HttpClient"]
