"""Building detached CAdES-BES SignedData with asn1crypto.

The signature covers the DER of the signed attributes as a SET (tag 0x31):
contentType, messageDigest, signingTime, signingCertificateV2. Algorithm-specific
parts (digest, signature value) come from the caller, so RSA, ECDSA and GOST
signers share this code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
    """Assemble a DER ContentInfo(SignedData) without encapsulated content."""
    cert = x509.Certificate.load(cert_der)
    attrs = signed_attributes(content_digest, cert, digest_oid, cert_hash, signing_time)
    signature = sign(attrs.dump())  # DER of the SET OF, tag 0x31
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
            "signature": signature,
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
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
