"""The workflow's signature check: verify, then match the counterparty.

``Bridge(store, signature_check=SignatureChecker(store, trust_store="roots/"))``
verifies every incoming counterparty signature against the stored document and
the exchange's counterparty before the exchange may become ``signed``. The
verdict (``Verdict.to_dict()``) is stored with the signature and carried by the
event; a verdict that is not ``ok`` keeps the exchange from ``signed`` and
flags it.

When the counterparty signed through an employee, pass the МЧД (or the chain)
the operator delivered with the signature, and the operator's own verdict on it
when it reports one: ``checker(exchange, signature, powers_of_attorney=[xml],
operator_status=diadoc_status("IsValid"))``. The policy of required powers comes
from ``mchd.required_powers.<document kind>`` unless one is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ..models import Exchange
from .authority import OperatorPoaStatus, PowersPolicy
from .trust import TrustStore
from .verify import At, Verifier

if TYPE_CHECKING:
    from ..mchd.model import PowerOfAttorney
    from ..store import Store

ContentLoader = Callable[[Exchange], Iterable[bytes]]


class SignatureChecker:
    """Callable ``(exchange, signature) -> verdict dict`` for ``Bridge(signature_check=...)``."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        trust_store: TrustStore | str | Path | None = None,
        allow_unchecked_chain: bool = False,
        verifier: Verifier | None = None,
        content: ContentLoader | None = None,
        powers_policy: PowersPolicy | None = None,
        at: At | None = None,
    ) -> None:
        if store is None and content is None:
            raise ConfigurationError("signature checker needs the store or a content loader")
        self._store = store
        self._content = content
        self.verifier = verifier or Verifier(
            trust_store,
            allow_unchecked_chain=allow_unchecked_chain,
            powers_policy=powers_policy or PowersPolicy.from_settings(),
            at=at,
        )

    def __repr__(self) -> str:
        return f"<SignatureChecker {self.verifier!r}>"

    def _chunks(self, exchange: Exchange) -> Iterable[bytes]:
        if self._content is not None:
            yield from self._content(exchange)
            return
        assert self._store is not None
        with self._store.open_blob(exchange.document.sha256) as fh:
            yield from iter(lambda: fh.read(1 << 20), b"")

    def __call__(
        self,
        exchange: Exchange,
        signature: bytes,
        *,
        powers_of_attorney: Sequence[PowerOfAttorney | bytes] = (),
        operator_status: OperatorPoaStatus | None = None,
        content: bytes | None = None,
    ) -> Mapping[str, Any]:
        """``content``: what the signature covers when it is not the exchange's document
        (a УПД buyer's title, which the buyer signs instead of the seller's file)."""
        verdict = self.verifier.verify(
            signature,
            content if content is not None else self._chunks(exchange),
            counterparty=exchange.counterparty,
            powers_of_attorney=powers_of_attorney,
            document_kind=exchange.document.kind,
            operator_status=operator_status,
        )
        return verdict.to_dict()


__all__ = ["ContentLoader", "SignatureChecker"]
