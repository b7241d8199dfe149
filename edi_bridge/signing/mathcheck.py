"""The mathematics of one SignerInfo: which certificate, digests, signature value.

:func:`check_signer_math` proves that ``cert``'s key signed exactly these
signed attributes and that they name this document and this certificate. It
raises :class:`Invalid` with the reason; validity periods and chains are the
verifier's business.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from asn1crypto import x509

from ..errors import SignatureError
from .algorithms import digest
from .parse import SHA1, SignerInfoData
from .pubkey import hash_for, verify_digest


class Invalid(Exception):
    """The signature is bad; ``reason`` says why, ``cert`` is the signer's when found."""

    def __init__(
        self, reason: str, *, cert: x509.Certificate | None = None, chain: str = "not_checked"
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cert = cert
        self.chain = chain


def find_certificate(
    signer: SignerInfoData, certs: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    for cert in certs:
        if signer.key_id is not None:
            if cert.key_identifier == signer.key_id:
                return cert
        elif cert.serial_number == signer.serial and _same_name(cert.issuer, signer.issuer):
            return cert
    return None


def _same_name(a: x509.Name, b: x509.Name | None) -> bool:
    # Identical DER is the usual case and is cheap; asn1crypto's comparison (LDAP string
    # preparation of every value) is kept for names encoded differently.
    return b is not None and (bool(a.dump() == b.dump()) or bool(a == b))


def _check_certificate_hashes(signer: SignerInfoData, cert: x509.Certificate) -> None:
    der = bytes(cert.dump())
    for oid, expected in signer.cert_hashes:
        if oid == SHA1:  # ESSCertID (signingCertificate v1) is SHA-1 only
            actual = hashlib.sha1(der, usedforsecurity=False).digest()
        else:
            try:
                actual = digest(oid, der)
            except SignatureError:
                raise Invalid(f"signingCertificateV2 uses digest {oid}", cert=cert) from None
        if not hmac.compare_digest(actual, expected):
            raise Invalid("the certificate is not the one named in signingCertificateV2", cert=cert)


def check_signer_math(
    signer: SignerInfoData,
    cert: x509.Certificate,
    digests: dict[str, bytes],
    warnings: list[str],
) -> None:
    spki = bytes(cert["tbs_certificate"]["subject_public_key_info"].dump())
    try:
        sig_digest_oid = hash_for(signer.signature_oid, signer.digest_oid)
    except SignatureError as exc:
        raise Invalid(str(exc), cert=cert) from None
    content_digest = digests[signer.digest_oid]
    if signer.signed_attrs_der is None:
        warnings.append("no signed attributes: not CAdES-BES")
        signed_digest = content_digest
    else:
        if signer.message_digest is None:
            raise Invalid("signed attributes lack messageDigest", cert=cert)
        if signer.content_type is None:
            raise Invalid("signed attributes lack contentType", cert=cert)
        if not hmac.compare_digest(signer.message_digest, content_digest):
            raise Invalid(
                "the document does not match the signature (messageDigest differs)", cert=cert
            )
        if not signer.cert_hashes:
            warnings.append("no signingCertificateV2 attribute: not CAdES-BES")
        else:
            _check_certificate_hashes(signer, cert)
        signed_digest = digest(sig_digest_oid, signer.signed_attrs_der)
    try:
        good = verify_digest(
            spki, signer.signature_oid, sig_digest_oid, signer.signature, signed_digest
        )
    except SignatureError as exc:
        raise Invalid(str(exc), cert=cert) from None
    if not good:
        raise Invalid("the signature value does not verify with the certificate's key", cert=cert)


__all__ = ["Invalid", "check_signer_math", "find_certificate"]
