"""Bounded, jittered retries of transient failures (tenacity), honouring Retry-After."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
from collections.abc import Callable, Iterator
from typing import TypeVar

import tenacity

from .errors import EdiBridgeError, RateLimited, TransientError

T = TypeVar("T")
log = logging.getLogger("edi_bridge.retry")


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a transient failure."""

    attempts: int = 4
    base_delay: float = 0.2  # seconds; doubles each attempt, full jitter
    max_delay: float = 10.0
    max_retry_after: float = 60.0  # a longer Retry-After is not waited for

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), self.max_retry_after)
        jitter = tenacity.wait_random_exponential(multiplier=self.base_delay, max=self.max_delay)
        return float(jitter(state))

    def call(self, fn: Callable[[], T], *, what: str = "call") -> T:
        """Run ``fn``; retry on TransientError up to ``attempts`` times in all."""

        def _log(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.info(
                "%s failed (attempt %d of %d): %s; retrying in %.2fs",
                what,
                state.attempt_number,
                max(1, self.attempts),
                exc,
                wait,
            )

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(1, self.attempts)),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(TransientError),
            before_sleep=_log,
            reraise=True,
        )
        return retrying(fn)


NO_RETRY = RetryPolicy(attempts=1)


class LeaseLost(EdiBridgeError):
    """Another worker took over the send this call belongs to: stop before the next request."""


# Asked before every request an HTTP client makes in this context (thread or task);
# a send sets it so a worker that lost its lease makes no further request.
_before_request: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "edi_bridge_before_request", default=None
)


def before_request() -> None:
    check = _before_request.get()
    if check is not None:
        check()


@contextlib.contextmanager
def checked_before_requests(check: Callable[[], None]) -> Iterator[None]:
    token = _before_request.set(check)
    try:
        yield
    finally:
        _before_request.reset(token)


__all__ = ["NO_RETRY", "LeaseLost", "RetryPolicy", "before_request", "checked_before_requests"]
