"""Trust store and certificate chain checking.

A trust store is a directory of certificates (``.pem``, ``.crt``, ``.cer``,
``.der``) or one PEM bundle: the roots (for qualified signatures, the
accredited CAs' roots) and any intermediates. A chain is accepted when every
link is signed by the next, every certificate is within its validity period at
the checking time, every issuer is a CA, and it ends at a certificate of the
store. Revocation (CRL/OCSP) is not checked here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

from asn1crypto import pem, x509

from ..errors import ConfigurationError, SignatureError
from .algorithms import SIGNATURE_ALGORITHMS, digest
from .pubkey import hash_for, verify_digest

MAX_DEPTH = 8
_SUFFIXES = {".pem", ".crt", ".cer", ".der"}


class ChainError(SignatureError):
    """The certificate chain could not be built or checked."""


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Certificates from PEM (one or many) or a single DER certificate.

    ``TRUSTED CERTIFICATE`` blocks (OpenSSL's: the certificate followed by its
    trust settings) are read as the certificate; the trust settings are ignored.
    """
    try:
        if pem.detect(data):
            certs = []
            for kind, _, der in pem.unarmor(data, multiple=True):
                if kind == "CERTIFICATE":
                    certs.append(x509.Certificate.load(der))
                elif kind == "TRUSTED CERTIFICATE":
                    # Re-encode only the leading certificate, dropping the trust settings.
                    certs.append(x509.Certificate.load(x509.Certificate.load(der).dump()))
            return certs
        return [x509.Certificate.load(data, strict=True)]
    except Exception as exc:
        raise SignatureError(f"not a certificate: {type(exc).__name__}") from None


class TrustStore:
    """Certificates trusted as chain anchors (plus intermediates to link through)."""

    def __init__(self, certificates: Iterable[x509.Certificate]) -> None:
        self.certificates = list(certificates)
        self._anchors = {bytes(c.dump()) for c in self.certificates}

    @classmethod
    def load(cls, path: str | Path) -> TrustStore:
        where = Path(path)
        if where.is_dir():
            files = sorted(p for p in where.iterdir() if p.suffix.lower() in _SUFFIXES)
        elif where.is_file():
            files = [where]
        else:
            raise ConfigurationError(f"trust store {where.name}: no such file or directory")
        certs: list[x509.Certificate] = []
        for file in files:
            try:
                certs.extend(load_certificates(file.read_bytes()))
            except SignatureError as exc:
                raise ConfigurationError(f"trust store file {file.name}: {exc}") from None
        if not certs:
            raise ConfigurationError(f"trust store {where.name} holds no certificate")
        return cls(certs)

    def __len__(self) -> int:
        return len(self.certificates)

    def __repr__(self) -> str:
        return f"<TrustStore {len(self)} certificates>"

    def is_anchor(self, cert: x509.Certificate) -> bool:
        return bytes(cert.dump()) in self._anchors

    def validate(
        self,
        leaf: x509.Certificate,
        intermediates: Sequence[x509.Certificate] = (),
        *,
        at: dt.datetime | None = None,
    ) -> list[x509.Certificate]:
        """The chain from ``leaf`` to an anchor; raises ChainError saying why not."""
        when = at or dt.datetime.now(dt.UTC)
        pool = [*self.certificates, *intermediates]
        chain = [leaf]
        current = leaf
        check_validity(current, when)
        for _ in range(MAX_DEPTH):
            if self.is_anchor(current):
                return chain
            candidates = [
                c for c in pool if c.subject == current.issuer and c.dump() != current.dump()
            ]
            issuer = next((c for c in candidates if signed_by(current, c)), None)
            if issuer is None:
                if current.self_signed != "no" and signed_by(current, current):
                    raise ChainError("certificate is self-signed and not in the trust store")
                raise ChainError(f"no trusted issuer found for {_cn(current)}")
            check_validity(issuer, when)
            if not issuer.ca:
                raise ChainError(f"issuer {_cn(issuer)} is not a certificate authority")
            chain.append(issuer)
            current = issuer
        raise ChainError("certificate chain is too long")


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s key made ``cert``'s signature."""
    try:
        sig_oid = cert["signature_algorithm"]["algorithm"].dotted
        _, implied = SIGNATURE_ALGORITHMS.get(sig_oid, ("", None))
        if implied is None:
            return False
        digest_oid = hash_for(sig_oid, implied)
        tbs = bytes(cert["tbs_certificate"].dump())
        return verify_digest(
            bytes(issuer["tbs_certificate"]["subject_public_key_info"].dump()),
            sig_oid,
            digest_oid,
            bytes(cert["signature_value"].native),
            digest(digest_oid, tbs),
        )
    except SignatureError:
        return False


def check_validity(cert: x509.Certificate, when: dt.datetime) -> None:
    validity = cert["tbs_certificate"]["validity"]
    start, end = validity["not_before"].native, validity["not_after"].native
    if not start <= when <= end:
        raise ChainError(
            f"certificate {_cn(cert)} is not valid at {when.isoformat()} "
            f"(valid {start.isoformat()} to {end.isoformat()})"
        )


def _cn(cert: x509.Certificate) -> str:
    try:
        return repr(cert.subject.native.get("common_name") or cert.subject.human_friendly)
    except Exception:  # unusual subjects: fall back to the serial number
        return f"serial {cert.serial_number:x}"


__all__ = ["ChainError", "TrustStore", "check_validity", "load_certificates", "signed_by"]
