"""Building detached CAdES-BES SignedData with asn1crypto.

The signature covers the DER of the signed attributes as a SET (tag 0x31):
contentType, messageDigest, signingTime, signingCertificateV2. Algorithm-specific
parts (digest, signature value) come from the caller, so RSA, ECDSA and GOST
signers share this code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
from collections.abc import Callable

from asn1crypto import algos, cms, core, x509
from asn1crypto import tsp as _tsp  # noqa: F401  registers signingCertificateV2 with cms


def signed_attributes(
    digest: bytes,
    cert: x509.Certificate,
    digest_oid: str,
    cert_hash: bytes,
    signing_time: dt.datetime | None = None,
) -> cms.CMSAttributes:
    when = signing_time or dt.datetime.now(dt.UTC)
    ess_cert = {
        "cert_hash": cert_hash,
        "issuer_serial": {
            "issuer": [x509.GeneralName(name="directory_name", value=cert.issuer)],
            "serial_number": cert.serial_number,
        },
    }
    # SHA-256 is the default hashAlgorithm of ESSCertIDv2 and must then be omitted.
    if digest_oid != algos.DigestAlgorithmId.unmap("sha256"):
        ess_cert["hash_algorithm"] = {"algorithm": digest_oid}
    return cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute({"type": "message_digest", "values": [digest]}),
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": when})]}),
            cms.CMSAttribute(
                {
                    "type": "signing_certificate_v2",
                    "values": [{"certs": [ess_cert]}],
                }
            ),
        ]
    )


@dataclasses.dataclass(frozen=True)
class _SignerParts:
    """DER of everything in a signature that depends only on the signer."""

    sid: bytes
    digest_algorithm: bytes
    signature_algorithm: bytes
    digest_algorithms: bytes
    encap_content_info: bytes
    certificates: bytes
    content_type_attr: bytes
    signing_certificate_attr: bytes


_VERSION_1 = b"\x02\x01\x01"
_SIGNED_DATA_OID = core.ObjectIdentifier("1.2.840.113549.1.7.2").dump()
_parts_cache: dict[tuple[bytes, str, bytes, str, bytes | None], _SignerParts] = {}
_parts_lock = threading.Lock()
_CACHE_SIZE = 64


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes((tag, n)) + body
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + body


def _signer_parts(
    cert_der: bytes,
    digest_oid: str,
    cert_hash: bytes,
    signature_oid: str,
    signature_parameters: core.Asn1Value | None,
) -> _SignerParts:
    """Encode the signer's fixed parts once with asn1crypto, then reuse the DER.

    Re-encoding the parsed certificate and issuer name for every signature
    cost thousands of asn1crypto calls per document; these bytes never change
    for one signer.
    """
    params = None if signature_parameters is None else signature_parameters.dump()
    key = (cert_der, digest_oid, cert_hash, signature_oid, params)
    with _parts_lock:
        found = _parts_cache.get(key)
    if found is not None:
        return found
    cert = x509.Certificate.load(cert_der)
    attrs = signed_attributes(b"", cert, digest_oid, cert_hash, dt.datetime.now(dt.UTC))
    sig_alg: dict[str, object] = {"algorithm": signature_oid}
    if signature_parameters is not None:
        sig_alg["parameters"] = signature_parameters
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": cert.issuer, "serial_number": cert.serial_number},
            ),
            "digest_algorithm": {"algorithm": digest_oid},
            "signed_attrs": attrs,
            "signature_algorithm": sig_alg,
            "signature": b"",
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": digest_oid}],
            "encap_content_info": {"content_type": "data"},
            "certificates": [cert],
            "signer_infos": [signer_info],
        }
    )
    parts = _SignerParts(
        sid=signer_info["sid"].dump(),
        digest_algorithm=signer_info["digest_algorithm"].dump(),
        signature_algorithm=signer_info["signature_algorithm"].dump(),
        digest_algorithms=signed_data["digest_algorithms"].dump(),
        encap_content_info=signed_data["encap_content_info"].dump(),
        certificates=signed_data["certificates"].dump(),
        content_type_attr=attrs[0].dump(),
        signing_certificate_attr=attrs[3].dump(),
    )
    with _parts_lock:
        if len(_parts_cache) >= _CACHE_SIZE:
            _parts_cache.clear()
        _parts_cache[key] = parts
    return parts


def detached_signed_data(
    *,
    content_digest: bytes,
    cert_der: bytes,
    digest_oid: str,
    cert_hash: bytes,
    signature_oid: str,
    sign: Callable[[bytes], bytes],
    signature_parameters: core.Asn1Value | None = None,
    signing_time: dt.datetime | None = None,
) -> bytes:
    """Assemble a DER ContentInfo(SignedData) without encapsulated content.

    The same bytes asn1crypto would build from :func:`signed_attributes` and the
    certificate, assembled around the signer's cached parts.
    """
    parts = _signer_parts(cert_der, digest_oid, cert_hash, signature_oid, signature_parameters)
    when = signing_time or dt.datetime.now(dt.UTC)
    # DER orders a SET OF by the encodings of its members, as asn1crypto does.
    attrs = b"".join(
        sorted(
            (
                parts.content_type_attr,
                cms.CMSAttribute({"type": "message_digest", "values": [content_digest]}).dump(),
                cms.CMSAttribute(
                    {"type": "signing_time", "values": [cms.Time({"utc_time": when})]}
                ).dump(),
                parts.signing_certificate_attr,
            )
        )
    )
    signature = sign(_tlv(0x31, attrs))  # DER of the SET OF, tag 0x31
    signer_info = _tlv(
        0x30,
        _VERSION_1
        + parts.sid
        + parts.digest_algorithm
        + _tlv(0xA0, attrs)  # [0] IMPLICIT signedAttrs
        + parts.signature_algorithm
        + _tlv(0x04, signature),
    )
    signed_data = _tlv(
        0x30,
        _VERSION_1
        + parts.digest_algorithms
        + parts.encap_content_info
        + parts.certificates
        + _tlv(0x31, signer_info),
    )
    return _tlv(0x30, _SIGNED_DATA_OID + _tlv(0xA0, signed_data))


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
