"""The provider interface every EDI operator adapter implements.

An adapter is small: it turns a :class:`SendRequest` into the operator's
message, reads the operator's change feed one page at a time as
:class:`ProviderEvent` objects, and fetches files back. Everything else
(idempotency bookkeeping, state, retries of whole sends, callbacks) lives in
the provider-neutral :class:`~edi_bridge.workflow.Bridge`.

Capabilities are declared on the class; asking an adapter for something it
lacks raises :class:`~edi_bridge.errors.UnsupportedFeature` naming both.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar

from .errors import UnsupportedFeature
from .lifecycle import ProviderEventKind
from .models import Counterparty, Document

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from .signing import Signer
    from .signing.authority import OperatorPoaStatus
    from .signing.ours import OurPowerOfAttorney


class Capability(enum.StrEnum):
    SEND = "send"
    EVENTS = "events"
    FETCH = "fetch"
    ROUTES = "routes"  # look up a counterparty's boxes by INN/KPP
    FIND_SENT = "find_sent"  # reconcile a send by idempotency key after a crash
    SCENARIOS = "scenarios"  # plays the counterparty (mock and fakes)
    # Annul a signed document: ask for it, and answer the counterparty's request.
    REVOCATION = "revocation"


class ContentSource(abc.ABC):
    """Document content that can be read more than once, in chunks."""

    size: int

    @abc.abstractmethod
    def open(self) -> IO[bytes]: ...

    def read_all(self) -> bytes:
        with self.open() as fh:
            return fh.read()

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        with self.open() as fh:
            yield from iter(lambda: fh.read(size), b"")


@dataclasses.dataclass(frozen=True)
class Formalized:
    """A document in a format the operator reads itself (a УПД), not just a file."""

    kind: str  # "upd"
    function: str  # УПД: "СЧФДОП" or "ДОП" (empty when the document does not say)
    format_version: str  # "5.03"


@dataclasses.dataclass(frozen=True)
class SendRequest:
    """Everything an adapter needs to send one document for signature.

    Operator-specific wire details (a Diadoc ``TypeNamedId``, say) are the
    adapter's to derive from these fields.
    """

    exchange_id: str
    idempotency_key: str
    counterparty: Counterparty
    document: Document
    content: ContentSource
    signature: bytes  # our detached CMS (DER) over the content
    scenario: str | None = None  # only for providers with Capability.SCENARIOS
    need_recipient_signature: bool = True  # the counterparty is asked to sign
    formalized: Formalized | None = None  # derived from the stored document
    # Our МЧД, checked against our signer before anything was stored; None: the head signs.
    power_of_attorney: OurPowerOfAttorney | None = None


@dataclasses.dataclass(frozen=True)
class SendResult:
    """Where the operator put the document; ``ref`` keys are adapter-specific."""

    ref: Mapping[str, str]
    document_id: str  # the operator's id used to match later events
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ProviderEvent:
    """One normalized change reported by an operator."""

    event_id: str  # unique at the operator: applying the same id twice is a no-op
    kind: ProviderEventKind
    document_id: str  # matches SendResult.document_id
    at: dt.datetime
    reason: str | None = None
    signature: bytes | None = None  # the counterparty's detached CMS, when signed
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    # With the signature: the МЧД (EMCHD_1 XML, a chain: the original first) an employee
    # signed under, and the operator's own verdict on it, when it reports one.
    powers_of_attorney: tuple[bytes, ...] = ()
    operator_status: OperatorPoaStatus | None = None
    # Files the event carries, kept with the exchange: a rejection's or revocation's signed
    # XML, and (role ``buyer_title``) the file of the counterparty's own that its signature
    # covers rather than our document (a УПД buyer's title, ON_NSCHFDOPPOK).
    files: tuple[EventFile, ...] = ()

    @property
    def signed_file(self) -> EventFile | None:
        """The file the counterparty's signature covers when it is not our document (the
        signature is checked against it and it is kept beside it); None: our document."""
        return next((f for f in self.files if f.role == BUYER_TITLE), None)


BUYER_TITLE = "buyer_title"  # EventFile.role of the file a counterparty's signature covers


@dataclasses.dataclass(frozen=True)
class EventFile:
    """A file an event carries, kept with the exchange under ``role``.

    ``suffix`` ends its stored name (``rejection.xml``: ``<our file>.rejection.xml``), or
    ``name`` is that name whole when the operator gives one; ``summary`` is what the
    adapter read from it (a buyer's title: signer, acceptance date, disagreements), shown
    in ``status``.
    """

    role: str
    suffix: str
    content: bytes
    name: str | None = None
    summary: Mapping[str, Any] | None = None

    def stored_name(self, our_file: str) -> str:
        """Its name among the exchange's files, beside ``our_file``."""
        return self.name or f"{our_file}.{self.suffix}"


@dataclasses.dataclass(frozen=True)
class RevocationRequest:
    """Ask to annul, or answer the counterparty's request to annul, a signed document.

    ``operation_key`` is stable per exchange and action, so the same call made twice (a
    retry, a second command) is one request at the operator.
    """

    exchange_id: str
    ref: Mapping[str, str]  # SendResult.ref, as stored
    document_id: str
    operation_key: str
    signer: Signer
    reason: str | None = None
    # Our МЧД when an employee signs (as for sends); None: the head signs.
    power_of_attorney: OurPowerOfAttorney | None = None


@dataclasses.dataclass(frozen=True)
class UnreadableEvent:
    """An operator event the adapter could not turn into a :class:`ProviderEvent`.

    The feed quarantines it (``raw`` kept, secrets masked) and moves on; an adapter
    with :meth:`Provider.read_event` can read ``raw`` again when a person re-applies it.
    """

    event_id: str
    reason: str
    raw: Mapping[str, Any]
    document_id: str | None = None


@dataclasses.dataclass(frozen=True)
class EventPage:
    """One page of the change feed; ``cursor`` resumes after this page."""

    events: Sequence[ProviderEvent]
    cursor: str | None
    has_more: bool
    unreadable: Sequence[UnreadableEvent] = ()


@dataclasses.dataclass(frozen=True)
class FetchedFile:
    """A file fetched back from the operator.

    Large files come with ``stream`` (a callable returning an iterator of
    chunks, read once) and an empty ``content``, so they never sit in memory
    whole; :meth:`chunks` reads either kind.
    """

    role: str  # "document", "our_signature", "counterparty_signature", "receipt"
    file_name: str
    content: bytes
    stream: Callable[[], Iterator[bytes]] | None = None

    def chunks(self) -> Iterator[bytes]:
        if self.stream is not None:
            yield from self.stream()
        else:
            yield self.content


@dataclasses.dataclass(frozen=True)
class ProviderContext:
    """What the Bridge hands an adapter when it builds one."""

    config: Mapping[str, str]
    signer: Signer | None = None
    engine: Engine | None = None  # the store's engine, for adapters that keep state (mock)
    work_dir: Path | None = None
    # Our МЧД for every signature the adapter makes itself (receipts, rejections,
    # revocations): None when the signer is our head; ValidationError when it cannot be right.
    power_of_attorney: Callable[[], OurPowerOfAttorney | None] | None = None


class Provider(abc.ABC):
    """Base of EDI operator adapters.

    Subclasses set ``name`` and ``capabilities`` and override the methods of
    the capabilities they declare. The defaults raise UnsupportedFeature.
    """

    name: ClassVar[str]
    operator: ClassVar[str | None] = None  # the EdiRoute.operator this adapter serves
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    # The keys of its settings section ("doc_type_*" for a family); explicit settings
    # outside them are refused naming the closest one. None: not declared, not checked.
    settings_keys: ClassVar[frozenset[str] | None] = None
    # False: the adapter cannot attach our МЧД, so a send that needs one is refused
    # before anything is stored rather than sent without it.
    carries_power_of_attorney: ClassVar[bool] = True

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @property
    def endpoint(self) -> str | None:
        """The operator's base URL (``settings.base_url``); None for an in-process adapter."""
        url = getattr(getattr(self, "settings", None), "base_url", None)
        return url if isinstance(url, str) else None

    def _unsupported(self, feature: Capability | str) -> UnsupportedFeature:
        return UnsupportedFeature(self.name, str(feature))

    def supports(self, feature: Capability) -> bool:
        return feature in self.capabilities

    @property
    def cursor_scope(self) -> str:
        """Names the event feed this instance reads (one per box)."""
        return self.name

    def check(self, counterparty: Counterparty, document: Document) -> None:  # noqa: B027
        """Refuse, before anything is stored, what this operator cannot take.

        Raises ValidationError naming the field and the rule; the default accepts all.
        """

    def send(self, request: SendRequest) -> SendResult:
        raise self._unsupported(Capability.SEND)

    def find_sent(self, request: SendRequest) -> SendResult | None:
        """After a crash: did a send with this idempotency key reach the operator?"""
        raise self._unsupported(Capability.FIND_SENT)

    def poll(self, cursor: str | None) -> EventPage:
        """Read the page of changes after ``cursor`` (``None``: from the start)."""
        raise self._unsupported(Capability.EVENTS)

    def read_event(self, raw: Mapping[str, Any]) -> Sequence[ProviderEvent]:
        """Read again an event reported in :attr:`EventPage.unreadable` (its ``raw``).

        Used when a person re-applies a quarantined event; the default cannot.
        """
        raise self._unsupported("read_event")

    def fetch(self, ref: Mapping[str, str]) -> list[FetchedFile]:
        raise self._unsupported(Capability.FETCH)

    def request_revocation(self, request: RevocationRequest) -> None:
        """Ask the counterparty to annul a document both sides signed (Capability.REVOCATION)."""
        raise self._unsupported(Capability.REVOCATION)

    def accept_revocation(self, request: RevocationRequest) -> None:
        """Accept the counterparty's request to annul: the document is revoked."""
        raise self._unsupported(Capability.REVOCATION)

    def reject_revocation(self, request: RevocationRequest) -> None:
        """Refuse the counterparty's request to annul (``reason`` says why)."""
        raise self._unsupported(Capability.REVOCATION)

    def awaiting_revocation(self, refs: Sequence[Mapping[str, str]]) -> None:  # noqa: B027
        """Before a poll: the references of exchanges with an open revocation request. An
        adapter that must look up what an answer answers (Diadoc) looks only at these; the
        default needs nothing."""

    def can_receive(self, counterparty: Counterparty) -> bool:
        """Whether the counterparty has a box here (Capability.ROUTES)."""
        raise self._unsupported(Capability.ROUTES)

    def ping(self) -> None:
        """Check that the operator answers and accepts our credentials (``edi-bridge doctor``).

        Raises a ProviderError (AuthError: credentials refused; TransientError: unreachable).
        The default reads the first page of the change feed, which needs both, and moves no
        stored cursor; an adapter with a cheaper authenticated call should override it.
        """
        if not self.supports(Capability.EVENTS):
            raise self._unsupported("ping")
        self.poll(None)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the default has none."""


__all__ = [
    "BUYER_TITLE",
    "Capability",
    "ContentSource",
    "EventFile",
    "EventPage",
    "FetchedFile",
    "Provider",
    "ProviderContext",
    "ProviderEvent",
    "ProviderEventKind",
    "RevocationRequest",
    "SendRequest",
    "SendResult",
    "UnreadableEvent",
]
