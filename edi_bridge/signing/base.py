"""The signer interface: a detached CAdES-BES CMS over a document's content."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from pathlib import Path

from ..errors import SignatureError
from .algorithms import Hasher
from .cms import detached_signed_data


class Signer(abc.ABC):
    """Produces a detached CMS SignedData (DER) over a document's content."""

    @property
    @abc.abstractmethod
    def certificate(self) -> bytes:
        """The signer's certificate, DER."""

    @abc.abstractmethod
    def sign_stream(self, chunks: Iterable[bytes]) -> bytes:
        """Sign content given as chunks (so large files need not sit in memory)."""

    def sign(self, data: bytes) -> bytes:
        return self.sign_stream([data])

    def sign_file(self, path: str | Path) -> bytes:
        with Path(path).open("rb") as fh:
            return self.sign_stream(iter(lambda: fh.read(1 << 20), b""))

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class DigestSigner(Signer):
    """A signer that hashes the content itself and signs the attributes locally."""

    digest_oid: str
    signature_oid: str

    @abc.abstractmethod
    def _new_hash(self) -> Hasher: ...

    @abc.abstractmethod
    def _sign_attributes(self, der: bytes) -> bytes: ...

    def _cert_hash(self) -> bytes:
        h = self._new_hash()
        h.update(self.certificate)
        return h.digest()

    def sign_stream(self, chunks: Iterable[bytes]) -> bytes:
        h = self._new_hash()
        for chunk in chunks:
            h.update(chunk)
        try:
            return detached_signed_data(
                content_digest=h.digest(),
                cert_der=self.certificate,
                digest_oid=self.digest_oid,
                cert_hash=self._cert_hash(),
                signature_oid=self.signature_oid,
                sign=self._sign_attributes,
            )
        except SignatureError:
            raise
        except Exception as exc:  # asn1crypto and backends raise assorted types
            raise SignatureError(f"signing failed: {type(exc).__name__}") from None


__all__ = ["DigestSigner", "Signer"]
