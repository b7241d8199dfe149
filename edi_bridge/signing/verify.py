"""Verifying a detached CAdES-BES signature against a document.

:func:`parse_signature` reads a CMS SignedData (DER, base64 or PEM) and raises
only :class:`~edi_bridge.errors.SignatureError` on malformed input.
:class:`Verifier` checks it and never raises on bad signatures; it returns a
:class:`Verdict` whose status is one of:

* ``valid`` — the signature is good for exactly this document, its certificate
  chains to the configured trust store and (when given) matches the counterparty;
* ``valid_chain_unchecked`` — the same, but no trust store was configured, so
  who issued the certificate is unknown. It is never reported as plain valid,
  and it is ``ok`` only when the caller allows unchecked chains;
* ``invalid`` — with the reason (document changed, bad signature, unknown
  algorithm, expired certificate, untrusted chain, malformed CMS, …);
* ``signer_mismatch`` — a good signature by someone other than the counterparty.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asn1crypto import cms, core, x509

from ..errors import SignatureError
from ..models import Counterparty
from . import algorithms as alg
from .gost import SubjectPublicKeyInfo
from .identity import SignerIdentity, identity_from_certificate, match_counterparty
from .pubkey import hash_for, verify_digest
from .trust import ChainError, TrustStore, check_validity

Content = bytes | Path | Iterable[bytes]
_PEM_LINE = re.compile(rb"-----(BEGIN|END) [A-Z0-9 #]+-----")
_B64 = re.compile(rb"[A-Za-z0-9+/=_\-\s]+")
MAX_SIGNATURE_SIZE = 16 << 20
SHA1 = "1.3.14.3.2.26"


class VerdictStatus(enum.StrEnum):
    VALID = "valid"
    VALID_CHAIN_UNCHECKED = "valid_chain_unchecked"
    INVALID = "invalid"
    SIGNER_MISMATCH = "signer_mismatch"


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


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check; :meth:`to_dict` is JSON-ready."""

    status: VerdictStatus
    ok: bool
    reason: str | None = None
    chain: str = "not_checked"  # checked | not_checked | failed
    signer: SignerIdentity | None = None
    signers: tuple[SignerIdentity, ...] = ()
    digest_algorithm: str | None = None
    signature_algorithm: str | None = None
    signing_time: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ok": self.ok,
            "status": self.status.value,
            "reason": self.reason,
            "chain": self.chain,
            "warnings": list(self.warnings),
        }
        if self.signer is not None:
            data["signer"] = self.signer.to_dict()
        if len(self.signers) > 1:
            data["signers"] = [s.to_dict() for s in self.signers]
        for key in ("digest_algorithm", "signature_algorithm", "signing_time"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


# -- parsing -----------------------------------------------------------------


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
                    oid = hash_alg["algorithm"].dotted if hash_alg.contents else alg.SHA256
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


def parse_signature(data: bytes) -> ParsedSignature:
    """Read a CMS SignedData; raises SignatureError (only) when it is malformed."""
    der = decode_signature_bytes(data)
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise SignatureError(f"CMS content is {info['content_type'].native}, not SignedData")
        signed = info["content"]
        signers = tuple(_signer_info(si) for si in signed["signer_infos"])
        certs: list[x509.Certificate] = []
        for choice in signed["certificates"]:
            if choice.name == "certificate":
                cert = choice.chosen
                _force_parse(cert)
                certs.append(cert)
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


# -- verifying ---------------------------------------------------------------


def _chunks(content: Content) -> Iterable[bytes]:
    if isinstance(content, bytes):
        yield content
    elif isinstance(content, Path):
        with content.open("rb") as fh:
            yield from iter(lambda: fh.read(1 << 20), b"")
    else:
        yield from content


def _find_certificate(
    signer: SignerInfoData, certs: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    for cert in certs:
        if signer.key_id is not None:
            if cert.key_identifier == signer.key_id:
                return cert
        elif cert.serial_number == signer.serial and cert.issuer == signer.issuer:
            return cert
    return None


class _Invalid(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Verifier:
    """Checks signatures; configure once, call :meth:`verify` per signature.

    ``trust_store``: certificates to build chains to (a :class:`TrustStore`, or
    a path to a directory or PEM bundle). Without it chains are not checked and
    the best outcome is ``valid_chain_unchecked``, which is ``ok`` only with
    ``allow_unchecked_chain=True``. ``at``: the time certificates must be valid
    at (default: now).
    """

    def __init__(
        self,
        trust_store: TrustStore | str | Path | None = None,
        *,
        allow_unchecked_chain: bool = False,
        at: dt.datetime | None = None,
    ) -> None:
        if isinstance(trust_store, (str, Path)):
            trust_store = TrustStore.load(trust_store)
        self.trust_store = trust_store
        self.allow_unchecked_chain = allow_unchecked_chain
        self.at = at

    def __repr__(self) -> str:
        return f"<Verifier trust_store={self.trust_store!r}>"

    def verify(
        self,
        signature: bytes,
        content: Content | None = None,
        *,
        counterparty: Counterparty | None = None,
        extra_certificates: Sequence[x509.Certificate] = (),
    ) -> Verdict:
        """Verify ``signature`` over ``content`` (bytes, a path or chunks)."""
        try:
            parsed = parse_signature(signature)
        except SignatureError as exc:
            return _invalid(str(exc))
        try:
            return self._verify(parsed, content, counterparty, extra_certificates)
        except _Invalid as exc:
            return _invalid(exc.reason)
        except SignatureError as exc:
            return _invalid(str(exc))
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
            # A part asn1crypto parses on first use turned out malformed.
            return _invalid(f"malformed CMS: {type(exc).__name__}")

    def _verify(
        self,
        parsed: ParsedSignature,
        content: Content | None,
        counterparty: Counterparty | None,
        extra_certificates: Sequence[x509.Certificate],
    ) -> Verdict:
        if content is None:
            if parsed.content is None:
                raise _Invalid("detached signature: the document is needed to check it")
            content = parsed.content
        digests = self._content_digests(parsed, content)
        when = self.at or dt.datetime.now(dt.UTC)
        pool = [*parsed.certificates, *extra_certificates]
        identities: list[SignerIdentity] = []
        warnings: list[str] = []
        chain = "checked" if self.trust_store is not None else "not_checked"
        first = parsed.signers[0]
        for n, signer in enumerate(parsed.signers):
            label = f"signer {n + 1}: " if len(parsed.signers) > 1 else ""
            try:
                cert = self._check_signer(signer, digests, pool, when, warnings)
            except _Invalid as exc:
                chain = "failed" if exc.reason.startswith("certificate chain") else chain
                return _invalid(label + exc.reason, chain=chain)
            identities.append(identity_from_certificate(cert))
        status = (
            VerdictStatus.VALID
            if self.trust_store is not None
            else VerdictStatus.VALID_CHAIN_UNCHECKED
        )
        reason = None if status is VerdictStatus.VALID else "certificate chain not checked"
        if counterparty is not None:
            results = [match_counterparty(i, counterparty) for i in identities]
            good = next((r for r in results if r.matches), None)
            if good is None:
                status = VerdictStatus.SIGNER_MISMATCH
                reason = "; ".join(results[0].mismatches)
                warnings.extend(results[0].warnings)
            else:
                warnings.extend(good.warnings)
        ok = status is VerdictStatus.VALID or (
            status is VerdictStatus.VALID_CHAIN_UNCHECKED and self.allow_unchecked_chain
        )
        return Verdict(
            status=status,
            ok=ok,
            reason=reason,
            chain=chain,
            signer=identities[0],
            signers=tuple(identities),
            digest_algorithm=alg.DIGEST_NAMES.get(first.digest_oid, first.digest_oid),
            signature_algorithm=_algorithm_name(first.signature_oid),
            signing_time=first.signing_time.isoformat() if first.signing_time else None,
            warnings=tuple(dict.fromkeys(warnings)),
        )

    @staticmethod
    def _content_digests(parsed: ParsedSignature, content: Content) -> dict[str, bytes]:
        oids = list(dict.fromkeys(s.digest_oid for s in parsed.signers))
        try:
            hashers = {oid: alg.new_hash(oid) for oid in oids}
        except SignatureError as exc:
            raise _Invalid(str(exc)) from None
        for chunk in _chunks(content):
            for h in hashers.values():
                h.update(chunk)
        digests = {oid: h.digest() for oid, h in hashers.items()}
        if parsed.content is not None and content is not parsed.content:
            own = {oid: alg.digest(oid, parsed.content) for oid in oids}
            if own != digests:
                raise _Invalid("the encapsulated content is not the given document")
        return digests

    def _check_signer(
        self,
        signer: SignerInfoData,
        digests: dict[str, bytes],
        pool: Sequence[x509.Certificate],
        when: dt.datetime,
        warnings: list[str],
    ) -> x509.Certificate:
        cert = _find_certificate(signer, pool)
        if cert is None:
            raise _Invalid("the signer's certificate is not in the signature")
        spki = bytes(cert["tbs_certificate"]["subject_public_key_info"].dump())
        try:
            sig_digest_oid = hash_for(signer.signature_oid, signer.digest_oid)
        except SignatureError as exc:
            raise _Invalid(str(exc)) from None
        content_digest = digests[signer.digest_oid]
        if signer.signed_attrs_der is None:
            warnings.append("no signed attributes: not CAdES-BES")
            signed_digest = content_digest
        else:
            if signer.message_digest is None:
                raise _Invalid("signed attributes lack messageDigest")
            if signer.content_type is None:
                raise _Invalid("signed attributes lack contentType")
            if not hmac.compare_digest(signer.message_digest, content_digest):
                raise _Invalid("the document does not match the signature (messageDigest differs)")
            if not signer.cert_hashes:
                warnings.append("no signingCertificateV2 attribute: not CAdES-BES")
            else:
                der = bytes(cert.dump())
                for oid, expected in signer.cert_hashes:
                    if oid == SHA1:  # ESSCertID (signingCertificate v1) is SHA-1 only
                        actual = hashlib.sha1(der, usedforsecurity=False).digest()
                    else:
                        try:
                            actual = alg.digest(oid, der)
                        except SignatureError:
                            raise _Invalid(f"signingCertificateV2 uses digest {oid}") from None
                    if not hmac.compare_digest(actual, expected):
                        raise _Invalid(
                            "the certificate is not the one named in signingCertificateV2"
                        )
            signed_digest = alg.digest(sig_digest_oid, signer.signed_attrs_der)
        try:
            good = verify_digest(
                spki, signer.signature_oid, sig_digest_oid, signer.signature, signed_digest
            )
        except SignatureError as exc:
            raise _Invalid(str(exc)) from None
        if not good:
            raise _Invalid("the signature value does not verify with the certificate's key")
        try:
            check_validity(cert, when)
            if signer.signing_time is not None:
                check_validity(cert, signer.signing_time)
        except ChainError as exc:
            raise _Invalid(str(exc)) from None
        if self.trust_store is not None:
            try:
                self.trust_store.validate(cert, pool, at=when)
            except ChainError as exc:
                raise _Invalid(f"certificate chain: {exc}") from None
        return cert


def _algorithm_name(oid: str) -> str:
    family, _ = alg.SIGNATURE_ALGORITHMS.get(oid, (oid, None))
    return {"gost256": "gost3410-2012-256", "gost512": "gost3410-2012-512"}.get(family, family)


def _invalid(reason: str, *, chain: str = "not_checked") -> Verdict:
    return Verdict(status=VerdictStatus.INVALID, ok=False, reason=reason, chain=chain)


__all__ = [
    "ParsedSignature",
    "SignerInfoData",
    "Verdict",
    "VerdictStatus",
    "Verifier",
    "decode_signature_bytes",
    "parse_signature",
]
