"""SBIS errors mapped into the library's error tree.

SBIS answers errors as a JSON-RPC ``error`` object (``code``, ``message``,
``details``, ``data``) and sometimes, with an HTTP status above 300, as a plain
string (``{"error": "..."}``) or as bare text. Messages are built from codes
and the operator's text only, never from what we sent.
"""

from __future__ import annotations

import json
from typing import Any

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
from edi_bridge.http import json_body, short_text

from .wire import SESSION_CODES

PROVIDER = "sbis"


class SessionExpired(AuthError):
    """The session or token is no longer valid; the client signs in again once."""


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def error_from_payload(status: int, error: Any) -> ProviderError:
    """Map one ``error`` member (object or plain string) with its HTTP status."""
    if isinstance(error, dict):
        code = _int(error.get("code"))
        message = short_text(error.get("message")) or "error"
        details = short_text(error.get("details"))
        if details and details != message:
            message = f"{message}: {details}"
    else:
        code = None
        message = short_text(error) or "error"
    kwargs: dict[str, Any] = {
        "provider": PROVIDER,
        "status": status,
        "code": str(code) if code is not None else None,
    }
    if status == 401 or code in SESSION_CODES:
        return SessionExpired(message, **kwargs)
    if status == 429 or code == 429:
        return RateLimited(message, **kwargs)
    if code == -32603 or status in (502, 503, 504) or (status >= 500 and code is None):
        return TransientError(message, **kwargs)
    if status == 402 or code == 402:
        return PaymentRequired(message, **kwargs)
    if status == 403 or code == 403:
        return Forbidden(message, **kwargs)
    if status == 404 or code == 404 or "не найден" in message.lower():
        return ProviderNotFound(message, **kwargs)
    if status == 409 or code == 409:
        return Conflict(message, **kwargs)
    return RejectedRequest(message, **kwargs)


def error_from_body(status: int, body: bytes) -> ProviderError:
    """Map an error answer whatever its shape (JSON-RPC, plain string, bare text)."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        payload = None
    if isinstance(payload, dict) and "error" in payload:
        return error_from_payload(status, payload["error"])
    text = body.decode("utf-8", "replace") if body else f"HTTP {status}"
    return error_from_payload(status, text)


def payload_of(resp: requests.Response) -> Any:
    """The JSON body of any answer (an error answer too), or None."""
    try:
        return json.loads(resp.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def rpc_result(resp: requests.Response, method: str) -> Any:
    """The ``result`` of a JSON-RPC answer, or the mapped error.

    A 5xx without a JSON-RPC error and a success that is not JSON (a proxy's page, a
    garbled body) are transient: the call may have gone through, and SBIS calls are
    idempotent by Идентификатор.
    """
    payload = payload_of(resp)
    has_error = isinstance(payload, dict) and "error" in payload
    if resp.status_code >= 300 or has_error:
        raise error_from_body(resp.status_code, resp.content)
    if payload is None:
        json_body(resp, provider=PROVIDER)  # raises the transient "not JSON" error
    if not isinstance(payload, dict) or "result" not in payload:
        raise RejectedRequest(f"{method}: answer without result", provider=PROVIDER)
    return payload["result"]


__all__ = [
    "SessionExpired",
    "error_from_body",
    "error_from_payload",
    "payload_of",
    "rpc_result",
]
