"""The workflow: the :class:`Bridge` facade and the parts it hands work to
(sending, feeds, archive, outbox). None of the parts imports the facade."""

from ..transitions import SignatureCheck
from .bridge import DEFAULT_LEASE_SECONDS, Bridge, providers_info
from .outbox import Callback
from .sending import default_idempotency_key

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "Bridge",
    "Callback",
    "SignatureCheck",
    "default_idempotency_key",
    "providers_info",
]
