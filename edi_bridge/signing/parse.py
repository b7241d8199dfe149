"""Reading a CMS SignedData (DER, base64 or PEM) into checked parts.

:func:`parse_signature` raises only :class:`~edi_bridge.errors.SignatureError`
on malformed input; it checks shape, not validity (that is :mod:`.verify`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import re
from dataclasses import dataclass

from asn1crypto import cms, core, x509

from ..errors import SignatureError
from .algorithms import SHA256
from .gost import SubjectPublicKeyInfo

_PEM_LINE = re.compile(rb"-----(BEGIN|END) [A-Z0-9 #]+-----")
_B64 = re.compile(rb"[A-Za-z0-9+/=_\-\s]+")
MAX_SIGNATURE_SIZE = 16 << 20
SHA1 = "1.3.14.3.2.26"


@dataclass(frozen=True)
class SignerInfoData:
    """One SignerInfo, read and checked for shape."""

    issuer: x509.Name | None
    serial: int | None
    key_id: bytes | None
    digest_oid: str
    signature_oid: str
    signature: bytes
    signed_attrs_der: bytes | None  # re-tagged as SET (0x31), exactly as signed
    content_type: str | None
    message_digest: bytes | None
    signing_time: dt.datetime | None
    cert_hashes: tuple[tuple[str, bytes], ...]  # signingCertificate(V2): (digest OID, hash)


@dataclass(frozen=True)
class ParsedSignature:
    signers: tuple[SignerInfoData, ...]
    certificates: tuple[x509.Certificate, ...]
    content: bytes | None  # encapsulated content, None when detached


def decode_signature_bytes(data: bytes) -> bytes:
    """DER from DER, base64 or PEM input."""
    if not data:
        raise SignatureError("signature is empty")
    if len(data) > MAX_SIGNATURE_SIZE:
        raise SignatureError(f"signature is larger than {MAX_SIGNATURE_SIZE} bytes")
    if data[:1] == b"\x30":
        return data
    text = _PEM_LINE.sub(b"", data).strip()
    if not text or not _B64.fullmatch(text):
        raise SignatureError("signature is neither DER nor base64")
    compact = b"".join(text.split()).replace(b"-", b"+").replace(b"_", b"/")
    compact += b"=" * (-len(compact) % 4)
    try:
        der = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("signature base64 is malformed") from None
    if der[:1] != b"\x30":
        raise SignatureError("decoded signature is not a DER structure")
    return der


def _retag_as_set(attrs: core.Asn1Value) -> bytes:
    # The signature covers the attributes as a SET OF (tag 0x31), byte for byte
    # as received; rebuilding them could reorder or re-encode.
    contents = bytes(attrs.contents or b"")
    n = len(contents)
    if n < 0x80:
        header = bytes([0x31, n])
    else:
        body = n.to_bytes((n.bit_length() + 7) // 8, "big")
        header = bytes([0x31, 0x80 | len(body)]) + body
    return header + contents


def _signer_info(si: cms.SignerInfo) -> SignerInfoData:
    sid = si["sid"]
    issuer = serial = key_id = None
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        serial = int(sid.chosen["serial_number"].native)
        _ = issuer.native
    else:
        key_id = bytes(sid.chosen.native)
    attrs = si["signed_attrs"]
    content_type = message_digest = signing_time = None
    cert_hashes: list[tuple[str, bytes]] = []
    signed_der = None
    if not isinstance(attrs, core.Void):
        if not len(attrs):
            raise SignatureError("signed attributes are present but empty")
        signed_der = _retag_as_set(attrs)
        seen: set[str] = set()
        for attr in attrs:
            kind = attr["type"].dotted
            if kind in seen:
                raise SignatureError(f"signed attribute {kind} appears twice")
            seen.add(kind)
            values = attr["values"]
            if len(values) != 1 and kind in {
                "1.2.840.113549.1.9.3",
                "1.2.840.113549.1.9.4",
                "1.2.840.113549.1.9.5",
            }:
                raise SignatureError(f"signed attribute {kind} must have one value")
            name = attr["type"].native
            if name == "content_type":
                content_type = values[0].dotted
            elif name == "message_digest":
                message_digest = bytes(values[0].native)
            elif name == "signing_time":
                signing_time = values[0].native
            elif name == "signing_certificate_v2":
                for ess in values[0]["certs"]:
                    hash_alg = ess["hash_algorithm"]
                    oid = hash_alg["algorithm"].dotted if hash_alg.contents else SHA256
                    cert_hashes.append((oid, bytes(ess["cert_hash"].native)))
            elif name == "signing_certificate":
                for ess in values[0]["certs"]:
                    cert_hashes.append((SHA1, bytes(ess["cert_hash"].native)))
    return SignerInfoData(
        issuer=issuer,
        serial=serial,
        key_id=key_id,
        digest_oid=si["digest_algorithm"]["algorithm"].dotted,
        signature_oid=si["signature_algorithm"]["algorithm"].dotted,
        signature=bytes(si["signature"].native),
        signed_attrs_der=signed_der,
        content_type=content_type,
        message_digest=message_digest,
        signing_time=signing_time,
        cert_hashes=tuple(cert_hashes),
    )


def _force_parse(cert: x509.Certificate) -> None:
    # asn1crypto parses lazily; touch every part the verifier reads so that a
    # malformed certificate fails here, as a SignatureError, not later.
    tbs = cert["tbs_certificate"]
    for part in ("version", "serial_number", "signature", "issuer", "validity", "subject"):
        _ = tbs[part].native
    # Read the key with the GOST-aware SPKI class: asn1crypto's lacks GOST keys.
    _ = SubjectPublicKeyInfo.load(tbs["subject_public_key_info"].dump()).native
    _ = [ext.native for ext in tbs["extensions"]]
    _ = cert["signature_algorithm"].native, cert["signature_value"].native


@functools.lru_cache(maxsize=256)
def _certificate(der: bytes) -> x509.Certificate:
    """A certificate parsed and checked once per signer (by its DER bytes): a page of
    signatures from the same counterparties would otherwise parse each one again.
    Kept parsed objects are only read afterwards."""
    cert = x509.Certificate.load(der, strict=True)
    _force_parse(cert)
    return cert


MAX_SIGNERS = 4  # a detached signature of one party; co-signers are a handful at most
MAX_CERTIFICATES = 16  # the signer's chain, with room for an МЧД signer's


def parse_signature(data: bytes) -> ParsedSignature:
    """Read a CMS SignedData; raises SignatureError (only) when it is malformed."""
    der = decode_signature_bytes(data)
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise SignatureError(f"CMS content is {info['content_type'].native}, not SignedData")
        signed = info["content"]
        # Bounded before anything is parsed further or verified: each signer costs a
        # public-key operation (hundreds of ms for GOST-512), so a CMS with thousands
        # of copies of one SignerInfo would hold the CPU for hours.
        if len(signed["signer_infos"]) > MAX_SIGNERS:
            raise SignatureError(f"CMS has more than {MAX_SIGNERS} signers")
        if len(signed["certificates"]) > MAX_CERTIFICATES:
            raise SignatureError(f"CMS carries more than {MAX_CERTIFICATES} certificates")
        signers = tuple(_signer_info(si) for si in signed["signer_infos"])
        certs: list[x509.Certificate] = []
        for choice in signed["certificates"]:
            if choice.name == "certificate":
                certs.append(_certificate(choice.chosen.dump()))
        encap = signed["encap_content_info"]["content"]
        content = None
        if not isinstance(encap, core.Void):
            content = encap.native
            if not isinstance(content, bytes):
                raise SignatureError("encapsulated content is not plain data")
    except SignatureError:
        raise
    except Exception as exc:  # asn1crypto raises assorted types on malformed input
        raise SignatureError(f"malformed CMS: {type(exc).__name__}") from None
    if not signers:
        raise SignatureError("CMS SignedData has no signer")
    return ParsedSignature(signers, tuple(certs), content)


__all__ = [
    "MAX_CERTIFICATES",
    "MAX_SIGNATURE_SIZE",
    "MAX_SIGNERS",
    "SHA1",
    "ParsedSignature",
    "SignerInfoData",
    "decode_signature_bytes",
    "parse_signature",
]
