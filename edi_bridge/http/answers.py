"""Reading operator answers: error mapping, JSON decoding, Retry-After, loopback rules."""

from __future__ import annotations

import ipaddress
import json
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

import requests

from ..errors import (
    AuthError,
    Conflict,
    Forbidden,
    PaymentRequired,
    ProviderError,
    ProviderNotFound,
    RateLimited,
    RejectedRequest,
    TransientError,
)
from ..masking import mask_secrets

ErrorMapper = Callable[[requests.Response], ProviderError]
_MAX_TEXT = 300


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


def media_type(resp: requests.Response) -> str:
    return resp.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


def short_text(value: Any) -> str:
    """Operator text for an error message: masked, on one line, at most 300 characters."""
    text = str(mask_secrets(value)) if value is not None else ""
    return " ".join(text.split())[:_MAX_TEXT]


def _where(resp: requests.Response) -> str:
    request = resp.request
    if request is None:
        return ""
    path = (request.path_url or "").split("?", 1)[0]
    return f"{request.method or ''} {path}".strip()


# -- errors ------------------------------------------------------------------

DEFAULT_STATUS_ERRORS: Mapping[int, type[ProviderError]] = {
    401: AuthError,
    402: PaymentRequired,
    403: Forbidden,
    404: ProviderNotFound,
    409: Conflict,
    413: RejectedRequest,
}


class ErrorMap:
    """HTTP status (and the operator's error code) → the library's error.

    Adapters extend it: ``statuses`` and ``codes`` add or override classes,
    :meth:`code` and :meth:`text` say where the operator puts its machine code and
    its message. 429 is :class:`RateLimited` with ``Retry-After``; any other 5xx is
    :class:`TransientError`; an unlisted 4xx is :class:`RejectedRequest`.
    """

    def __init__(
        self,
        provider: str,
        *,
        statuses: Mapping[int, type[ProviderError]] | None = None,
        codes: Mapping[str, type[ProviderError]] | None = None,
    ) -> None:
        self.provider = provider
        self.statuses = {**DEFAULT_STATUS_ERRORS, **(statuses or {})}
        self.codes = dict(codes or {})

    def code(self, resp: requests.Response) -> str | None:
        """The operator's machine error code (none by default)."""
        return None

    def text(self, resp: requests.Response) -> str:
        """The operator's error text (the body, masked and shortened, by default)."""
        try:
            return short_text(resp.text)
        except (UnicodeDecodeError, LookupError):
            return ""

    def error_class(self, status: int, code: str | None, message: str) -> type[ProviderError]:
        """Which error: the operator's code first, then the status."""
        cls = self.codes.get(code) if code is not None else None
        if cls is not None:
            return cls
        if status == 429:
            return RateLimited
        if status >= 500:
            return self.statuses.get(status, TransientError)
        return self.statuses.get(status, RejectedRequest)

    def classify(
        self, status: int, code: str | None, message: str, retry_after: float | None = None
    ) -> ProviderError:
        cls = self.error_class(status, code, message)
        if issubclass(cls, RateLimited):
            return cls(
                message, retry_after=retry_after, provider=self.provider, status=status, code=code
            )
        return cls(message, provider=self.provider, status=status, code=code)

    def __call__(self, resp: requests.Response) -> ProviderError:
        text = self.text(resp) or resp.reason or "error"
        message = f"{_where(resp)}: {text}".strip(": ")
        retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
        return self.classify(resp.status_code, self.code(resp), message, retry_after)


def transport_error(
    exc: requests.RequestException, what: str, timeout: float, provider: str
) -> TransientError:
    """A request that got no (whole) answer, as the transient error that says why."""
    if isinstance(exc, requests.Timeout):
        reason = f"no answer within {timeout:g}s"
    elif isinstance(
        exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
    ):
        reason = f"answer cut off mid-body ({type(exc).__name__})"
    elif isinstance(exc, requests.ConnectionError):
        reason = f"connection failed ({type(exc).__name__})"
    else:
        reason = type(exc).__name__
    return TransientError(f"{what}: {reason}", provider=provider)


# -- answers -----------------------------------------------------------------


def json_body(resp: requests.Response, *, provider: str = "") -> Any:
    """The decoded JSON of a success answer; a non-JSON or cut-off one is transient."""
    try:
        return json.loads(resp.content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        kind = media_type(resp) or "no content type"
        raise TransientError(
            f"{_where(resp)}: answer is not JSON ({kind})",
            provider=provider,
            status=resp.status_code,
        ) from None


def not_html(resp: requests.Response, *, provider: str = "") -> requests.Response:
    """Refuse a proxy's HTML page answered with 200 in place of a file (transient)."""
    if media_type(resp) == "text/html":
        raise TransientError(f"{_where(resp)}: answered with an HTML page", provider=provider)
    return resp


__all__ = [
    "DEFAULT_STATUS_ERRORS",
    "ErrorMap",
    "ErrorMapper",
    "is_loopback",
    "json_body",
    "media_type",
    "not_html",
    "retry_after_seconds",
    "short_text",
    "transport_error",
]
