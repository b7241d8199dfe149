"""Each signer's output verifies; changed content, swapped certificates and
re-encodings give the right verdict."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from asn1crypto import cms, core

from edi_bridge.models import Counterparty
from edi_bridge.signing import (
    Signer,
    TrustStore,
    VerdictStatus,
    Verifier,
    make_test_identity,
    subject_name,
)
from edi_bridge.signing.cms import detached_signed_data

from .pki import CA, DOCUMENT, KINDS, issue_signer

UNCHECKED = Verifier(allow_unchecked_chain=True)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@pytest.mark.parametrize("kind", KINDS)
def test_signature_verifies_for_exactly_the_document(kind: str, signed: dict[str, bytes]) -> None:
    verdict = UNCHECKED.verify(signed[kind], DOCUMENT)
    assert verdict.status is VerdictStatus.VALID_CHAIN_UNCHECKED
    assert verdict.ok
    assert verdict.signer is not None
    assert verdict.signer.full_name == "Иванова Мария Петровна"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("where", [0, len(DOCUMENT) // 2, len(DOCUMENT) - 1])
def test_one_changed_byte_of_the_document_is_invalid(
    kind: str, where: int, signed: dict[str, bytes]
) -> None:
    verdict = UNCHECKED.verify(signed[kind], _flip(DOCUMENT, where))
    assert verdict.status is VerdictStatus.INVALID
    assert not verdict.ok
    assert "messageDigest" in (verdict.reason or "")


@pytest.mark.parametrize("kind", KINDS)
def test_one_changed_byte_of_the_signature_value_is_invalid(
    kind: str, signed: dict[str, bytes]
) -> None:
    info = cms.ContentInfo.load(signed[kind])
    value = bytes(info["content"]["signer_infos"][0]["signature"].native)
    at = signed[kind].rindex(value) + len(value) // 3
    verdict = UNCHECKED.verify(_flip(signed[kind], at), DOCUMENT)
    assert verdict.status is VerdictStatus.INVALID
    assert "signature value does not verify" in (verdict.reason or "")


@pytest.mark.parametrize("kind", KINDS)
def test_a_changed_signed_attribute_is_invalid(kind: str, signed: dict[str, bytes]) -> None:
    info = cms.ContentInfo.load(signed[kind])
    attrs = info["content"]["signer_infos"][0]["signed_attrs"]
    signing_time = next(a for a in attrs if a["type"].native == "signing_time")
    time_der = signing_time["values"][0].dump()
    at = signed[kind].index(time_der) + len(time_der) - 3  # a digit of the seconds
    verdict = UNCHECKED.verify(_flip(signed[kind], at), DOCUMENT)
    assert verdict.status is VerdictStatus.INVALID


@pytest.mark.parametrize("kind", ["ec", "gost256"])
def test_a_swapped_certificate_is_invalid(
    kind: str, signed: dict[str, bytes], cas: dict[str, CA], counterparty: Counterparty
) -> None:
    other = issue_signer(cas["rsa" if kind == "ec" else kind], kind, counterparty)
    info = cms.ContentInfo.load(signed[kind])
    sd = info["content"]
    other_cert = cms.CertificateChoices(
        name="certificate",
        value=cms.ContentInfo.load(other.sign(b"x"))["content"]["certificates"][0].chosen,
    )
    sd["certificates"] = [other_cert]
    verdict = UNCHECKED.verify(info.dump(), DOCUMENT)
    assert verdict.status is VerdictStatus.INVALID
    assert "certificate" in (verdict.reason or "")


def test_swapped_certificate_with_same_issuer_and_serial_is_caught_by_signing_certificate_v2(
    counterparty: Counterparty,
) -> None:
    # An attacker's certificate claiming the same issuer and serial: the ESS
    # certificate hash in the signed attributes tells them apart.
    name = subject_name(common_name="x", inn_le=counterparty.inn)
    key, cert = make_test_identity(name)
    _, impostor = make_test_identity(name)
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    real_der = cert.public_bytes(serialization.Encoding.DER)
    sig = detached_signed_data(
        content_digest=_sha256(DOCUMENT),
        cert_der=real_der,
        digest_oid="2.16.840.1.101.3.4.2.1",
        cert_hash=_sha256(impostor.public_bytes(serialization.Encoding.DER)),
        signature_oid="1.2.840.10045.4.3.2",
        sign=lambda der: key.sign(der, ec.ECDSA(hashes.SHA256())),  # type: ignore[union-attr]
    )
    verdict = UNCHECKED.verify(sig, DOCUMENT)
    assert verdict.status is VerdictStatus.INVALID
    assert "signingCertificateV2" in (verdict.reason or "")


def _sha256(data: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(data).digest()


@pytest.mark.parametrize("kind", ["rsa", "gost256"])
def test_truncated_signature_is_invalid_not_a_crash(kind: str, signed: dict[str, bytes]) -> None:
    for cut in (1, 10, len(signed[kind]) // 2, len(signed[kind]) - 1):
        verdict = UNCHECKED.verify(signed[kind][:cut], DOCUMENT)
        assert verdict.status is VerdictStatus.INVALID
        assert verdict.reason


@pytest.mark.parametrize("kind", ["ec", "gost512"])
def test_base64_and_pem_encodings_verify(kind: str, signed: dict[str, bytes]) -> None:
    b64 = base64.encodebytes(signed[kind])
    pem = b"-----BEGIN CMS-----\n" + b64 + b"-----END CMS-----\n"
    assert UNCHECKED.verify(b64, DOCUMENT).ok
    assert UNCHECKED.verify(pem, DOCUMENT).ok
    assert not UNCHECKED.verify(b64.replace(b"A", b"B", 1), DOCUMENT).ok


def test_reordered_signed_attributes_are_invalid(signed: dict[str, bytes]) -> None:
    # The same attributes in another order are other bytes than the ones signed.
    raw = signed["ec"]
    info = cms.ContentInfo.load(raw)
    attrs = info["content"]["signer_infos"][0]["signed_attrs"]
    first, second = attrs[0].dump(), attrs[1].dump()
    contents = bytes(attrs.contents)
    assert contents.startswith(first + second)
    swapped = second + first + contents[len(first) + len(second) :]
    verdict = UNCHECKED.verify(raw.replace(contents, swapped), DOCUMENT)
    assert verdict.status is VerdictStatus.INVALID
    assert "signature value does not verify" in (verdict.reason or "")


def test_chain_not_checked_is_never_plain_valid(signed: dict[str, bytes]) -> None:
    verdict = Verifier().verify(signed["rsa"], DOCUMENT)
    assert verdict.status is VerdictStatus.VALID_CHAIN_UNCHECKED
    assert not verdict.ok
    assert verdict.to_dict()["status"] == "valid_chain_unchecked"
    assert verdict.to_dict()["chain"] == "not_checked"


@pytest.mark.parametrize("kind", KINDS)
def test_chain_checked_against_trust_store_is_valid(
    kind: str, signed: dict[str, bytes], cas: dict[str, CA]
) -> None:
    ca = cas["rsa" if kind in ("rsa", "ec") else kind]
    verdict = Verifier(TrustStore([ca.asn1])).verify(signed[kind], DOCUMENT)
    assert verdict.status is VerdictStatus.VALID, verdict.reason
    assert verdict.ok
    assert verdict.chain == "checked"


def test_trust_store_loads_from_directory_and_bundle(
    tmp_path, signed: dict[str, bytes], cas: dict[str, CA]
) -> None:
    (tmp_path / "roots").mkdir()
    (tmp_path / "roots" / "rsa.pem").write_bytes(cas["rsa"].pem())
    (tmp_path / "roots" / "gost.cer").write_bytes(cas["gost256"].der)
    (tmp_path / "bundle.pem").write_bytes(cas["rsa"].pem() + cas["gost512"].pem())
    by_dir = Verifier(tmp_path / "roots")
    by_bundle = Verifier(tmp_path / "bundle.pem")
    assert by_dir.verify(signed["gost256"], DOCUMENT).status is VerdictStatus.VALID
    assert by_bundle.verify(signed["gost512"], DOCUMENT).status is VerdictStatus.VALID
    assert by_bundle.verify(signed["gost256"], DOCUMENT).status is VerdictStatus.INVALID


def test_certificate_from_an_untrusted_ca_is_invalid(
    signed: dict[str, bytes], cas: dict[str, CA]
) -> None:
    verdict = Verifier(TrustStore([cas["gost256"].asn1])).verify(signed["ec"], DOCUMENT)
    assert verdict.status is VerdictStatus.INVALID
    assert verdict.chain == "failed"
    assert "certificate chain" in (verdict.reason or "")


def test_self_signed_certificate_is_not_trusted_by_a_store(
    cas: dict[str, CA],
) -> None:
    from edi_bridge.signing import throwaway_signer

    sig = throwaway_signer().sign(DOCUMENT)
    verdict = Verifier(TrustStore([cas["rsa"].asn1])).verify(sig, DOCUMENT)
    assert verdict.status is VerdictStatus.INVALID
    assert "self-signed" in (verdict.reason or "")


def test_expired_certificate_is_invalid(signed: dict[str, bytes]) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    verdict = Verifier(allow_unchecked_chain=True, at=later).verify(signed["rsa"], DOCUMENT)
    assert verdict.status is VerdictStatus.INVALID
    assert "not valid at" in (verdict.reason or "")


def test_detached_signature_without_document_is_invalid(signed: dict[str, bytes]) -> None:
    verdict = UNCHECKED.verify(signed["rsa"], None)
    assert verdict.status is VerdictStatus.INVALID
    assert "document is needed" in (verdict.reason or "")


def test_verdict_is_json_serialisable(signed: dict[str, bytes]) -> None:
    import json

    data = UNCHECKED.verify(signed["gost256"], DOCUMENT).to_dict()
    again = json.loads(json.dumps(data, ensure_ascii=False))
    assert again["signer"]["inn_le"] == data["signer"]["inn_le"]
    assert again["digest_algorithm"] == "streebog256"
    assert again["signature_algorithm"] == "gost3410-2012-256"


def test_streamed_document_verifies_like_bytes(tmp_path, signed: dict[str, bytes]) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(DOCUMENT)
    assert UNCHECKED.verify(signed["rsa"], path).ok
    chunks = [DOCUMENT[i : i + 7] for i in range(0, len(DOCUMENT), 7)]
    assert UNCHECKED.verify(signed["rsa"], iter(chunks)).ok


def test_signer_produces_detached_cades_bes_attributes(signers: dict[str, Signer]) -> None:
    info = cms.ContentInfo.load(signers["gost256"].sign(b"abc"))
    sd = info["content"]
    assert isinstance(sd["encap_content_info"]["content"], core.Void)
    names = [a["type"].native for a in sd["signer_infos"][0]["signed_attrs"]]
    assert sorted(names) == [
        "content_type",
        "message_digest",
        "signing_certificate_v2",
        "signing_time",
    ]
