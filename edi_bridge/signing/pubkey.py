"""Checking one signature value with a certificate's public key.

RSA (PKCS#1 v1.5) and ECDSA go through ``cryptography`` on a precomputed
digest; GOST R 34.10-2012 through :mod:`.gost` with its byte-order rules.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from ..errors import SignatureError
from .algorithms import SHA256, SHA384, SHA512, SIGNATURE_ALGORITHMS
from .gost import GostPublicKey

_SHA: dict[str, hashes.HashAlgorithm] = {
    SHA256: hashes.SHA256(),
    SHA384: hashes.SHA384(),
    SHA512: hashes.SHA512(),
}


def hash_for(signature_oid: str, digest_oid: str) -> str:
    """The digest the signature is computed over (implied by the OID, else given)."""
    try:
        _, implied = SIGNATURE_ALGORITHMS[signature_oid]
    except KeyError:
        raise SignatureError(f"signature algorithm {signature_oid} is not supported") from None
    if implied is not None and implied != digest_oid:
        raise SignatureError(
            f"digest {digest_oid} does not go with signature algorithm {signature_oid}"
        )
    return digest_oid


def verify_digest(
    spki_der: bytes, signature_oid: str, digest_oid: str, signature: bytes, data_digest: bytes
) -> bool:
    """True when ``signature`` is valid over ``data_digest`` (made with ``digest_oid``).

    Raises SignatureError for algorithms that are unsupported or do not fit the key.
    """
    family, _ = SIGNATURE_ALGORITHMS.get(signature_oid, ("", None))
    if not family:
        raise SignatureError(f"signature algorithm {signature_oid} is not supported")
    if family.startswith("gost"):
        key = GostPublicKey.from_spki(spki_der)
        if family != f"gost{key.bits}":
            raise SignatureError(f"signature algorithm {signature_oid} does not fit the key")
        return key.verify(signature, data_digest)
    if digest_oid not in _SHA:
        raise SignatureError(f"digest {digest_oid} does not go with {family.upper()}")
    try:
        public = serialization.load_der_public_key(spki_der)
    except (ValueError, UnsupportedAlgorithm):
        raise SignatureError("certificate public key cannot be read") from None
    prehashed = utils.Prehashed(_SHA[digest_oid])
    try:
        if family == "rsa":
            if not isinstance(public, rsa.RSAPublicKey):
                raise SignatureError("RSA signature but the certificate key is not RSA")
            public.verify(signature, data_digest, padding.PKCS1v15(), prehashed)
        else:
            if not isinstance(public, ec.EllipticCurvePublicKey):
                raise SignatureError("ECDSA signature but the certificate key is not EC")
            public.verify(signature, data_digest, ec.ECDSA(prehashed))
    except InvalidSignature:
        return False
    except ValueError:  # wrong digest length for the prehash
        return False
    return True


__all__ = ["hash_for", "verify_digest"]
