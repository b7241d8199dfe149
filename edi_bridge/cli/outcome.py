"""What happened to an exchange, said honestly: its status, why, and what happens next.

``send``, ``resend`` and ``poll`` never print a bare id for an exchange that did not
reach the operator: a queued one says why and that the next poll retries it, a failed
one says whose fault it looks like (our credentials are named as ours) and how to retry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .common import EXIT_FAILED, EXIT_NOT_SENT, EXIT_OK, EXIT_PARTIAL

if TYPE_CHECKING:
    from ..models import Exchange

# Provider errors read "[provider STATUS CODE] message" (edi_bridge.errors.ProviderError).
_PREFIX = re.compile(r"^\[(?P<provider>[\w.-]+)(?: (?P<status>\d{3}))?[^\]]*\]\s*(?P<text>.*)$")
_REACHED = {"sent", "delivered", "signed"}


def reason(exchange: Exchange) -> str | None:
    """Why an exchange is not (yet) with the operator, in our words; None when it is."""
    error = exchange.last_error or exchange.reason
    if not error:
        return None
    match = _PREFIX.match(error)
    provider = match["provider"] if match else exchange.provider
    status = int(match["status"]) if match and match["status"] else None
    if status in (401, 403):
        return (
            f"{provider} rejected our credentials ({error}): check the {provider}.* "
            "credential settings (edi-bridge doctor checks them)"
        )
    if status == 402:
        return f"{provider} says our account has no API subscription ({error})"
    if exchange.status == "queued":
        return f"{provider} unreachable or busy ({error})"
    return error


def next_step(exchange: Exchange) -> str | None:
    """What happens next, or what the operator of the CLI should do."""
    status = exchange.status
    if status == "queued":
        return "retried on the next poll (or by a running worker)"
    if status == "failed":
        return f"fix the cause, then: edi-bridge resend {exchange.id}"
    if status == "prepared":
        return f"paper route: edi-bridge paper print {exchange.id} --out {exchange.id}.pdf"
    if status in ("rejected", "revoked"):
        return f"edi-bridge resend {exchange.id} --force sends a new document"
    return None


def line(exchange: Exchange) -> str:
    """``ex_…  status``, with the reason and next step when it did not reach the operator."""
    text = f"{exchange.id}  {exchange.status}"
    if exchange.status in _REACHED:
        return f"{text} via {exchange.provider}"
    why = reason(exchange)
    then = next_step(exchange)
    if why:
        text += f": {why}"
    if then:
        text += f"; {then}"
    return text


def as_json(exchange: Exchange) -> dict[str, Any]:
    return {
        "id": exchange.id,
        "status": exchange.status,
        "provider": exchange.provider,
        "channel": exchange.channel.value,
        "attempts": exchange.attempts,
        "last_error": exchange.last_error,
        "reason": reason(exchange),
        "next": next_step(exchange),
        "needs_attention": exchange.needs_attention,
        "previous_id": exchange.previous_id,
    }


def exit_code(exchanges: Sequence[Exchange]) -> int:
    """0 all reached the operator (or paper); 1 all failed; 3 mixed; 5 some only queued."""
    failed = sum(1 for e in exchanges if e.status == "failed")
    queued = sum(1 for e in exchanges if e.status == "queued")
    if failed and failed == len(exchanges):
        return EXIT_FAILED
    if failed:
        return EXIT_PARTIAL
    if queued:
        return EXIT_NOT_SENT
    return EXIT_OK


__all__ = ["as_json", "exit_code", "line", "next_step", "reason"]
