"""The operator's document flow after the signature: followed until the operator says it is
finished (receipts, confirmations), recorded once as a history entry and a change.

``signed`` stays the status; "flow finished" is a flag beside it (docs/design.md says why).
An adapter that can tell offers ``document_flow(ref) -> {"finished", "waiting_for",
"pending_receipts"}`` (Diadoc); for any other (the mock, SBIS, paper) the flow is finished
when the document is signed.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import EdiBridgeError, TransientError
from ..lifecycle import ExchangeStatus
from ..models import FLOW_FINISHED, Exchange
from ..provider import Provider
from ..store import Store

PER_POLL = 50  # exchanges asked about in one poll of a provider
CANDIDATES = 1_000  # open flows read per poll, of which the PER_POLL asked longest ago go
# When each open flow was last asked, per adapter (it lives as long as the adapter): a flow
# that never finishes (a deleted message) takes its turn instead of every poll's first seat.
_asked: weakref.WeakKeyDictionary[Provider, dict[str, float]] = weakref.WeakKeyDictionary()
log = logging.getLogger("edi_bridge")


def follows(adapter: Provider) -> bool:
    return callable(getattr(adapter, "document_flow", None))


def _ask(adapter: Provider) -> Callable[..., Mapping[str, Any]]:
    ask: Callable[..., Mapping[str, Any]] = getattr(adapter, "document_flow", None) or _never
    return ask


def _never(*_args: Any, **_kw: Any) -> Mapping[str, Any]:
    return {"finished": True}


def follow(store: Store, name: str, adapter: Provider) -> int:
    """Ask the operator about each signed exchange whose flow is not finished yet; record
    the ones now finished. One bad answer never stops the others; an outage is raised
    after the rest were asked (the poll backs the unit off)."""
    if not follows(adapter):
        return 0
    with store.transaction() as conn:
        found = store.unfinished_flows(
            conn, name, [ExchangeStatus.SIGNED], FLOW_FINISHED, CANDIDATES
        )
    asked = _asked.setdefault(adapter, {})
    turn = sorted(found, key=lambda row: asked.get(row[0], 0.0))[:PER_POLL]
    now = time.monotonic()
    asked.update({row[0]: now for row in turn})
    finished, outage = 0, None
    for exchange_id, status, ref in turn:
        if not ref:
            continue  # never reached the operator: nothing to ask about
        try:
            state = _ask(adapter)(ref)
        except TransientError as exc:
            outage = outage or exc
            continue
        except EdiBridgeError as exc:
            log.warning("document flow of %s not read: %s", exchange_id, exc)
            continue
        if state.get("finished"):
            finished += _record(store, exchange_id, status)
            asked.pop(exchange_id, None)
    if outage is not None:
        raise outage
    return finished


def _record(store: Store, exchange_id: str, status: str) -> int:
    with store.transaction() as conn:
        # A step of its own, not a second "signed": the status stays (docs/design.md).
        cause = "the operator's document flow finished"
        store.add_history(conn, exchange_id, FLOW_FINISHED, cause, {"status": status})
        store.add_event(
            conn,
            key=f"{exchange_id}:{FLOW_FINISHED}",
            kind=FLOW_FINISHED,
            exchange_id=exchange_id,
            status=status,
        )
    return 1


def view(adapter: Provider | None, exchange: Exchange) -> dict[str, Any] | None:
    """What ``status`` shows: ``{"finished": True}``, or ``{"finished": False,
    "waiting_for": [...]}`` asked live; None before the document is signed."""
    if exchange.status != ExchangeStatus.SIGNED:
        return None
    if exchange.flow_recorded or adapter is None or not follows(adapter):
        return {"finished": True, "waiting_for": []}
    state = _ask(adapter)(exchange.provider_ref, answer=False)
    waiting = [dict(w) for w in state.get("waiting_for") or []]
    waiting += [
        {"party": "us", "what": f"our receipt on {r.get('answers')} {r.get('file_name')}".strip()}
        for r in state.get("pending_receipts") or []
    ]
    return {"finished": bool(state.get("finished")), "waiting_for": waiting}


__all__ = ["FLOW_FINISHED", "follow", "follows", "view"]
