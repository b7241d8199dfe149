"""The lifecycle of every exchange, as data: channels, statuses, event kinds,
the transition table of each channel, what a provider event asks for, and the
late-news rule.

Nothing here touches the store: :mod:`edi_bridge.transitions` writes what these
tables allow, for every channel, and :func:`decide` is the pure half of
applying a provider event (the event and the current status in, a
:class:`Decision` out).
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Literal, get_args


class Channel(enum.StrEnum):
    """How an exchange travels."""

    EDI = "edi"
    PAPER = "paper"
    EMAIL = "email"


class ExchangeStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    SIGNED = "signed"
    REJECTED = "rejected"
    REVOKED = "revoked"
    # Annulling a signed document: one side asks, the other accepts (revoked) or refuses
    # (revocation_rejected: the document stays signed). Who asked is in the history.
    REVOCATION_REQUESTED = "revocation_requested"
    REVOCATION_REJECTED = "revocation_rejected"
    FAILED = "failed"
    # The paper route (see PAPER_TRANSITIONS); DELIVERED and SIGNED are shared.
    PREPARED = "prepared"
    DISPATCHED = "dispatched"
    SCAN_RECEIVED = "scan_received"
    RETURNED = "returned"
    LOST = "lost"
    # Closed by hand before anything reached a counterparty (queued or prepared).
    CANCELLED = "cancelled"


class EventKind(enum.StrEnum):
    """Normalized changes the backend reacts to."""

    SENT = "sent"
    DELIVERED = "delivered"
    SIGNED = "signed"
    REJECTED = "rejected"
    REVOKED = "revoked"
    REVOCATION_REQUESTED = "revocation_requested"
    REVOCATION_REJECTED = "revocation_rejected"
    FAILED = "failed"
    SIGNATURE_INVALID = "signature_invalid"
    # The operator's document flow of a signed document finished (receipts done); the
    # status stays signed (see edi_bridge.workflow.docflow).
    FLOW_FINISHED = "flow_finished"
    # The paper route: one kind per paper status, plus the overdue originals.
    PREPARED = "prepared"
    DISPATCHED = "dispatched"
    SCAN_RECEIVED = "scan_received"  # temporary activation is allowed
    RETURNED = "returned"
    LOST = "lost"
    ORIGINALS_OVERDUE = "originals_overdue"
    # Signing deadlines (see edi_bridge.deadlines), any channel.
    REMINDER_DUE = "reminder_due"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    # An operator event put aside because it could not be applied (see
    # edi_bridge.workflow.quarantine); its exchange_id is None when it concerns none of ours.
    EVENT_QUARANTINED = "event_quarantined"


# What ``Bridge.on`` takes: an EventKind's value, or "*" for every kind. A Literal, so a
# type checker catches ``bridge.on("sigend", ...)``; the run-time check refuses it too.
EventKindName = Literal[
    "*",
    "sent",
    "delivered",
    "signed",
    "rejected",
    "revoked",
    "revocation_requested",
    "revocation_rejected",
    "failed",
    "signature_invalid",
    "flow_finished",
    "prepared",
    "dispatched",
    "scan_received",
    "returned",
    "lost",
    "originals_overdue",
    "reminder_due",
    "expired",
    "cancelled",
    "event_quarantined",
]


def event_kind(kind: str) -> str:
    """``kind`` if ``Bridge.on`` knows it; otherwise a ValueError naming the known ones."""
    if kind not in get_args(EventKindName):
        known = ", ".join(repr(k) for k in get_args(EventKindName))
        raise ValueError(f"unknown event kind {str(kind)!r}; known kinds: {known}")
    return kind


class ProviderEventKind(enum.StrEnum):
    """What an operator reports about a document it carries."""

    DELIVERED = "delivered"
    SIGNED = "signed"
    REJECTED = "rejected"
    REVOKED = "revoked"  # annulled: the other side accepted a revocation request
    # The counterparty asks to annul a signed document; we answer (Bridge.accept_revocation).
    REVOCATION_REQUESTED = "revocation_requested"
    # The counterparty refused our revocation request: the document stays signed.
    REVOCATION_REJECTED = "revocation_rejected"


class QuarantineStatus(enum.StrEnum):
    """A quarantined operator event: held until a person re-applies or dismisses it."""

    HELD = "held"
    REAPPLIED = "reapplied"
    DISMISSED = "dismissed"


class ClosingStatus(enum.StrEnum):
    """A closing delivery (one client, period and document) in the closing ledger."""

    PENDING = "pending"  # recorded; the EDI send has not gone out yet
    SENDING = "sending"  # an e-mail is claimed: committed before the SMTP call
    SENT = "sent"
    FAILED = "failed"
    RECORDED = "recorded"  # a paper record: see docs/closing.md
    # Its EDI exchange was cancelled by hand (``edi-bridge cancel``): a later run leaves
    # it so, unless asked to retry it (``closing send --retry-cancelled``).
    CANCELLED = "cancelled"


S = ExchangeStatus
Table = dict[str, frozenset[str]]

EDI_TRANSITIONS: Table = {
    # A queued exchange may be cancelled by hand before a worker sends it.
    S.QUEUED: frozenset({S.SENT, S.FAILED, S.CANCELLED}),
    # Operators may report the signature without a separate delivery notice,
    # and a counterparty may revoke before signing.
    S.SENT: frozenset({S.DELIVERED, S.SIGNED, S.REJECTED, S.REVOKED, S.FAILED}),
    S.DELIVERED: frozenset({S.SIGNED, S.REJECTED, S.REVOKED}),
    # Annulling a signed document takes a request and the other side's answer; an
    # operator that reports only the outcome (revoked) skips the request.
    S.SIGNED: frozenset({S.REVOCATION_REQUESTED, S.REVOKED}),
    S.REVOCATION_REQUESTED: frozenset({S.REVOKED, S.REVOCATION_REJECTED}),
    # Still signed and in force; either side may ask again.
    S.REVOCATION_REJECTED: frozenset({S.REVOCATION_REQUESTED, S.REVOKED}),
    S.REJECTED: frozenset(),
    S.REVOKED: frozenset(),
    # A failed send may be retried by hand (resend), which queues it again.
    S.FAILED: frozenset({S.QUEUED}),
    S.CANCELLED: frozenset(),
}
TERMINAL_STATUSES = frozenset({S.REJECTED, S.REVOKED, S.FAILED, S.CANCELLED})
IN_FLIGHT_STATUSES = frozenset({S.SENT, S.DELIVERED})
SIGNED_STATUSES = frozenset({S.SIGNED, S.REVOCATION_REQUESTED, S.REVOCATION_REJECTED})
"""Statuses in which the document is signed by both sides and in force."""
REVOCATION_ANSWERS = {"accept": S.REVOKED, "reject": S.REVOCATION_REJECTED}
"""Our answer to the counterparty's revocation request, and the status it leads to."""

PAPER_TRANSITIONS: Table = {
    # Two printed copies wait to be posted (or are cancelled by hand first).
    S.PREPARED: frozenset({S.DISPATCHED, S.CANCELLED}),
    # Carriers may never report the delivery, and a client may scan, or even
    # post the originals back, before the tracking catches up.
    S.DISPATCHED: frozenset({S.DELIVERED, S.SCAN_RECEIVED, S.SIGNED, S.RETURNED, S.LOST}),
    S.DELIVERED: frozenset({S.SCAN_RECEIVED, S.SIGNED}),
    # The scan allows temporary activation; the originals conclude the contract.
    S.SCAN_RECEIVED: frozenset({S.SIGNED}),
    S.SIGNED: frozenset(),
    # Needs attention: post it again (a new tracking number).
    S.RETURNED: frozenset({S.DISPATCHED}),
    S.LOST: frozenset({S.DISPATCHED}),
    S.CANCELLED: frozenset(),
}
PAPER_TROUBLE = frozenset({S.RETURNED, S.LOST})
"""Paper statuses that need attention (post again)."""

AWAITING_SIGNATURE: dict[str, frozenset[str]] = {
    Channel.EDI: frozenset({S.SENT, S.DELIVERED}),
    Channel.PAPER: frozenset({S.DISPATCHED, S.DELIVERED}),
}
"""Statuses in which the signing deadline runs, per channel (a paper scan has its
own deadline for the originals)."""

DEADLINE_START: dict[str, str] = {Channel.EDI: S.SENT, Channel.PAPER: S.DISPATCHED}
"""The status whose first entry starts the signing clock."""

C = ClosingStatus
CLOSING_TRANSITIONS: Table = {
    # An EDI delivery stays pending while any of its exchanges is queued.
    C.PENDING: frozenset({C.PENDING, C.SENDING, C.SENT, C.FAILED, C.CANCELLED}),
    # An e-mail claimed before the SMTP call; a run that died there may claim it again.
    C.SENDING: frozenset({C.SENDING, C.SENT, C.FAILED}),
    C.FAILED: frozenset({C.PENDING, C.SENDING, C.SENT, C.FAILED, C.CANCELLED}),
    C.SENT: frozenset(),
    C.RECORDED: frozenset(),
    C.CANCELLED: frozenset({C.PENDING}),  # retried on purpose only
}

LIFECYCLES: dict[str, Table] = {
    Channel.EDI: EDI_TRANSITIONS,
    Channel.PAPER: PAPER_TRANSITIONS,
}
"""Allowed transitions of an exchange per channel."""

EVENT_TARGETS: dict[ProviderEventKind, ExchangeStatus] = {
    ProviderEventKind.DELIVERED: S.DELIVERED,
    ProviderEventKind.SIGNED: S.SIGNED,
    ProviderEventKind.REJECTED: S.REJECTED,
    ProviderEventKind.REVOKED: S.REVOKED,
    ProviderEventKind.REVOCATION_REQUESTED: S.REVOCATION_REQUESTED,
    ProviderEventKind.REVOCATION_REJECTED: S.REVOCATION_REJECTED,
}
"""The status a provider event asks for."""

REASONED = frozenset({S.REJECTED, S.REVOKED, S.REVOCATION_REQUESTED, S.REVOCATION_REJECTED})
"""Statuses whose event carries the counterparty's reason."""


def allowed_transitions(channel: str, status: str) -> frozenset[str]:
    return LIFECYCLES.get(channel, EDI_TRANSITIONS).get(status, frozenset())


OPERATOR_HOLDS: dict[str, frozenset[str]] = {Channel.EDI: frozenset({S.FAILED})}
"""Statuses the operator's news overrides, per channel. A send recorded as failed
(a refusal to a repeated send, a lost answer) whose document the operator holds
and reports on was delivered after all: the counterparty's signature, rejection or
revocation is applied, never dropped."""


def is_late_news(channel: str, status: str, target: str) -> bool:
    """The late-news rule: news the table does not allow from the current status
    (delivered after signed, a carrier's delivery after a return) is kept in the
    record and changes nothing; except that an operator's news about a document it
    holds moves an exchange out of a status in :data:`OPERATOR_HOLDS`."""
    if status in OPERATOR_HOLDS.get(channel, frozenset()) and target in EVENT_TARGETS.values():
        return False
    return target not in allowed_transitions(channel, status)


@dataclasses.dataclass(frozen=True)
class Decision:
    """What one provider event does to one exchange (``target`` None: nothing)."""

    target: ExchangeStatus | None
    cause: str
    reason: str | None


def decide(
    provider: str, kind: ProviderEventKind, channel: str, status: str, reason: str | None
) -> Decision:
    """Event + current status -> the target (or late news), the cause and the reason."""
    target = EVENT_TARGETS[kind]
    if target == S.DELIVERED:
        cause = f"{provider}: delivered to the counterparty"
    elif target == S.REVOCATION_REQUESTED:
        cause = f"{provider}: the counterparty requests revocation"
    elif target == S.REVOCATION_REJECTED:
        cause = f"{provider}: the counterparty rejected our revocation request"
    elif target == S.REVOKED and status == S.REVOCATION_REQUESTED:
        cause = f"{provider}: revocation accepted"
    else:
        cause = f"{provider}: counterparty {target}"
    if is_late_news(channel, status, target):
        return Decision(None, cause, None)
    return Decision(target, cause, reason if target in REASONED else None)


__all__ = [
    "AWAITING_SIGNATURE",
    "CLOSING_TRANSITIONS",
    "DEADLINE_START",
    "EDI_TRANSITIONS",
    "EVENT_TARGETS",
    "IN_FLIGHT_STATUSES",
    "LIFECYCLES",
    "OPERATOR_HOLDS",
    "PAPER_TRANSITIONS",
    "PAPER_TROUBLE",
    "REASONED",
    "REVOCATION_ANSWERS",
    "SIGNED_STATUSES",
    "TERMINAL_STATUSES",
    "Channel",
    "ClosingStatus",
    "Decision",
    "EventKind",
    "EventKindName",
    "ExchangeStatus",
    "ProviderEventKind",
    "QuarantineStatus",
    "allowed_transitions",
    "decide",
    "event_kind",
    "is_late_news",
]
