"""SBIS change events read into the library's events, one at a time.

An event that cannot be read (the operator refuses its signature's download, its
document entry is malformed) is reported as an :class:`UnreadableEvent` carrying
the document entry with that one event, and the rest of the page is read: the feed
puts it aside and moves on, and :meth:`EventReader.again` reads the entry anew when
a person re-applies it. An outage (:class:`TransientError`: network, 5xx, timeouts,
a signature spoiled on the way every time it was read) is not the event's fault:
the other signatures are read (and kept), then the poll fails and the page is read
again later.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from edi_bridge.errors import SignatureError, TransientError
from edi_bridge.provider import BUYER_TITLE, EventFile, ProviderEvent, UnreadableEvent
from edi_bridge.provider import ProviderEventKind as Kind
from edi_bridge.signing.verify import decode_signature_bytes, parse_signature

from .client import SbisClient
from .feed import RawEvent, events_of
from .stage import file_bytes

log = logging.getLogger("edi_bridge.sbis")
SIGNATURES_KEPT = 2048  # signatures read by polls that failed later (a few KiB each)
TITLE_PREFIX = "ON_NSCHFDOPPOK"  # a УПД buyer's title (ФНС file name)


def der(data: bytes) -> bytes:
    """Signatures come as DER or as base64 text of it (decoded by the signing package)."""
    try:
        return decode_signature_bytes(data)
    except SignatureError:
        return data


def title_summary(content: bytes) -> dict[str, Any]:
    """What a buyer's title says (the core's summary, shared by every adapter)."""
    from edi_bridge.closing.upd_buyer import title_summary as summarise

    return summarise(content)


def entry_of(event: RawEvent) -> dict[str, Any]:
    """The ``Документ`` entry with this one event: what :func:`events_of` reads back."""
    return {**event.document, "Событие": [dict(event.event)]}


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class EventReader:
    """Normalizes SBIS events for one adapter (and remembers signatures it read)."""

    def __init__(self, client: SbisClient, our_inn: str) -> None:
        self.client = client
        self.our_inn = our_inn
        # Counterparty signatures read in a poll that failed later on: a page is
        # applied all or nothing, so without these an unsteady link would download
        # the same files again on every poll and never get through a long feed.
        self._signatures: OrderedDict[str, bytes] = OrderedDict()
        # Documents with an open revocation request (the Bridge names them before a poll).
        self.watched: frozenset[str] = frozenset()

    def page(
        self, ordered: Sequence[RawEvent]
    ) -> tuple[list[ProviderEvent], list[UnreadableEvent]]:
        """The page's events and the ones that cannot be read; an outage raises."""
        events: list[ProviderEvent] = []
        unreadable: list[UnreadableEvent] = []
        failed: TransientError | None = None
        for raw in ordered:
            try:
                event = self.normalize(raw)
            except TransientError as exc:
                failed = failed or exc  # read the other signatures too, then fail
                continue
            except Exception as exc:  # any other fault is this event's own: put aside
                why = describe(exc)
                log.warning("sbis: event %s cannot be read: %s", raw.event_id, why)
                entry = entry_of(raw)
                unreadable.append(UnreadableEvent(raw.event_id, why, entry, raw.document_id))
                continue
            if event is not None:
                events.append(event)
        if failed is not None:
            raise failed
        return events, unreadable

    def again(self, raw: Mapping[str, Any]) -> list[ProviderEvent]:
        """A quarantined entry read anew (its signature downloaded again)."""
        read = [self.normalize(r) for r in events_of([raw])]
        return [e for e in read if e is not None]

    def normalize(self, event: RawEvent) -> ProviderEvent | None:
        if not event.concerns_us:
            return None  # our own steps, and documents sent to us
        kind = event.kind
        if kind is Kind.REJECTED and event.document_id in self.watched:
            # A refusal on a document with our open request to annul refuses the request
            # (the document was signed: it cannot be refused any more); unconfirmed name.
            kind = Kind.REVOCATION_REJECTED
        signature = self._counterparty_signature(event) if kind is Kind.SIGNED else None
        files: tuple[EventFile, ...] = ()
        if kind is Kind.REVOCATION_REQUESTED:
            files = self._request_files(event)
        elif kind is Kind.SIGNED:
            files = self._buyer_title(event)
        elif kind in (Kind.REJECTED, Kind.REVOCATION_REJECTED):
            role = "rejection" if kind is Kind.REJECTED else "revocation_rejection"
            files = self._signed_files(event, role)
        return event.normalized(signature, kind=kind, files=files)

    def _buyer_title(self, event: RawEvent) -> tuple[EventFile, ...]:
        """A УПД's buyer approves with its own title (ON_NSCHFDOPPOK), the file its signature
        covers: kept beside the signature with what it says."""
        found = event.their_attachment(self.our_inn)
        if found is None or not str(found[0].get("Имя") or "").upper().startswith(TITLE_PREFIX):
            return ()
        content = file_bytes(self.client, found[0])
        return (EventFile(BUYER_TITLE, "buyer-title.xml", content, summary=title_summary(content)),)

    def _request_files(self, event: RawEvent) -> tuple[EventFile, ...]:
        """The counterparty's signed agreement to annul, kept with the exchange."""
        return self._signed_files(event, "revocation_request")

    def _signed_files(self, event: RawEvent, role: str) -> tuple[EventFile, ...]:
        """The file the counterparty signed for this event (its agreement to annul, its
        refusal notice) and its signature, kept with the exchange; none when it lists none."""
        found = event.their_attachment(self.our_inn)
        if found is None:
            return ()
        file, signature = found
        suffix = f"{role.replace('_', '-')}.xml"
        content, sig = file_bytes(self.client, file), der(file_bytes(self.client, signature))
        return (
            EventFile(role, suffix, content),
            EventFile(f"{role}_signature", f"{suffix}.sig", sig),
        )

    def _counterparty_signature(self, event: RawEvent) -> bytes | None:
        file = event.their_signature_file(self.our_inn)
        if file is None:
            log.warning("sbis: event %s reports a signature without its file", event.event_id)
            return None
        key = f"{event.event_id}|{file.get('Ссылка') or ''}|{file.get('Хеш') or ''}"
        if key in self._signatures:
            return self._signatures[key]
        # A download spoiled on the way (a proxy's page, a cut body) would be kept as
        # the signature for good: read it again, as often as the client retries a call,
        # then fail the poll so the page is read again next time.
        for _ in range(self.client.http.retry.attempts):
            data = der(file_bytes(self.client, file))
            try:
                parse_signature(data)
            except SignatureError:
                continue
            self._signatures[key] = data
            while len(self._signatures) > SIGNATURES_KEPT:
                self._signatures.popitem(last=False)
            return data
        raise TransientError(
            f"event {event.event_id}: the counterparty's signature file is not CMS",
            provider="sbis",
        )


__all__ = ["SIGNATURES_KEPT", "EventReader", "der", "entry_of"]
