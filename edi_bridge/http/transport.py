"""Politeness (rate limit, connections in flight) and the transport settings every
HTTP adapter reads under the same names."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Mapping
from typing import Any

from ..config import env_name, flag
from ..errors import ConfigurationError
from ..retry import RetryPolicy
from .answers import is_loopback

# The operator counts arrivals, and a request reaches it some milliseconds after its
# turn (the GIL of a busy worker, a new connection), later for some than for others:
# turns spaced at exactly the rate then put more than ``rate`` arrivals into some
# second. Turns are spaced this much wider, which absorbs up to 50 ms of such jitter.
HEADROOM = 0.05


class RateLimiter:
    """At most ``rate`` starts per second (smoothed, ``HEADROOM`` below it) and
    ``in_flight`` at once."""

    def __init__(self, rate: float, in_flight: int) -> None:
        self._interval = 1.0 / (rate * (1 - HEADROOM)) if rate > 0 else 0.0
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


# Every key Transport.from_config reads (the shared names, their aliases, the CA bundle).
TRANSPORT_KEYS = frozenset(
    {
        "timeout",
        "retry_attempts",
        "retry_base_delay",
        "rate",
        "max_connections",
        "in_flight",
        "tls_verify",
        "verify",
        "ca_bundle",
    }
)
_FLAGS = ("0", "1", "true", "false", "yes", "no", "on", "off")
# Older names some sections accepted; read when the shared name is not set.
_ALIASES = {"max_connections": "in_flight", "tls_verify": "verify"}


@dataclasses.dataclass(frozen=True)
class Transport:
    """The settings every HTTP adapter reads under the same names.

    ``timeout`` (seconds per request), ``retry_attempts`` (attempts in all for one
    call, default 4), ``retry_base_delay`` (seconds, doubled each retry, jittered),
    ``rate`` (requests per second), ``max_connections`` (requests in flight) and
    ``tls_verify`` (``true``/``false`` or a CA bundle path; ``false`` only for loopback).
    """

    timeout: float = 30.0
    retry_attempts: int = 4
    retry_base_delay: float = 0.2
    rate: float = 100.0
    max_connections: int = 4
    tls_verify: bool | str = True

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(attempts=self.retry_attempts, base_delay=self.retry_base_delay)

    @classmethod
    def from_config(
        cls,
        section: str,
        cfg: Mapping[str, str],
        base_url: str,
        *,
        max_connections_limit: int | None = None,
        **defaults: Any,
    ) -> Transport:
        """Read the shared keys of ``section``; a bad value is refused naming its key."""
        base = cls(**defaults)

        def raw(key: str) -> str | None:
            value = cfg.get(key)
            if (value is None or not value.strip()) and key in _ALIASES:
                value = cfg.get(_ALIASES[key])
            return value.strip() if value and value.strip() else None

        def number(key: str, default: float, minimum: float) -> float:
            text = raw(key)
            if text is None:
                return default
            try:
                value = float(text)
            except ValueError:
                value = float("nan")
            if not value >= minimum:  # also refuses NaN
                raise ConfigurationError(
                    f"{section}.{key} ({env_name(section + '.' + key)}) must be a number "
                    f"of at least {minimum:g}, got {text!r}"
                )
            return value

        verify: bool | str = base.tls_verify
        text = raw("tls_verify") or raw("ca_bundle")
        if text is not None:
            verify = flag(text, True) if text.lower() in _FLAGS else text
        if verify is False and not is_loopback(base_url):
            raise ConfigurationError(
                f"{section}: TLS verification cannot be disabled for {base_url}"
            )
        connections = int(number("max_connections", base.max_connections, 1))
        if max_connections_limit is not None:
            connections = min(connections, max_connections_limit)
        return cls(
            timeout=number("timeout", base.timeout, 0.001),
            retry_attempts=int(number("retry_attempts", base.retry_attempts, 1)),
            retry_base_delay=number("retry_base_delay", base.retry_base_delay, 0),
            rate=number("rate", base.rate, 0.001),
            max_connections=connections,
            tls_verify=verify,
        )


__all__ = ["HEADROOM", "TRANSPORT_KEYS", "RateLimiter", "Transport"]
