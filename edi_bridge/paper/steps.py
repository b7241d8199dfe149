"""Repeating a paper step is a no-op that says so.

People record paper steps by hand, often twice (the scan arrives by e-mail and again
by post; a courier's delivery is marked after the scan already came). A step the
exchange has reached, or passed on the way to ``signed``, changes nothing and is
reported as ``already <status>: nothing to do``, never as an illegal transition.
"""

from __future__ import annotations

from ..lifecycle import PAPER_TRANSITIONS, ExchangeStatus

S = ExchangeStatus
# The way a paper exchange goes when nothing goes wrong.
PAPER_PATH = (S.PREPARED, S.DISPATCHED, S.DELIVERED, S.SCAN_RECEIVED, S.SIGNED)


def already_done(current: str, target: str) -> bool:
    """True when ``target`` is ``current``, or a step of the path ``current`` has passed."""
    if current == target:
        return True
    if current not in PAPER_PATH or target not in PAPER_PATH:
        return False
    passed = PAPER_PATH.index(S(current)) > PAPER_PATH.index(S(target))
    return passed and S(target) not in PAPER_TRANSITIONS[S(current)]


def nothing_to_do(exchange_id: str, current: str) -> str:
    return f"{exchange_id} already {current}: nothing to do"


__all__ = ["PAPER_PATH", "already_done", "nothing_to_do"]
