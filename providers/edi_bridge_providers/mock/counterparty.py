"""The mock's counterparty signs: as its head, or as an employee under an МЧД."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from xml.sax.saxutils import escape

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from edi_bridge.fakes.identities import counterparty_signer
from edi_bridge.fakes.scenario import Play, Scenario, parse_scenario
from edi_bridge.mchd.model import organisation_of
from edi_bridge.models import Counterparty
from edi_bridge.provider import EventFile
from edi_bridge.safexml import parse_untrusted
from edi_bridge.signing.personal import employee_signing
from edi_bridge.store import schema

from .revocation import CODES

_MOVE = (
    schema.mock_messages.update()
    .where(schema.mock_messages.c.document_id == sa.bindparam("d"))
    .values(
        polls=sa.bindparam("p"), done=sa.bindparam("f"), counterparty_signature=sa.bindparam("s")
    )
)


def advance(conn: Connection) -> None:
    """The counterparty's moves on this poll, by each unfinished message's scenario."""
    messages = schema.mock_messages
    rows = conn.execute(sa.select(messages).where(messages.c.done.is_(False))).all()
    events: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    for row in rows:
        scenario = parse_scenario(row.scenario)
        poll = row.polls + 1
        signature = row.counterparty_signature
        for play, reason in scenario.due(poll):
            if play is Play.SIGNED:
                signature = sign(row, scenario)
            events.append(
                {
                    "event_id": "mev-" + secrets.token_hex(8),
                    "document_id": row.document_id,
                    "kind": play.value,
                    "reason": reason,
                    "at": dt.datetime.now(dt.UTC),
                }
            )
        moves.append(
            {"d": row.document_id, "p": poll, "f": poll >= scenario.last_poll, "s": signature}
        )
    # One statement each for the whole poll: the mock's bookkeeping stays out of the
    # statement counts that measure our own apply path.
    if events:
        conn.execute(schema.mock_events.insert(), events)
    if moves:
        conn.execute(_MOVE, moves)


def sign(row: Any, scenario: Scenario) -> bytes:
    cp = Counterparty.model_validate(row.counterparty)
    if scenario.employee_case is not None:
        employee = employee_signing(organisation_of(cp), scenario.employee_case)
        return employee.signer.sign(bytes(row.content))
    signer = counterparty_signer(
        cp.inn, cp.ogrn, cp.name, cp.signatory.full_name, cp.signatory.position
    )
    return signer.sign(bytes(row.content))


def powers_of_attorney(row: Any) -> tuple[bytes, ...]:
    """The МЧД an employee signed under (issued again, the same per process)."""
    case = parse_scenario(row.scenario).employee_case
    if row.kind != Play.SIGNED or case is None:
        return ()
    cp = organisation_of(Counterparty.model_validate(row.counterparty))
    return tuple(p for p in [employee_signing(cp, case).power_of_attorney] if p)


# The counterparty's signed refusals, in the shape of the FNS notice the operators carry.
_REFUSALS = {
    Play.REJECTED.value: ("rejection", "rejection.xml"),
    CODES[Play.REVOCATION_REJECTED]: ("revocation_rejection", "revocation-rejection.xml"),
}


def signed_refusal(row: Any) -> tuple[str | None, tuple[EventFile, ...]]:
    """For a refusal: its reason as read back from the signed XML, and the XML with the
    counterparty's signature, kept with the exchange. Other events: their reason as is."""
    if row.kind not in _REFUSALS:
        return row.reason, ()
    role, name = _REFUSALS[row.kind]
    xml = (
        '<?xml version="1.0" encoding="utf-8"?><Файл><Документ><СвУведУточ>'
        f"<ТекстУведУточ>{escape(row.reason or '')}</ТекстУведУточ>"
        "</СвУведУточ></Документ></Файл>"
    ).encode()
    cp = Counterparty.model_validate(row.counterparty)
    signer = counterparty_signer(
        cp.inn, cp.ogrn, cp.name, cp.signatory.full_name, cp.signatory.position
    )
    text = parse_untrusted(xml, what="rejection XML").findtext(".//ТекстУведУточ")
    files = (
        EventFile(role, name, xml),
        EventFile(f"{role}_signature", f"{name}.sig", signer.sign(xml)),
    )
    return text or row.reason, files


__all__ = ["advance", "powers_of_attorney", "sign", "signed_refusal"]
