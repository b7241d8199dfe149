"""Annulling a signed document, both ways: we ask (:meth:`Revocations.revoke`), or we answer
the counterparty's request (:meth:`Revocations.answer`).

The operator is called first and the status is written after it answered, so a status never
claims a request the operator has not taken. Each call carries an operation key stable per
exchange, action and round (the n-th request), so the same command run twice, or run again
after a crash between the call and the write, is one request at the operator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..errors import UnsupportedFeature, ValidationError
from ..lifecycle import Channel, ExchangeStatus
from ..models import Exchange
from ..provider import Capability, Provider, RevocationRequest
from ..signing import OurPowerOfAttorney, Signer
from ..store import Store
from ..transitions import TransitionWriter
from .outbox import Outbox

S = ExchangeStatus
MAX_REASON = 1000  # characters; the operators' revocation and rejection XML carry it as text
CAN_REVOKE = frozenset({S.SIGNED, S.REVOCATION_REJECTED})


def check_reason(reason: str | None, *, required: bool) -> str | None:
    """The reason trimmed; a ValidationError naming ``reason`` when it breaks the rule."""
    text = " ".join((reason or "").split())
    if not text:
        if required:
            raise ValidationError("reason", "is required: say why, the counterparty reads it")
        return None
    if len(text) > MAX_REASON:
        raise ValidationError("reason", f"at most {MAX_REASON} characters; got {len(text)}")
    return text


def requested_by(exchange: Exchange) -> str | None:
    """Who asked for the open or last revocation (``us``/``counterparty``), if any."""
    info = exchange.revocation
    return None if info is None else str(info["requested_by"])


def _rounds(exchange: Exchange, by: str) -> int:
    """How many revocation requests ``by`` made so far on this exchange."""
    return sum(
        1
        for h in exchange.history
        if h.status == S.REVOCATION_REQUESTED and h.detail.get("requested_by", "counterparty") == by
    )


class Host(Protocol):
    """What revocations need of the facade."""

    store: Store
    writer: TransitionWriter
    outbox: Outbox

    @property
    def signer(self) -> Signer: ...
    def provider(self, name: str) -> Provider: ...
    def our_power_of_attorney(self) -> OurPowerOfAttorney | None: ...
    def _refuse_test_certificate(self, name: str) -> None: ...


class Revocations:
    """Revoke and answer revocations; every change goes through the one transition writer."""

    @classmethod
    def of(cls, host: Host) -> Revocations:
        return cls(
            host.store,
            host.writer,
            host.outbox,
            adapter=host.provider,
            signer=lambda: host.signer,
            power_of_attorney=host.our_power_of_attorney,
            guard=host._refuse_test_certificate,
        )

    def __init__(
        self,
        store: Store,
        writer: TransitionWriter,
        outbox: Outbox,
        *,
        adapter: Callable[[str], Provider],
        signer: Callable[[], Signer],
        power_of_attorney: Callable[[], OurPowerOfAttorney | None],
        guard: Callable[[str], None],
    ) -> None:
        self.store = store
        self.writer = writer
        self.outbox = outbox
        self.adapter = adapter
        self.signer = signer
        self.power_of_attorney = power_of_attorney
        self.guard = guard  # refuses a test certificate against a real operator

    def _load(self, exchange_id: str) -> Exchange:
        with self.store.transaction() as conn:
            return self.store.load_exchange(conn, exchange_id)

    def _provider(self, exchange: Exchange) -> Provider:
        if exchange.channel != Channel.EDI:
            raise ValidationError(
                "exchange",
                f"{exchange.id} travels by {exchange.channel}; only an EDI document is revoked "
                "through its operator",
            )
        adapter = self.adapter(exchange.provider)
        if not adapter.supports(Capability.REVOCATION):
            raise UnsupportedFeature(exchange.provider, str(Capability.REVOCATION))
        self.guard(exchange.provider)
        return adapter

    def _request(self, exchange: Exchange, key: str, reason: str | None) -> RevocationRequest:
        with self.store.transaction() as conn:
            document_id = self.store.exchange_row(conn, exchange.id).provider_document_id
        return RevocationRequest(
            exchange_id=exchange.id,
            ref=dict(exchange.provider_ref),
            document_id=str(document_id or ""),
            operation_key=key,
            signer=self.signer(),
            reason=reason,
            power_of_attorney=self.power_of_attorney(),
        )

    def _write(
        self, exchange: Exchange, allowed: frozenset[str], target: str, cause: str, **kw: Any
    ) -> Exchange:
        """Record the operator's acceptance, unless a poll moved the exchange meanwhile."""
        with self.store.transaction() as conn:
            row = self.store.exchange_row(conn, exchange.id, for_update=True)
            if row.status in allowed:
                self.writer.write(conn, exchange.id, target, cause, row=row, **kw)
            found = self.store.load_exchange(conn, exchange.id)
        self.outbox.dispatch_events()
        return found

    def revoke(self, exchange_id: str, reason: str | None) -> Exchange:
        """Ask the counterparty to annul a signed exchange: ``revocation_requested``."""
        text = check_reason(reason, required=True)
        exchange = self._load(exchange_id)
        if exchange.status == S.REVOCATION_REQUESTED and requested_by(exchange) == "us":
            return exchange  # asked already: the same request, not a second one
        if exchange.status == S.REVOCATION_REQUESTED:
            raise ValidationError(
                "exchange",
                f"{exchange_id}: the counterparty asked to revoke it; answer with "
                "revocation accept or revocation reject",
            )
        if exchange.status not in CAN_REVOKE:
            raise ValidationError(
                "exchange",
                f"{exchange_id} is {exchange.status}; only a document both sides signed "
                "can be revoked",
            )
        adapter = self._provider(exchange)
        key = f"{exchange_id}:revoke:{_rounds(exchange, 'us') + 1}"
        adapter.request_revocation(self._request(exchange, key, text))
        detail = {"requested_by": "us", "reason": text, "operation": key}
        return self._write(
            exchange,
            CAN_REVOKE,
            S.REVOCATION_REQUESTED,
            "revocation requested by us",
            event_key=f"{key}:requested",
            reason=text,
            detail=detail,
        )

    def answer(self, exchange_id: str, *, accept: bool, reason: str | None = None) -> Exchange:
        """Accept (``revoked``) or refuse (``revocation_rejected``) the counterparty's request."""
        text = check_reason(reason, required=not accept)
        exchange = self._load(exchange_id)
        target = S.REVOKED if accept else S.REVOCATION_REJECTED
        if exchange.status == target and _answered_by_us(exchange, target):
            return exchange  # answered already: nothing is sent twice
        if exchange.status != S.REVOCATION_REQUESTED or requested_by(exchange) != "counterparty":
            raise ValidationError(
                "exchange",
                f"{exchange_id} is {exchange.status} with no revocation request from the "
                "counterparty to answer",
            )
        adapter = self._provider(exchange)
        verb = "accept" if accept else "reject"
        key = f"{exchange_id}:revocation-{verb}:{_rounds(exchange, 'counterparty')}"
        request = self._request(exchange, key, text)
        if accept:
            adapter.accept_revocation(request)
        else:
            adapter.reject_revocation(request)
        cause = (
            "the counterparty's revocation request accepted by us"
            if accept
            else "the counterparty's revocation request rejected by us"
        )
        return self._write(
            exchange,
            frozenset({S.REVOCATION_REQUESTED}),
            target,
            cause,
            event_key=f"{key}:answered",
            reason=text,
            detail={"answered_by": "us", "operation": key},
        )


def _answered_by_us(exchange: Exchange, target: str) -> bool:
    last = next((h for h in reversed(exchange.history) if h.status == target), None)
    return last is not None and last.detail.get("answered_by") == "us"


__all__ = ["MAX_REASON", "Revocations", "check_reason", "requested_by"]
