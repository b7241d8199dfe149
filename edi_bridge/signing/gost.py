"""GOST R 34.10-2012 (256 and 512 bit) with Streebog, in pure Python.

The arithmetic comes from ``gostcrypto`` (the ``gost`` extra). This module owns
the byte-order rules of CMS and X.509 (RFC 4491, RFC 9215), which differ from
gostcrypto's big-endian convention:

* the signature value is ``s || r`` (gostcrypto produces ``r || s``);
* the digest is read as a little-endian number, so it is reversed before it is
  handed to gostcrypto;
* the public key is an OCTET STRING holding ``x || y``, each half little-endian.

It is meant for tests and for users without a crypto provider; production
qualified keys live in a token and are used through :mod:`.external`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

from asn1crypto import algos, core, keys, x509
from cryptography import x509 as cx509

from ..errors import ConfigurationError, SignatureError
from .algorithms import (
    GOST256_KEY,
    GOST256_SIG,
    GOST512_KEY,
    GOST512_SIG,
    STREEBOG256,
    STREEBOG512,
    Hasher,
    digest,
    new_hash,
)
from .base import DigestSigner

# Curve OID -> gostcrypto curve name. CryptoPro sets are the same curves as
# TC26 256 B/C/D (R 1323565.1.024-2019); XchA = CryptoPro-A, XchB = CryptoPro-C.
CURVES: dict[str, str] = {
    "1.2.643.7.1.2.1.1.1": "id-tc26-gost-3410-2012-256-paramSetA",
    "1.2.643.7.1.2.1.1.2": "id-tc26-gost-3410-2012-256-paramSetB",
    "1.2.643.7.1.2.1.1.3": "id-tc26-gost-3410-2012-256-paramSetC",
    "1.2.643.7.1.2.1.1.4": "id-tc26-gost-3410-2012-256-paramSetD",
    "1.2.643.7.1.2.1.2.1": "id-tc26-gost-3410-12-512-paramSetA",
    "1.2.643.7.1.2.1.2.2": "id-tc26-gost-3410-12-512-paramSetB",
    "1.2.643.7.1.2.1.2.3": "id-tc26-gost-3410-2012-512-paramSetC",
    "1.2.643.2.2.35.1": "id-tc26-gost-3410-2012-256-paramSetB",
    "1.2.643.2.2.35.2": "id-tc26-gost-3410-2012-256-paramSetC",
    "1.2.643.2.2.35.3": "id-tc26-gost-3410-2012-256-paramSetD",
    "1.2.643.2.2.36.0": "id-tc26-gost-3410-2012-256-paramSetB",
    "1.2.643.2.2.36.1": "id-tc26-gost-3410-2012-256-paramSetD",
}
DEFAULT_CURVE = {256: "1.2.643.7.1.2.1.1.1", 512: "1.2.643.7.1.2.1.2.1"}


def _gostcrypto() -> Any:
    try:
        from gostcrypto import gostsignature
    except ImportError:
        raise SignatureError(
            "GOST R 34.10-2012 needs the 'gost' extra: pip install 'edi-bridge[gost]'"
        ) from None
    return gostsignature


def _engine(bits: int, curve_oid: str) -> tuple[Any, int]:
    """gostcrypto's signature object for a curve, and the curve's order q."""
    if curve_oid not in CURVES:
        raise SignatureError(f"GOST curve {curve_oid} is not supported")
    name = CURVES[curve_oid]
    if ("-256-" in name) != (bits == 256):
        raise SignatureError(f"GOST curve {curve_oid} does not fit a {bits}-bit key")
    gs = _gostcrypto()
    params = gs.CURVES_R_1323565_1_024_2019[name]
    engine = gs.new(gs.MODE_256 if bits == 256 else gs.MODE_512, params)
    return engine, int(params["q"])


class GostKeyParameters(core.Sequence):  # type: ignore[misc]
    """GostR3410-2012-PublicKeyParameters (RFC 9215)."""

    _fields: ClassVar[list[Any]] = [
        ("public_key_param_set", core.ObjectIdentifier),
        ("digest_param_set", core.ObjectIdentifier, {"optional": True}),
        ("encryption_param_set", core.ObjectIdentifier, {"optional": True}),
    ]


class _AlgorithmIdentifier(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[Any]] = [
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class SubjectPublicKeyInfo(core.Sequence):  # type: ignore[misc]
    """SPKI read without asn1crypto's key-type table (which lacks GOST)."""

    _fields: ClassVar[list[Any]] = [
        ("algorithm", _AlgorithmIdentifier),
        ("public_key", core.BitString),
    ]


@dataclass(frozen=True)
class GostPublicKey:
    bits: int  # 256 or 512
    curve_oid: str
    x: int
    y: int

    @property
    def key_oid(self) -> str:
        return GOST256_KEY if self.bits == 256 else GOST512_KEY

    @property
    def size(self) -> int:
        return self.bits // 8

    def spki_der(self) -> bytes:
        """SubjectPublicKeyInfo DER: OCTET STRING of little-endian x || y."""
        n = self.size
        point = self.x.to_bytes(n, "little") + self.y.to_bytes(n, "little")
        digest_oid = STREEBOG256 if self.bits == 256 else STREEBOG512
        params: dict[str, str] = {"public_key_param_set": self.curve_oid}
        # RFC 9215: the digest parameter is present for 256-bit keys only.
        if self.bits == 256:
            params["digest_param_set"] = digest_oid
        info = SubjectPublicKeyInfo(
            {
                "algorithm": {
                    "algorithm": self.key_oid,
                    "parameters": core.Any.load(GostKeyParameters(params).dump()),
                },
                "public_key": _bit_string(core.OctetString(point).dump()),
            }
        )
        return bytes(info.dump())

    @classmethod
    def from_spki(cls, der: bytes) -> GostPublicKey:
        try:
            info = SubjectPublicKeyInfo.load(der)
            key_oid = info["algorithm"]["algorithm"].dotted
            bits = {GOST256_KEY: 256, GOST512_KEY: 512}.get(key_oid)
            if bits is None:
                raise SignatureError(f"not a GOST R 34.10-2012 key: {key_oid}")
            params = GostKeyParameters.load(info["algorithm"]["parameters"].dump())
            curve_oid = params["public_key_param_set"].dotted
            point = core.OctetString.load(_bit_string_bytes(info["public_key"])).native
        except SignatureError:
            raise
        except Exception as exc:  # asn1crypto raises assorted types on bad input
            raise SignatureError(f"malformed GOST public key: {type(exc).__name__}") from None
        n = bits // 8
        if not isinstance(point, bytes) or len(point) != 2 * n:
            raise SignatureError(f"GOST {bits}-bit public key must be {2 * n} bytes")
        return cls(
            bits,
            curve_oid,
            int.from_bytes(point[:n], "little"),
            int.from_bytes(point[n:], "little"),
        )

    def verify(self, signature: bytes, data_digest: bytes) -> bool:
        """Check a CMS/X.509 signature value (s || r) over a Streebog digest."""
        n = self.size
        if len(signature) != 2 * n or len(data_digest) != n:
            return False
        engine, _ = _engine(self.bits, self.curve_oid)
        public = self.x.to_bytes(n, "big") + self.y.to_bytes(n, "big")
        try:
            return bool(
                engine.verify(
                    bytearray(public),
                    bytearray(data_digest[::-1]),
                    bytearray(signature[n:] + signature[:n]),
                )
            )
        except Exception:  # gostcrypto raises on values out of range
            return False


def _bit_string(payload: bytes) -> core.BitString:
    # A BIT STRING with no unused bits, holding the DER of the OCTET STRING.
    return core.BitString.load(b"\x03" + _der_len(len(payload) + 1) + b"\x00" + payload)


def _bit_string_bytes(value: core.BitString) -> bytes:
    contents = bytes(value.contents or b"")
    if not contents or contents[0] != 0:
        raise SignatureError("public key BIT STRING has unused bits")
    return contents[1:]


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


class GostPrivateKey:
    """A GOST R 34.10-2012 private key held in memory (never shown in reprs)."""

    def __init__(self, bits: int, value: int, curve_oid: str | None = None) -> None:
        if bits not in (256, 512):
            raise ConfigurationError("GOST key size must be 256 or 512")
        self.bits = bits
        self.curve_oid = curve_oid or DEFAULT_CURVE[bits]
        engine, q = _engine(bits, self.curve_oid)
        if not 0 < value < q:
            raise ConfigurationError("GOST private key is out of range for its curve")
        self._d = value
        pub = bytes(engine.public_key_generate(bytearray(value.to_bytes(bits // 8, "big"))))
        n = bits // 8
        self.public_key = GostPublicKey(
            bits, self.curve_oid, int.from_bytes(pub[:n], "big"), int.from_bytes(pub[n:], "big")
        )

    @classmethod
    def generate(cls, bits: int = 256, curve_oid: str | None = None) -> GostPrivateKey:
        curve = curve_oid or DEFAULT_CURVE.get(bits, "")
        _, q = _engine(bits, curve)
        return cls(bits, 1 + secrets.randbelow(q - 1), curve)

    @property
    def digest_oid(self) -> str:
        return STREEBOG256 if self.bits == 256 else STREEBOG512

    @property
    def signature_oid(self) -> str:
        return GOST256_SIG if self.bits == 256 else GOST512_SIG

    def sign_digest(self, data_digest: bytes) -> bytes:
        """Signature value in CMS order (s || r) over a Streebog digest."""
        n = self.bits // 8
        if len(data_digest) != n:
            raise SignatureError(f"GOST {self.bits}-bit signing needs a {n}-byte digest")
        engine, _ = _engine(self.bits, self.curve_oid)
        rs = bytes(engine.sign(bytearray(self._d.to_bytes(n, "big")), bytearray(data_digest[::-1])))
        return rs[n:] + rs[:n]

    def sign(self, data: bytes) -> bytes:
        return self.sign_digest(digest(self.digest_oid, data))

    def __repr__(self) -> str:
        return f"<GostPrivateKey {self.bits} bit>"


NameLike: TypeAlias = "x509.Name | cx509.Name"


def as_asn1_name(name: NameLike) -> x509.Name:
    """An asn1crypto Name from either library's Name."""
    if isinstance(name, cx509.Name):
        return x509.Name.load(name.public_bytes())
    return name


def make_gost_certificate(
    subject: NameLike,
    public_key: GostPublicKey,
    *,
    issuer: NameLike | None = None,
    issuer_key: GostPrivateKey,
    serial: int | None = None,
    days: int = 365,
    ca: bool = False,
    not_before: dt.datetime | None = None,
) -> x509.Certificate:
    """An X.509 v3 certificate for a GOST key, signed with a GOST issuer key."""
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    sig_alg = algos.SignedDigestAlgorithm({"algorithm": issuer_key.signature_oid})
    extensions: list[dict[str, Any]] = [
        {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": ca}},
        {
            "extn_id": "key_usage",
            "critical": True,
            "extn_value": {"key_cert_sign", "crl_sign"}
            if ca
            else {"digital_signature", "non_repudiation"},
        },
    ]
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial or secrets.randbits(63) + 1,
            "signature": sig_alg,
            "issuer": as_asn1_name(issuer or subject),
            "validity": {
                "not_before": x509.Time({"utc_time": start}),
                "not_after": x509.Time({"utc_time": start + dt.timedelta(days=days)}),
            },
            "subject": as_asn1_name(subject),
            "subject_public_key_info": keys.PublicKeyInfo.load(public_key.spki_der()),
            "extensions": extensions,
        }
    )
    signature = issuer_key.sign(tbs.dump())
    return x509.Certificate(
        {"tbs_certificate": tbs, "signature_algorithm": sig_alg, "signature_value": signature}
    )


class GostSigner(DigestSigner):
    """Detached CAdES-BES with GOST R 34.10-2012 and Streebog, key in memory."""

    def __init__(self, key: GostPrivateKey, certificate: x509.Certificate | bytes) -> None:
        der = certificate if isinstance(certificate, bytes) else bytes(certificate.dump())
        cert = x509.Certificate.load(der)
        spki = bytes(cert["tbs_certificate"]["subject_public_key_info"].dump())
        if GostPublicKey.from_spki(spki) != key.public_key:
            raise ConfigurationError("GOST signer: the certificate is not for this key")
        self._key = key
        self._cert_der = der
        self.digest_oid = key.digest_oid
        self.signature_oid = key.signature_oid

    @property
    def certificate(self) -> bytes:
        return self._cert_der

    def _new_hash(self) -> Hasher:
        return new_hash(self.digest_oid)

    def _sign_attributes(self, der: bytes) -> bytes:
        return self._key.sign(der)


def gost_test_identity(
    subject: NameLike,
    *,
    bits: int = 256,
    issuer: NameLike | None = None,
    issuer_key: GostPrivateKey | None = None,
    ca: bool = False,
    days: int = 365,
) -> tuple[GostPrivateKey, x509.Certificate]:
    """A throwaway GOST key and certificate (self-signed unless an issuer is given)."""
    key = GostPrivateKey.generate(bits)
    cert = make_gost_certificate(
        subject,
        key.public_key,
        issuer=issuer,
        issuer_key=issuer_key or key,
        ca=ca,
        days=days,
    )
    return key, cert


__all__ = [
    "CURVES",
    "DEFAULT_CURVE",
    "GostKeyParameters",
    "GostPrivateKey",
    "GostPublicKey",
    "GostSigner",
    "SubjectPublicKeyInfo",
    "as_asn1_name",
    "gost_test_identity",
    "make_gost_certificate",
]
