"""One poll, unit by unit: each feed, the paper desk and the deadlines run on their own.

A unit that fails is logged, backed off (in a full poll) and reported after the
others ran; one failure stops nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import EdiBridgeError, PollFailed
from ..lifecycle import Channel, ExchangeStatus
from .feed import Backoff

if TYPE_CHECKING:
    from ..routing import RoutingPolicy
    from ..store import Store

log = logging.getLogger("edi_bridge")


class PollRun:
    """The failures of one poll; raised at the end, once every unit had its turn."""

    def __init__(self, backoff: Backoff, *, full: bool) -> None:
        self.backoff = backoff
        self.full = full
        self.failures: dict[str, str] = {}
        self.errors: dict[str, BaseException] = {}

    def waiting(self, unit: str) -> bool:
        """A unit that failed lately sits out full polls until its back-off ends."""
        return self.full and self.backoff.waiting(unit)

    def run(self, unit: str, step: Callable[[], object]) -> None:
        try:
            step()
        except PollFailed as exc:  # a unit of units (the paper desk): keep each name
            self.failures.update(exc.failures)
            self.errors.update(exc.errors)
        except Exception as exc:
            self.failures[unit], self.errors[unit] = self._failed(unit, exc), exc
        else:
            self.backoff.succeeded(unit)

    def _failed(self, unit: str, exc: Exception) -> str:
        why = PollFailed.reason(exc)
        delay = self.backoff.failed(unit)
        log.error(
            "poll of %s failed; next try in %.0f s: %s",
            unit,
            delay,
            why,
            exc_info=not isinstance(exc, EdiBridgeError),
            extra={"unit": unit},
        )
        return why

    def raise_failures(self) -> None:
        """One unit failed: its own error, as callers knew it; several: PollFailed."""
        if len(self.failures) == 1 and len(self.errors) == 1:
            raise next(iter(self.errors.values()))
        if self.failures:
            raise PollFailed(self.failures, self.errors)


def paper_has_work(
    store: Store, policy: RoutingPolicy, wanted: list[str] | None, carriers: set[str]
) -> bool:
    """The paper desk is built for a poll only when it has something to do."""
    if wanted is not None and not carriers.intersection(wanted):
        return False
    if wanted is None and (policy.fallback_on_failure or policy.fallback_after_days):
        return True
    S = ExchangeStatus
    with store.transaction() as conn:
        return bool(store.providers_with(conn, Channel.PAPER, [S.DISPATCHED, S.SCAN_RECEIVED]))


__all__ = ["PollRun", "paper_has_work"]
