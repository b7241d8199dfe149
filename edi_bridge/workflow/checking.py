"""The counterparty signature check a Bridge runs unless told not to.

Every EDI provider's incoming signature is checked by default (the mathematics,
the signer against the counterparty, the МЧД when the signer is an employee).
``signing.trust_store`` (``EDI_BRIDGE_SIGNING_TRUST_STORE``) adds the chain; without
it the chain is reported unchecked and ``valid_chain_unchecked`` is accepted, so
the fakes' self-signed counterparties still reach ``signed``.
``signing.check_counterparty=false`` (``EDI_BRIDGE_SIGNING_CHECK_COUNTERPARTY``)
turns the check off; each signature kept meanwhile is marked ``not_checked`` with
the reason, so ``status`` says the check was off for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from .. import config
from ..errors import ConfigurationError
from ..signing import SignatureChecker
from ..store import Store
from ..transitions import NOT_CHECKED, SignatureCheck, not_checked

CHECK_KEY: Final = "signing.check_counterparty"
TRUST_KEY: Final = "signing.trust_store"
OFF_BY_SETTING: Final = f"the counterparty signature check was off ({CHECK_KEY}=false)"
OFF_BY_CALLER: Final = "the counterparty signature check was off (signature_check=None)"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class DefaultCheck:
    def __repr__(self) -> str:
        return "DEFAULT_CHECK"


DEFAULT_CHECK: Final = DefaultCheck()
"""``Bridge(signature_check=...)``'s default: the check the settings describe."""


def check_enabled(settings: Mapping[str, str] | None = None) -> bool:
    """``signing.check_counterparty``: true unless set false; anything else is refused."""
    value = config.SIGNING.read(settings).get("check_counterparty", "").strip().lower()
    if not value or value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{CHECK_KEY} must be true or false (got {value!r})")


def resolve(
    store: Store, settings: Mapping[str, str] | None, given: SignatureCheck | DefaultCheck | None
) -> tuple[SignatureCheck | None, str | None]:
    """The check to run and, when there is none, why (recorded with each signature)."""
    if not isinstance(given, DefaultCheck):
        return given, (None if given is not None else OFF_BY_CALLER)
    if not check_enabled(settings):
        return None, OFF_BY_SETTING
    trust = config.SIGNING.read(settings).get("trust_store", "").strip() or None
    return default_checker(store, trust), None


def default_checker(store: Store, trust_store: str | Path | None) -> SignatureChecker:
    """The check ``Bridge`` and ``reverify`` run: the chain only against a trust store."""
    # No trust store: the chain cannot be checked, and that alone must not hold a contract.
    return SignatureChecker(
        store, trust_store=trust_store, allow_unchecked_chain=trust_store is None
    )


__all__ = [
    "CHECK_KEY",
    "DEFAULT_CHECK",
    "NOT_CHECKED",
    "OFF_BY_CALLER",
    "OFF_BY_SETTING",
    "TRUST_KEY",
    "check_enabled",
    "default_checker",
    "not_checked",
    "resolve",
]
