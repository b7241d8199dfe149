"""The library's exceptions.

Every error edi-bridge raises derives from :class:`EdiBridgeError`; adapters map
their transport's exceptions into this tree at their boundary, so a backend can
catch by meaning instead of by HTTP library::

    EdiBridgeError
    ├── ValidationError            bad input: names the field and the rule
    ├── ConfigurationError         missing or contradictory settings
    ├── IllegalTransition          a status change the lifecycle forbids
    ├── NotFound                   an exchange (or other record) that does not exist
    ├── IdempotencyConflict        same key, different document or counterparty
    ├── ResendRefused              resend of a signed or in-flight exchange
    ├── UnsupportedFeature         provider lacks a capability
    ├── UnknownProvider            no adapter registered under that name
    ├── SignatureError             signing failed or a CMS structure is malformed
    ├── NotSent                    a strict send that did not reach the operator
    ├── UnsafeInput                hostile XML, path traversal, oversize content
    ├── StoreError                 the database failed: unreachable, damaged, read-only, locked
    │   └── DuplicateRecord        a row with that key exists (another process wrote it first)
    ├── PollFailed                 some feeds or shipments failed; the others were applied
    └── ProviderError              anything an operator or carrier answered
        ├── TransientError         worth retrying: 5xx, timeouts, dropped connections
        │   └── RateLimited        429, with ``retry_after`` seconds when given
        ├── AuthError              401 after one re-authentication
        ├── Forbidden              403
        ├── PaymentRequired        402 (no API subscription)
        ├── ProviderNotFound       404 at the operator
        ├── Conflict               409 (duplicate, counterparty refuses, limits)
        └── RejectedRequest        other 4xx: the operator refused the request

Messages never carry secrets: adapters build them from status codes, error
codes and operator text, never from request headers or bodies.
"""

from __future__ import annotations


class EdiBridgeError(Exception):
    """Base of every edi-bridge error."""


class ValidationError(EdiBridgeError, ValueError):
    """Input broke a rule; ``field`` names where, ``rule`` says what."""

    def __init__(
        self, field: str, rule: str, *, problems: list[tuple[str, str]] | None = None
    ) -> None:
        self.field = field
        self.rule = rule
        self.problems = problems or [(field, rule)]
        super().__init__("; ".join(f"{f}: {r}" for f, r in self.problems))


class ConfigurationError(EdiBridgeError):
    """Settings are missing or contradict each other."""


class IllegalTransition(EdiBridgeError):
    """A status change that the lifecycle does not allow."""

    def __init__(self, exchange_id: str, current: str, target: str) -> None:
        # str(): a status enum reads as its value, never as its repr.
        self.exchange_id = exchange_id
        self.current = current = str(current)
        self.target = target = str(target)
        super().__init__(f"exchange {exchange_id}: cannot go from {current!r} to {target!r}")


class NotFound(EdiBridgeError, LookupError):
    """A record that does not exist."""


class IdempotencyConflict(EdiBridgeError):
    """The idempotency key was used before for a different intent."""


class ResendRefused(EdiBridgeError):
    """Resend was asked for an exchange that must not be sent again."""


class UnsupportedFeature(EdiBridgeError):
    """The provider does not implement a feature that was asked of it."""

    def __init__(self, provider: str, feature: str) -> None:
        self.provider = provider
        self.feature = feature
        super().__init__(f"provider {provider!r} does not support {feature!r}")


class UnknownProvider(EdiBridgeError, LookupError):
    """No adapter is registered under the name."""


class SignatureError(EdiBridgeError):
    """Signing failed, or a signature structure could not be read."""


class NotSent(EdiBridgeError):
    """``Bridge.send(..., strict=True)`` recorded the exchange but the operator did not take it.

    ``status`` is ``queued`` (unreachable or busy: a later poll retries it) or ``failed``
    (refused: fix the cause, then resend); ``reason`` is the operator's or transport's
    words. The exchange stays recorded under ``exchange_id``.
    """

    def __init__(self, exchange_id: str, status: str, reason: str | None) -> None:
        self.exchange_id = exchange_id
        self.status = status
        self.reason = reason
        super().__init__(f"exchange {exchange_id} was not sent ({status}): {reason or 'unknown'}")


class UnsafeInput(EdiBridgeError):
    """Untrusted input was refused: entities, traversal, oversize, …"""


class StoreError(EdiBridgeError):
    """The database failed; the message is one line and never carries a DSN password.

    The driver's own exception stays reachable as ``__cause__``.
    """


class DuplicateRecord(StoreError):
    """A row with the same unique key is already there (another writer came first)."""


class PollFailed(EdiBridgeError):
    """A poll where some units of work failed while the others were applied.

    ``failures`` maps each unit (``"diadoc"``, ``"carrier russianpost RA1"``) to
    its one-line reason, ``errors`` to the exception when there was one. The
    changes the poll did record are committed and handed to callbacks already.
    """

    def __init__(
        self, failures: dict[str, str], errors: dict[str, BaseException] | None = None
    ) -> None:
        self.failures = dict(failures)
        self.errors = dict(errors or {})
        super().__init__("; ".join(f"{unit}: {why}" for unit, why in self.failures.items()))

    @staticmethod
    def reason(exc: BaseException) -> str:
        """One short line for a unit's failure: the exception's type and first line."""
        lines = f"{type(exc).__name__}: {exc}".splitlines()
        return lines[0][:500] if lines else type(exc).__name__


class ProviderError(EdiBridgeError):
    """An operator or carrier answered with an error (or did not answer)."""

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        self.provider = provider
        self.status = status
        self.code = code
        parts = [p for p in (provider, str(status) if status else "", code or "") if p]
        prefix = f"[{' '.join(parts)}] " if parts else ""
        super().__init__(f"{prefix}{message}")


class TransientError(ProviderError):
    """Worth retrying later: server errors, timeouts, dropped connections."""


class RateLimited(TransientError):
    """The operator asked us to slow down."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        provider: str = "",
        status: int | None = 429,
        code: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, provider=provider, status=status, code=code)


class AuthError(ProviderError):
    """Credentials refused, even after one re-authentication."""


class Forbidden(ProviderError):
    """The account may not do this."""


class PaymentRequired(ProviderError):
    """The account has no API subscription."""


class ProviderNotFound(ProviderError):
    """The operator does not know the object asked for."""


class Conflict(ProviderError):
    """Duplicate, refused by the counterparty, or over a limit."""


class RejectedRequest(ProviderError):
    """The operator refused the request as malformed or not allowed."""


__all__ = [
    "AuthError",
    "ConfigurationError",
    "Conflict",
    "DuplicateRecord",
    "EdiBridgeError",
    "Forbidden",
    "IdempotencyConflict",
    "IllegalTransition",
    "NotFound",
    "NotSent",
    "PaymentRequired",
    "PollFailed",
    "ProviderError",
    "ProviderNotFound",
    "RateLimited",
    "RejectedRequest",
    "ResendRefused",
    "SignatureError",
    "StoreError",
    "TransientError",
    "UnknownProvider",
    "UnsafeInput",
    "UnsupportedFeature",
    "ValidationError",
]
