"""Software RSA/ECDSA signer and throwaway identities with Russian subject attributes.

:class:`SoftwareSigner` signs with an RSA or ECDSA key held in memory (PKCS#12
or PEM). :func:`make_test_identity` makes a throwaway certificate with the
Russian subject attributes, for the mock, the fakes and tests. Keys never
appear in reprs or errors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from ..errors import ConfigurationError
from .algorithms import Hasher
from .base import DigestSigner

OID_INN = "1.2.643.3.131.1.1"
OID_INN_LE = "1.2.643.100.4"
OID_OGRN = "1.2.643.100.1"
OID_SNILS = "1.2.643.100.3"
OID_OGRNIP = "1.2.643.100.5"


PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class SoftwareSigner(DigestSigner):
    """RSA (PKCS#1 v1.5) or ECDSA with SHA-256, key in memory."""

    digest_oid = "2.16.840.1.101.3.4.2.1"  # sha256

    def __init__(self, key: PrivateKey, certificate: x509.Certificate) -> None:
        if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise ConfigurationError("software signer: key must be RSA or ECDSA")
        self._key = key
        self._cert_der = certificate.public_bytes(serialization.Encoding.DER)
        self.signature_oid = (
            "1.2.840.113549.1.1.11"  # sha256WithRSAEncryption
            if isinstance(key, rsa.RSAPrivateKey)
            else "1.2.840.10045.4.3.2"  # ecdsa-with-SHA256
        )

    @property
    def certificate(self) -> bytes:
        return self._cert_der

    def _new_hash(self) -> Hasher:
        return hashlib.sha256()

    def _sign_attributes(self, der: bytes) -> bytes:
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(der, padding.PKCS1v15(), hashes.SHA256())
        return self._key.sign(der, ec.ECDSA(hashes.SHA256()))

    @classmethod
    def from_pkcs12(cls, path: str | Path, password: str | None = None) -> SoftwareSigner:
        try:
            key, cert, _ = pkcs12.load_key_and_certificates(
                Path(path).read_bytes(), password.encode() if password else None
            )
        except (OSError, ValueError) as exc:
            # The library's message does not include the password; keep only its kind.
            raise ConfigurationError(
                f"cannot load PKCS#12 {Path(path).name}: {type(exc).__name__}"
            ) from None
        if key is None or cert is None:
            raise ConfigurationError(f"PKCS#12 {Path(path).name} holds no key or certificate")
        if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise ConfigurationError("software signer: key must be RSA or ECDSA")
        return cls(key, cert)

    @classmethod
    def from_pem(
        cls, key_path: str | Path, cert_path: str | Path, password: str | None = None
    ) -> SoftwareSigner:
        try:
            key = serialization.load_pem_private_key(
                Path(key_path).read_bytes(), password.encode() if password else None
            )
            cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigurationError(
                f"cannot load PEM key or certificate: {type(exc).__name__}"
            ) from None
        if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise ConfigurationError("software signer: key must be RSA or ECDSA")
        return cls(key, cert)


def subject_name(
    *,
    organisation: str | None = None,
    common_name: str,
    surname: str | None = None,
    given_name: str | None = None,
    title: str | None = None,
    inn: str | None = None,
    inn_le: str | None = None,
    ogrn: str | None = None,
    ogrnip: str | None = None,
    snils: str | None = None,
) -> x509.Name:
    """An X.509 subject with the attributes of a Russian qualified certificate."""
    attrs: list[x509.NameAttribute[Any]] = [x509.NameAttribute(NameOID.COUNTRY_NAME, "RU")]
    if organisation:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    if title:
        attrs.append(x509.NameAttribute(NameOID.TITLE, title))
    if surname:
        attrs.append(x509.NameAttribute(NameOID.SURNAME, surname))
    if given_name:
        attrs.append(x509.NameAttribute(NameOID.GIVEN_NAME, given_name))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    # These are NumericString in real certificates.
    for oid, value in (
        (OID_INN, inn),
        (OID_INN_LE, inn_le),
        (OID_OGRN, ogrn),
        (OID_OGRNIP, ogrnip),
        (OID_SNILS, snils),
    ):
        if value:
            attrs.append(
                x509.NameAttribute(
                    x509.ObjectIdentifier(oid), value, _type=x509.name._ASN1Type.NumericString
                )
            )
    return x509.Name(attrs)


def make_test_identity(
    subject: x509.Name,
    *,
    key_type: str = "ec",
    days: int = 365,
    issuer_key: PrivateKey | None = None,
    issuer: x509.Name | None = None,
    ca: bool = False,
) -> tuple[PrivateKey, x509.Certificate]:
    """A throwaway key and certificate (self-signed unless an issuer is given).

    ``ca`` marks it as a certificate authority (basicConstraints), for test CAs.
    """
    key: PrivateKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if key_type == "rsa"
        else ec.generate_private_key(ec.SECP256R1())
    )
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return key, builder.sign(issuer_key or key, hashes.SHA256())


def throwaway_signer(subject: x509.Name | None = None) -> SoftwareSigner:
    """A software signer on a fresh throwaway identity (mock, fakes, demo)."""
    key, cert = make_test_identity(
        subject or subject_name(organisation="edi-bridge test sender", common_name="edi-bridge")
    )
    return SoftwareSigner(key, cert)


__all__ = [
    "OID_INN",
    "OID_INN_LE",
    "OID_OGRN",
    "OID_OGRNIP",
    "OID_SNILS",
    "PrivateKey",
    "SoftwareSigner",
    "make_test_identity",
    "subject_name",
    "throwaway_signer",
]
