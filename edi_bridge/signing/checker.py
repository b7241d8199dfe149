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

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ..models import Exchange
from .authority import OperatorPoaStatus, PowersPolicy
from .trust import TrustStore
from .verify import At, Verifier

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from ..mchd.model import PowerOfAttorney
    from ..store import Store

ContentLoader = Callable[[Exchange], Iterable[bytes]]

PRELOAD_SIZE = 1 << 20  # documents up to this size are read ahead for a page's checks
PRELOAD_KEPT = 8 << 20  # and at most this many bytes of them are kept


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
        # Documents read ahead by preload, oldest first, at most PRELOAD_KEPT bytes.
        self._documents: OrderedDict[str, bytes] = OrderedDict()
        self._kept = 0
        self._lock = threading.Lock()
        self.verifier = verifier or Verifier(
            trust_store,
            allow_unchecked_chain=allow_unchecked_chain,
            powers_policy=powers_policy or PowersPolicy.from_settings(),
            at=at,
        )

    def __repr__(self) -> str:
        return f"<SignatureChecker {self.verifier!r}>"

    def preload(self, conn: Connection, exchanges: Iterable[Exchange]) -> None:
        """Read the small documents of ``exchanges`` in one query, for the checks that
        follow (a page of signatures): each would otherwise stream its document with
        a query per chunk. Contents are found by SHA-256, so a kept one never goes stale."""
        if self._content is not None or self._store is None:
            return
        wanted = {
            e.document.sha256
            for e in exchanges
            if 0 < e.document.size <= PRELOAD_SIZE and e.document.sha256 not in self._documents
        }
        if not wanted:
            return
        found = self._store.read_blobs(conn, sorted(wanted))
        with self._lock:
            for sha, data in found.items():
                self._documents[sha] = data
                self._documents.move_to_end(sha)
                self._kept += len(data)
            while self._kept > PRELOAD_KEPT and self._documents:
                self._kept -= len(self._documents.popitem(last=False)[1])

    def _chunks(self, exchange: Exchange) -> Iterable[bytes]:
        if self._content is not None:
            yield from self._content(exchange)
            return
        kept = self._documents.get(exchange.document.sha256)
        if kept is not None:
            yield kept
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
