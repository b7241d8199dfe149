"""HTTP plumbing shared by the adapters: politeness, retries, error mapping.

:class:`HttpClient` wraps a ``requests.Session`` with a client-side rate limit
(requests per second) and a cap on requests in flight, retries transient
failures through a :class:`~edi_bridge.retry.RetryPolicy`, and maps transport
exceptions into the library's error tree. TLS verification cannot be turned
off for hosts other than loopback.
"""

from __future__ import annotations

import ipaddress
import threading
import time
import urllib.parse
from collections.abc import Callable, Collection, Mapping
from typing import Any

import requests

from .errors import ConfigurationError, ProviderError, RateLimited, TransientError
from .retry import RetryPolicy

ErrorMapper = Callable[[requests.Response], ProviderError]


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds form; HTTP dates are rare here)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


class RateLimiter:
    """At most ``rate`` starts per second (smoothed) and ``in_flight`` at once."""

    def __init__(self, rate: float, in_flight: int) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, in_flight))

    def __enter__(self) -> RateLimiter:
        self._slots.acquire()
        if self._interval:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next)
                self._next = start + self._interval
            delay = start - now
            if delay > 0:
                time.sleep(delay)
        return self

    def __exit__(self, *exc: object) -> None:
        self._slots.release()


class HttpClient:
    """One operator's HTTP endpoint, used politely."""

    def __init__(
        self,
        base_url: str,
        *,
        provider: str,
        error_mapper: ErrorMapper,
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
        self.error_mapper = error_mapper
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.limiter = RateLimiter(rate, in_flight)
        self.session = session or requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(4, in_flight))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.verify = verify

    def __repr__(self) -> str:
        return f"<HttpClient {self.provider} {self.base_url}>"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _once(
        self,
        method: str,
        path: str,
        ok: Collection[int],
        kwargs: dict[str, Any],
    ) -> requests.Response:
        with self.limiter:
            try:
                resp = self.session.request(method, self.url(path), timeout=self.timeout, **kwargs)
            except requests.Timeout:
                raise TransientError(
                    f"{method} {path}: no answer within {self.timeout:g}s", provider=self.provider
                ) from None
            except requests.ConnectionError as exc:
                raise TransientError(
                    f"{method} {path}: connection failed ({type(exc).__name__})",
                    provider=self.provider,
                ) from None
            except (
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                raise TransientError(
                    f"{method} {path}: answer cut off mid-body ({type(exc).__name__})",
                    provider=self.provider,
                ) from None
            except requests.RequestException as exc:
                raise TransientError(
                    f"{method} {path}: {type(exc).__name__}", provider=self.provider
                ) from None
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

    def request(
        self,
        method: str,
        path: str,
        *,
        ok: Collection[int] = (200,),
        retry: bool = True,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        json: Any = None,
        stream: bool = False,
    ) -> requests.Response:
        kwargs: dict[str, Any] = {"stream": stream}
        if params is not None:
            kwargs["params"] = params
        if headers is not None:
            kwargs["headers"] = dict(headers)
        if data is not None:
            kwargs["data"] = data
        if json is not None:
            kwargs["json"] = json
        if not retry:
            return self._once(method, path, ok, kwargs)
        return self.retry.call(
            lambda: self._once(method, path, ok, kwargs), what=f"{method} {path}"
        )

    def close(self) -> None:
        self.session.close()


__all__ = ["HttpClient", "RateLimiter", "is_loopback", "retry_after_seconds"]
