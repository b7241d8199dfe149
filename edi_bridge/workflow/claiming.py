"""A worker's send slot: claim the next queued exchange and send it.

The claim is the first statement of the transaction that prepares the send
(:func:`~edi_bridge.store.leases.take_next_queued`: it leases the exchange, counts
the attempt and returns the row), so it costs no transaction of its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from ..store import leases
from ..store.rows import ExchangeRow
from .attempts import Dispatched
from .sending import Sending


def dispatch_next(
    sending: Sending, claimed: Callable[[], object] | None = None
) -> Dispatched | None:
    """Claim the oldest queued exchange no live worker holds and send it; its outcome,
    or None when there is none. Should preparing fail, the claim rolls back with it and
    the exchange is leased to us again, as a claimed one stays, before the error is
    raised. ``claimed`` is called once the claim committed, before the provider call."""
    taken_id: str | None = None
    try:
        with sending.store.transaction() as conn:
            taken = leases.take_next_queued(conn, sending.owner, sending.lease_seconds)
            if taken is None:
                return None
            taken_id = str(taken.id)
            attempt = sending.prepare(conn, ExchangeRow.of(taken))
    except Exception:
        if taken_id is not None:
            with contextlib.suppress(Exception), sending.store.transaction() as conn:
                leases.take_exchange(conn, taken_id, sending.owner, sending.lease_seconds)
        raise
    if claimed is not None:
        claimed()
    return sending.deliver_outcome(attempt)


__all__ = ["dispatch_next"]
