"""The history's cause for a send an operator refused."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import AuthError, Forbidden, PaymentRequired, ProviderError
from ..provider import ProviderContext

# The settings that identify us to an operator, in the order a person would check them.
_CREDENTIAL_KEYS = (
    "login",
    "password",
    "api_client_id",
    "client_id",
    "client_secret",
    "refresh_token",
    "app_client_id",
    "app_secret",
    "secret_key",
)


def failure_cause(name: str, exc: ProviderError, context: ProviderContext | None) -> str:
    """The history's cause for a refused send: our own faults are named as ours."""
    settings: Mapping[str, str] = context.config if context is not None else {}
    if isinstance(exc, AuthError):
        keys = [f"{name}.{k}" for k in _CREDENTIAL_KEYS if settings.get(k)]
        where = ", ".join(keys) if keys else f"the {name}.* credential settings"
        return f"{name} rejected our credentials: check {where}"
    if isinstance(exc, Forbidden):
        return f"{name} does not allow our account to send this: check the account's rights"
    if isinstance(exc, PaymentRequired):
        return f"{name} says our account has no API subscription"
    return f"{name} refused the send"


__all__ = ["failure_cause"]
