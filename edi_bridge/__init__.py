"""edi-bridge: contracts from "agreed" to "signed and archived" across Russian
EDI operators, with durable state, a mock provider and faithful fakes."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    AuthError,
    ConfigurationError,
    Conflict,
    DuplicateRecord,
    EdiBridgeError,
    Forbidden,
    IdempotencyConflict,
    IllegalTransition,
    NotFound,
    NotSent,
    PaymentRequired,
    PollFailed,
    ProviderError,
    ProviderNotFound,
    RateLimited,
    RejectedRequest,
    ResendRefused,
    SignatureError,
    StoreError,
    TransientError,
    UnknownProvider,
    UnsafeInput,
    UnsupportedFeature,
    ValidationError,
)

# Everything else loads on first use, so `edi-bridge --version` and the errors stay cheap
# to import (models, the store and the workflow pull in pydantic and SQLAlchemy).
if TYPE_CHECKING:
    from .models import (
        Channel,
        ClosingDocumentsAddress,
        Contact,
        Counterparty,
        Document,
        DocumentKind,
        EdiRoute,
        Event,
        EventKind,
        Exchange,
        ExchangeStatus,
        HistoryEntry,
        QuarantinedEvent,
        Signatory,
        SignatureRecord,
        allowed_transitions,
        load_counterparty,
        parse_counterparty,
    )
    from .provider import (
        Capability,
        ContentSource,
        EventPage,
        FetchedFile,
        Formalized,
        Provider,
        ProviderContext,
        ProviderEvent,
        ProviderEventKind,
        SendRequest,
        SendResult,
        UnreadableEvent,
    )
    from .registry import Registry, default_registry, register
    from .retry import RetryPolicy
    from .signing import Signer, SoftwareSigner
    from .store import Store
    from .workflow import Bridge

_LAZY = {
    "Channel": "models",
    "ClosingDocumentsAddress": "models",
    "Contact": "models",
    "Counterparty": "models",
    "Document": "models",
    "DocumentKind": "models",
    "EdiRoute": "models",
    "Event": "models",
    "EventKind": "models",
    "Exchange": "models",
    "ExchangeStatus": "models",
    "HistoryEntry": "models",
    "QuarantinedEvent": "models",
    "Signatory": "models",
    "SignatureRecord": "models",
    "allowed_transitions": "models",
    "load_counterparty": "models",
    "parse_counterparty": "models",
    "Capability": "provider",
    "ContentSource": "provider",
    "EventPage": "provider",
    "FetchedFile": "provider",
    "Formalized": "provider",
    "Provider": "provider",
    "ProviderContext": "provider",
    "ProviderEvent": "provider",
    "ProviderEventKind": "provider",
    "SendRequest": "provider",
    "SendResult": "provider",
    "UnreadableEvent": "provider",
    "Registry": "registry",
    "default_registry": "registry",
    "register": "registry",
    "RetryPolicy": "retry",
    "Signer": "signing",
    "SoftwareSigner": "signing",
    "Store": "store",
    "Bridge": "workflow",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'edi_bridge' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "Bridge",
    "Capability",
    "Channel",
    "ClosingDocumentsAddress",
    "ConfigurationError",
    "Conflict",
    "Contact",
    "ContentSource",
    "Counterparty",
    "Document",
    "DocumentKind",
    "DuplicateRecord",
    "EdiBridgeError",
    "EdiRoute",
    "Event",
    "EventKind",
    "EventPage",
    "Exchange",
    "ExchangeStatus",
    "FetchedFile",
    "Forbidden",
    "Formalized",
    "HistoryEntry",
    "IdempotencyConflict",
    "IllegalTransition",
    "NotFound",
    "NotSent",
    "PaymentRequired",
    "PollFailed",
    "Provider",
    "ProviderContext",
    "ProviderError",
    "ProviderEvent",
    "ProviderEventKind",
    "ProviderNotFound",
    "QuarantinedEvent",
    "RateLimited",
    "Registry",
    "RejectedRequest",
    "ResendRefused",
    "RetryPolicy",
    "SendRequest",
    "SendResult",
    "Signatory",
    "SignatureError",
    "SignatureRecord",
    "Signer",
    "SoftwareSigner",
    "Store",
    "StoreError",
    "TransientError",
    "UnknownProvider",
    "UnreadableEvent",
    "UnsafeInput",
    "UnsupportedFeature",
    "ValidationError",
    "__version__",
    "allowed_transitions",
    "default_registry",
    "load_counterparty",
    "parse_counterparty",
    "register",
]
