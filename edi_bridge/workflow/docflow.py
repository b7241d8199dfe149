"""The operator's document flow after the signature: followed until the operator says it is
finished (receipts, confirmations), recorded once as a history entry and a change.

``signed`` stays the status; "flow finished" is a flag beside it (docs/design.md says why).
An adapter that can tell offers ``document_flow(ref) -> {"finished", "waiting_for",
"pending_receipts"}`` (Diadoc, SBIS), and may offer ``document_flows(refs)`` (each state or the
error that kept it unread, asked in batches) and ``document_flow_interval`` (seconds before a
flow is asked again); for any other (the mock, paper) the flow is finished when the
document is signed.
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

PER_POLL = 100  # open flows asked about in one poll of a provider (one GetDocflows batch)
CANDIDATES = 1_000  # open flows read per poll, of which the PER_POLL asked longest ago go
# When each open flow was last asked, per adapter (it lives as long as the adapter): a flow
# that never finishes (a deleted message) takes its turn instead of every poll's first seat,
# and none is asked again sooner than the adapter's ``document_flow_interval`` (seconds).
_asked: weakref.WeakKeyDictionary[Provider, dict[str, float]] = weakref.WeakKeyDictionary()
NEVER = float("-inf")
log = logging.getLogger("edi_bridge")


def follows(adapter: Provider) -> bool:
    return callable(getattr(adapter, "document_flow", None))


def _ask(adapter: Provider) -> Callable[..., Mapping[str, Any]]:
    ask: Callable[..., Mapping[str, Any]] = getattr(adapter, "document_flow", None) or _never
    return ask


def _never(*_args: Any, **_kw: Any) -> Mapping[str, Any]:
    return {"finished": True}


def _ask_all(adapter: Provider, refs: list[Mapping[str, str]]) -> list[Any]:
    """Each flow's state or the EdiBridgeError that kept it unread, in order: in batches
    when the adapter offers ``document_flows``, else one ``document_flow`` call each."""
    batch = getattr(adapter, "document_flows", None)
    if callable(batch):
        return list(batch(refs)) if refs else []
    outcomes: list[Any] = []
    for ref in refs:
        try:
            outcomes.append(_ask(adapter)(ref))
        except EdiBridgeError as exc:
            outcomes.append(exc)
    return outcomes


def follow(
    store: Store, name: str, adapter: Provider, *, clock: Callable[[], float] = time.monotonic
) -> int:
    """Ask the operator about the signed exchanges whose flow is not finished and was not
    asked within the adapter's interval; record the ones now finished. One bad answer never
    stops the others; an outage is raised after the rest were read (the poll backs the
    unit off)."""
    if not follows(adapter):
        return 0
    with store.transaction() as conn:
        found = store.unfinished_flows(
            conn, name, [ExchangeStatus.SIGNED], FLOW_FINISHED, CANDIDATES
        )
    asked = _asked.setdefault(adapter, {})
    now, interval = clock(), float(getattr(adapter, "document_flow_interval", 0.0) or 0.0)
    due = [row for row in found if now - asked.get(row[0], NEVER) >= interval]
    turn = sorted(due, key=lambda row: asked.get(row[0], NEVER))[:PER_POLL]
    asked.update({row[0]: now for row in turn})
    turn = [row for row in turn if row[2]]  # one that never reached the operator: nothing to ask
    finished, outage, unread = 0, None, []
    for (exchange_id, status, _ref), state in zip(
        turn, _ask_all(adapter, [row[2] for row in turn]), strict=True
    ):
        if isinstance(state, TransientError):
            outage = outage or state
            asked.pop(exchange_id, None)  # not read: asked again on the next poll
        elif isinstance(state, EdiBridgeError):
            unread.append((exchange_id, state))
        elif state.get("finished"):
            finished += _record(store, exchange_id, status)
            asked.pop(exchange_id, None)
    if unread:  # one line per poll, however many (a batch of deleted messages)
        first, error = unread[0]
        more = f" (and {len(unread) - 1} more)" if len(unread) > 1 else ""
        log.warning("document flow of %s not read: %s%s", first, error, more)
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


def live(adapter: Provider | None, exchange: Exchange) -> Mapping[str, Any] | None:
    """The adapter's answer on a signed exchange whose flow is still open (one request,
    ``pending_receipts`` included), or None when there is nothing to ask."""
    if exchange.status != ExchangeStatus.SIGNED or exchange.flow_recorded:
        return None
    if adapter is None or not follows(adapter):
        return None
    return _ask(adapter)(exchange.provider_ref, answer=False)


def view(
    adapter: Provider | None, exchange: Exchange, state: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """What ``status`` shows: ``{"finished": True}``, or ``{"finished": False,
    "waiting_for": [...]}`` (``state``: :func:`live`'s answer, else asked here); None before
    the document is signed."""
    if exchange.status != ExchangeStatus.SIGNED:
        return None
    state = state if state is not None else live(adapter, exchange)
    if state is None:
        return {"finished": True, "waiting_for": []}
    waiting = [dict(w) for w in state.get("waiting_for") or []]
    waiting += [
        {"party": "us", "what": f"our receipt on {r.get('answers')} {r.get('file_name')}".strip()}
        for r in state.get("pending_receipts") or []
    ]
    return {"finished": bool(state.get("finished")), "waiting_for": waiting}


__all__ = ["FLOW_FINISHED", "follow", "follows", "live", "view"]
