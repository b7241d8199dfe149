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
    ProviderError,
    ProviderNotFound,
    RejectedRequest,
    TransientError,
)
from edi_bridge.http import ErrorMap, json_body, short_text

from .wire import SESSION_CODES

PROVIDER = "sbis"


class SessionExpired(AuthError):
    """The session or token is no longer valid; the client signs in again once."""


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class SbisErrors(ErrorMap):
    """SBIS's rules over the shared map: a JSON-RPC code that repeats an HTTP meaning
    (402, 403, 404, 409, 429) counts as that status; a refusal answered with 500 and a
    code is not transient; -32603 (internal error) is; text "не найден" is not-found."""

    def error_class(self, status: int, code: str | None, message: str) -> type[ProviderError]:
        number = _int(code)
        if status == 401 or number in SESSION_CODES:
            return SessionExpired
        if number == -32603:
            return TransientError
        effective = status
        if number is not None and (number in self.statuses or number == 429):
            effective = number
        elif number is not None and status >= 500 and status not in (502, 503, 504):
            effective = 400  # SBIS answers a refusal with 500 and its code
        if effective < 500 and effective != 429 and "не найден" in message.lower():
            return ProviderNotFound
        return super().error_class(effective, None, message)


ERRORS = SbisErrors(PROVIDER)


def error_from_payload(status: int, error: Any) -> ProviderError:
    """Map one ``error`` member (object or plain string) with its HTTP status."""
    code: int | None = None
    if isinstance(error, dict):
        code = _int(error.get("code"))
        message = short_text(error.get("message")) or "error"
        details = short_text(error.get("details"))
        if details and details != message:
            message = f"{message}: {details}"
    else:
        message = short_text(error) or "error"
    return ERRORS.classify(status, str(code) if code is not None else None, message)


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
    "ERRORS",
    "SbisErrors",
    "SessionExpired",
    "error_from_body",
    "error_from_payload",
    "payload_of",
    "rpc_result",
]
