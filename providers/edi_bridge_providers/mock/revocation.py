"""The mock's revocations, both ways, kept in its event table.

Our own moves (a revocation request, an answer to the counterparty's) are rows of
``mock_events`` the feed does not show (:data:`HIDDEN`); their event ids come from the
Bridge's operation key, so the same call twice is one row. The counterparty answers our
request on the next poll round, as its scenario says (:meth:`Scenario.revocation_answer`).
Kinds are short codes: the column holds 16 characters.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from edi_bridge.errors import Conflict
from edi_bridge.fakes.scenario import Play, parse_scenario
from edi_bridge.provider import ProviderEventKind, RevocationRequest
from edi_bridge.store import schema

messages = schema.mock_messages
events = schema.mock_events

OURS = "our_revoke"  # our request
OUR_ACCEPT, OUR_REJECT = "our_rev_accept", "our_rev_reject"  # our answers to theirs
HIDDEN = (OURS, OUR_ACCEPT, OUR_REJECT)
CODES = {Play.REVOCATION_ACCEPTED: "rev_accepted", Play.REVOCATION_REJECTED: "rev_rejected"}
KINDS = {
    # The counterparty's ``revoke`` is a request to annul, which we answer.
    Play.REVOKED.value: ProviderEventKind.REVOCATION_REQUESTED,
    CODES[Play.REVOCATION_ACCEPTED]: ProviderEventKind.REVOKED,
    CODES[Play.REVOCATION_REJECTED]: ProviderEventKind.REVOCATION_REJECTED,
}
VISIBLE = events.c.kind.notin_(HIDDEN)
"""The feed's filter: the counterparty's moves only."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _event_id(operation_key: str) -> str:
    return "mrv-" + hashlib.sha256(operation_key.encode()).hexdigest()[:32]


def _kinds(conn: Connection, document_id: str) -> list[str]:
    return [
        str(k)
        for k in conn.execute(
            sa.select(events.c.kind)
            .where(events.c.document_id == document_id)
            .order_by(events.c.seq)
        ).scalars()
    ]


def _add(conn: Connection, event_id: str, document_id: str, kind: str, reason: str | None) -> None:
    conn.execute(
        events.insert().values(
            event_id=event_id, document_id=document_id, kind=kind, reason=reason, at=_now()
        )
    )


def _known(conn: Connection, event_id: str) -> bool:
    found = conn.execute(sa.select(events.c.seq).where(events.c.event_id == event_id)).first()
    return found is not None


def request(engine: Engine, request: RevocationRequest) -> None:
    """Ask the counterparty to annul a signed document (one row per operation key)."""
    document_id = request.ref.get("document_id") or request.document_id
    event_id = _event_id(request.operation_key)
    with engine.begin() as conn:
        if _known(conn, event_id):
            return
        signed = conn.execute(
            sa.select(messages.c.counterparty_signature).where(
                messages.c.document_id == document_id
            )
        ).scalar_one_or_none()
        if not signed:
            raise Conflict(
                "mock: only a document both sides signed can be revoked", provider="mock"
            )
        if _pending(_kinds(conn, document_id)) is not None:
            raise Conflict("mock: a revocation request is already open", provider="mock")
        _add(conn, event_id, document_id, OURS, request.reason)


def answer(engine: Engine, request: RevocationRequest, *, accept: bool) -> None:
    """Accept or refuse the counterparty's open revocation request."""
    document_id = request.ref.get("document_id") or request.document_id
    event_id = _event_id(request.operation_key)
    with engine.begin() as conn:
        if _known(conn, event_id):
            return
        if _pending(_kinds(conn, document_id)) != "theirs":
            raise Conflict("mock: no revocation request from the counterparty", provider="mock")
        _add(conn, event_id, document_id, OUR_ACCEPT if accept else OUR_REJECT, request.reason)


def _pending(kinds: list[str]) -> str | None:
    """Whose revocation request is open on a document (``ours``/``theirs``), if any."""
    answered = {CODES[Play.REVOCATION_ACCEPTED], CODES[Play.REVOCATION_REJECTED]}
    for kind in reversed(kinds):
        if kind in answered or kind in (OUR_ACCEPT, OUR_REJECT):
            return None
        if kind == OURS:
            return "ours"
        if kind == Play.REVOKED.value:
            return "theirs"
    return None


def answer_pending(conn: Connection) -> None:
    """Counterparties answer our open requests as their scenarios say (one poll round)."""
    open_ids = conn.execute(
        sa.select(events.c.document_id).where(events.c.kind == OURS).distinct()
    ).scalars()
    for document_id in list(open_ids):
        if _pending(_kinds(conn, document_id)) != "ours":
            continue
        scenario = conn.execute(
            sa.select(messages.c.scenario).where(messages.c.document_id == document_id)
        ).scalar_one()
        found = parse_scenario(scenario).revocation_answer()
        if found is not None:
            play, reason = found
            _add(conn, "mev-" + secrets.token_hex(8), document_id, CODES[play], reason)


__all__ = ["CODES", "HIDDEN", "KINDS", "VISIBLE", "answer", "answer_pending", "request"]
