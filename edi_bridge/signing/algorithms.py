"""Algorithm identifiers and digests used in EDI signatures.

Digests are chosen by OID (SHA-2 from hashlib, Streebog from gostcrypto, an
optional extra). Unknown or weak algorithms are refused with a
:class:`~edi_bridge.errors.SignatureError` naming the OID, so a verdict can say
why a signature was not accepted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, Protocol

from ..errors import SignatureError


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


# Digests
SHA256 = "2.16.840.1.101.3.4.2.1"
SHA384 = "2.16.840.1.101.3.4.2.2"
SHA512 = "2.16.840.1.101.3.4.2.3"
STREEBOG256 = "1.2.643.7.1.1.2.2"
STREEBOG512 = "1.2.643.7.1.1.2.3"

# Keys
RSA_KEY = "1.2.840.113549.1.1.1"
EC_KEY = "1.2.840.10045.2.1"
GOST256_KEY = "1.2.643.7.1.1.1.1"
GOST512_KEY = "1.2.643.7.1.1.1.2"

# Signatures
RSA_SHA256 = "1.2.840.113549.1.1.11"
RSA_SHA384 = "1.2.840.113549.1.1.12"
RSA_SHA512 = "1.2.840.113549.1.1.13"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"
ECDSA_SHA384 = "1.2.840.10045.4.3.3"
ECDSA_SHA512 = "1.2.840.10045.4.3.4"
GOST256_SIG = "1.2.643.7.1.1.3.2"
GOST512_SIG = "1.2.643.7.1.1.3.3"

DIGEST_NAMES = {
    SHA256: "sha256",
    SHA384: "sha384",
    SHA512: "sha512",
    STREEBOG256: "streebog256",
    STREEBOG512: "streebog512",
}

# signature OID -> (family, digest OID it implies or None when the SignerInfo's
# digestAlgorithm decides). CryptoPro writes the key OID where the signature
# OID belongs, so key OIDs are accepted in that place too.
SIGNATURE_ALGORITHMS: dict[str, tuple[str, str | None]] = {
    RSA_KEY: ("rsa", None),
    RSA_SHA256: ("rsa", SHA256),
    RSA_SHA384: ("rsa", SHA384),
    RSA_SHA512: ("rsa", SHA512),
    EC_KEY: ("ecdsa", None),
    ECDSA_SHA256: ("ecdsa", SHA256),
    ECDSA_SHA384: ("ecdsa", SHA384),
    ECDSA_SHA512: ("ecdsa", SHA512),
    GOST256_SIG: ("gost256", STREEBOG256),
    GOST512_SIG: ("gost512", STREEBOG512),
    GOST256_KEY: ("gost256", STREEBOG256),
    GOST512_KEY: ("gost512", STREEBOG512),
}


def digest_name(oid: str) -> str:
    try:
        return DIGEST_NAMES[oid]
    except KeyError:
        raise SignatureError(f"digest algorithm {oid} is not accepted") from None


class _Streebog:
    """hashlib-like wrapper over gostcrypto's Streebog (which wants bytearrays)."""

    def __init__(self, name: str) -> None:
        try:
            from gostcrypto import gosthash
        except ImportError:
            raise SignatureError(
                "Streebog needs the 'gost' extra: pip install 'edi-bridge[gost]'"
            ) from None
        self._h: Any = gosthash.new(name)

    def update(self, data: bytes, /) -> None:
        self._h.update(bytearray(data))

    def digest(self) -> bytes:
        return bytes(self._h.digest())


def new_hash(oid: str) -> Hasher:
    """A fresh hasher for the digest algorithm ``oid``."""
    name = digest_name(oid)
    if name.startswith("streebog"):
        return _Streebog(name)
    return hashlib.new(name)


def digest(oid: str, data: bytes | Iterable[bytes]) -> bytes:
    h = new_hash(oid)
    for chunk in [data] if isinstance(data, bytes) else data:
        h.update(chunk)
    return h.digest()


__all__ = [
    "DIGEST_NAMES",
    "SIGNATURE_ALGORITHMS",
    "Hasher",
    "digest",
    "digest_name",
    "new_hash",
]
