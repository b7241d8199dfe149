"""Credentials kept per process, with exactly one re-login on 401."""

from __future__ import annotations

import abc
import logging
import threading
import time
from typing import TYPE_CHECKING

from ..errors import AuthError

if TYPE_CHECKING:
    from .client import HttpClient

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


__all__ = ["TOKEN_MARGIN", "Credential"]
