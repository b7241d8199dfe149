"""Diadoc answers mapped into the library's error tree.

Diadoc answers errors with a status code, a short text body and a machine
code in the ``X-Diadoc-ErrorCode`` header. The status decides the class; the
code and the (masked, shortened) text go into the message. 429 and 5xx are
mapped by :class:`edi_bridge.http.HttpClient` before this mapper is asked;
they are listed here too so the mapping can be used on its own.
"""

from __future__ import annotations

import requests

from edi_bridge.errors import (
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
from edi_bridge.http import retry_after_seconds
from edi_bridge.masking import mask_secrets

ERROR_CODE_HEADER = "X-Diadoc-ErrorCode"
PROVIDER = "diadoc"

STATUS_ERRORS: dict[int, type[ProviderError]] = {
    401: AuthError,
    402: PaymentRequired,
    403: Forbidden,
    404: ProviderNotFound,
    409: Conflict,
}


def _text(resp: requests.Response) -> str:
    try:
        text = resp.text
    except (UnicodeDecodeError, LookupError):
        return ""
    text = " ".join(text.split())[:300]
    return str(mask_secrets(text))


def map_error(resp: requests.Response) -> ProviderError:
    """The library error for an unsuccessful Diadoc answer."""
    status = resp.status_code
    code = resp.headers.get(ERROR_CODE_HEADER) or None
    method = resp.request.method if resp.request is not None else ""
    path = ""
    if resp.request is not None and resp.request.path_url:
        path = resp.request.path_url.split("?", 1)[0]
    message = f"{method} {path}: {_text(resp) or resp.reason or 'error'}".strip()
    if status == 429:
        return RateLimited(
            message,
            retry_after=retry_after_seconds(resp.headers.get("Retry-After")),
            provider=PROVIDER,
            code=code,
        )
    if status >= 500:
        return TransientError(message, provider=PROVIDER, status=status, code=code)
    cls = STATUS_ERRORS.get(status, RejectedRequest)
    return cls(message, provider=PROVIDER, status=status, code=code)


__all__ = ["ERROR_CODE_HEADER", "STATUS_ERRORS", "map_error"]
