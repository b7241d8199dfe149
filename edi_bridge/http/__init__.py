"""HTTP plumbing shared by every HTTP adapter: credentials, errors, JSON, retries, politeness.

One :class:`HttpClient` per operator endpoint gives an adapter everything it would
otherwise write itself:

* a :class:`Credential` (obtained when missing or near expiry, put on each request,
  dropped and obtained again exactly once when a call answers 401);
* an :class:`ErrorMap` from HTTP status to the library's error tree
  (401/402/403/404/409/413/429/5xx), which an adapter extends with its own error
  codes and its way of reading the operator's error text;
* JSON decoding where a non-JSON or cut-off success answer is transient (the call may
  have gone through, so it is retried, never taken as a refusal);
* ``Retry-After``, a client-side rate limit and a cap on requests in flight;
* **the one retry layer**: a call, its sign-in and its re-login share one
  :class:`~edi_bridge.retry.RetryPolicy` budget (default 4 attempts), each retry
  logged at INFO with attempt, limit and wait. Nothing above the HTTP client retries.

TLS verification cannot be turned off for hosts other than loopback.
"""

from __future__ import annotations

from .answers import (
    DEFAULT_STATUS_ERRORS,
    ErrorMap,
    ErrorMapper,
    is_loopback,
    json_body,
    media_type,
    not_html,
    retry_after_seconds,
    short_text,
    transport_error,
)
from .client import TOKEN_MARGIN, Credential, HttpClient
from .transport import TRANSPORT_KEYS, RateLimiter, Transport

__all__ = [
    "DEFAULT_STATUS_ERRORS",
    "TOKEN_MARGIN",
    "TRANSPORT_KEYS",
    "Credential",
    "ErrorMap",
    "ErrorMapper",
    "HttpClient",
    "RateLimiter",
    "Transport",
    "is_loopback",
    "json_body",
    "media_type",
    "not_html",
    "retry_after_seconds",
    "short_text",
    "transport_error",
]
