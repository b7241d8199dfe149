"""Verifying archived signatures: at signing time, with the signer shown even when
invalid, with OpenSSL ``TRUSTED CERTIFICATE`` stores, with the certificate found
outside the signature, and ``chain`` saying ``checked`` only after a chain check."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from asn1crypto import cms
from asn1crypto import x509 as a509
from click.testing import CliRunner

from edi_bridge.cli.verify import verify as verify_command
from edi_bridge.mchd import synthetic_person
from edi_bridge.signing import (
    SoftwareSigner,
    TrustStore,
    VerdictStatus,
    Verifier,
    make_personal_identity,
    parse_at,
)
from edi_bridge.signing.cms import detached_signed_data, sha256
from edi_bridge.signing.trust import load_certificates

from .pki import DOCUMENT

NOW = dt.datetime.now(dt.UTC)
SIGNED_AT = NOW - dt.timedelta(days=100)
PERSON = synthetic_person(41, position="Архивариус")
# OpenSSL's trust settings after the certificate: SEQUENCE { SEQUENCE { serverAuth } }.
TRUST_AUX = bytes.fromhex("300c300a06082b06010505070301")


def _pem(kind: str, der: bytes) -> bytes:
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----", ""]).encode()


@pytest.fixture(scope="module")
def expired() -> tuple[SoftwareSigner, bytes]:
    """A certificate valid from 400 to 10 days ago, and a signature made 100 days ago."""
    key, cert = make_personal_identity(PERSON, not_before=NOW - dt.timedelta(days=400), days=390)
    signer = SoftwareSigner(key, cert)
    signature = detached_signed_data(
        content_digest=sha256(DOCUMENT),
        cert_der=signer.certificate,
        digest_oid=signer.digest_oid,
        cert_hash=sha256(signer.certificate),
        signature_oid=signer.signature_oid,
        sign=signer._sign_attributes,
        signing_time=SIGNED_AT,
    )
    return signer, signature


def _without_certificates(signature: bytes) -> bytes:
    info = cms.ContentInfo.load(signature)
    info["content"]["certificates"] = None
    return bytes(info.dump(force=True))


def test_an_expired_certificate_is_invalid_now_and_still_names_the_signer(
    expired: tuple[SoftwareSigner, bytes],
) -> None:
    verdict = Verifier(allow_unchecked_chain=True).verify(expired[1], DOCUMENT)
    assert verdict.status is VerdictStatus.INVALID
    assert "not valid at" in (verdict.reason or "")
    assert verdict.signer is not None
    assert verdict.signer.snils == PERSON.snils
    assert verdict.to_dict()["signer"]["full_name"].startswith(PERSON.surname)


def test_at_signing_time_an_archived_signature_is_valid(
    expired: tuple[SoftwareSigner, bytes],
) -> None:
    signer, signature = expired
    store = TrustStore([a509.Certificate.load(signer.certificate)])
    verdict = Verifier(store, at="signing-time").verify(signature, DOCUMENT)
    assert verdict.status is VerdictStatus.VALID, verdict.reason
    assert verdict.chain == "checked"
    assert verdict.checked_at == "signing-time"


def test_at_a_given_date_validity_is_checked_then(expired: tuple[SoftwareSigner, bytes]) -> None:
    signature = expired[1]
    inside = Verifier(
        allow_unchecked_chain=True, at=parse_at((NOW - dt.timedelta(days=50)).date().isoformat())
    )
    assert inside.verify(signature, DOCUMENT).ok
    after = Verifier(allow_unchecked_chain=True, at=parse_at(NOW.date().isoformat()))
    assert after.verify(signature, DOCUMENT).status is VerdictStatus.INVALID


def test_parse_at_refuses_what_is_not_a_time() -> None:
    assert parse_at("Signing-Time") == "signing-time"
    assert parse_at("2026-01-02") == dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="not now, signing-time"):
        parse_at("yesterday")


def test_trusted_certificate_pem_blocks_are_read() -> None:
    signer = SoftwareSigner(*make_personal_identity(PERSON))
    pem = _pem("TRUSTED CERTIFICATE", signer.certificate + TRUST_AUX)
    (cert,) = load_certificates(pem)
    assert bytes(cert.dump()) == signer.certificate


def test_a_trusted_certificate_store_checks_a_chain(tmp_path: Path) -> None:
    signer = SoftwareSigner(*make_personal_identity(PERSON))
    (tmp_path / "roots.pem").write_bytes(
        _pem("TRUSTED CERTIFICATE", signer.certificate + TRUST_AUX)
    )
    verdict = Verifier(tmp_path / "roots.pem").verify(signer.sign(DOCUMENT), DOCUMENT)
    assert verdict.status is VerdictStatus.VALID
    assert verdict.chain == "checked"


def test_a_signature_without_its_certificate_finds_it_among_extra_certificates() -> None:
    signer = SoftwareSigner(*make_personal_identity(PERSON))
    bare = _without_certificates(signer.sign(DOCUMENT))
    verifier = Verifier(allow_unchecked_chain=True)
    missing = verifier.verify(bare, DOCUMENT)
    assert missing.status is VerdictStatus.INVALID
    assert "extra certificates or the trust store" in (missing.reason or "")
    found = verifier.verify(
        bare, DOCUMENT, extra_certificates=[a509.Certificate.load(signer.certificate)]
    )
    assert found.ok
    in_store = Verifier(TrustStore([a509.Certificate.load(signer.certificate)])).verify(
        bare, DOCUMENT
    )
    assert in_store.status is VerdictStatus.VALID


def test_chain_is_not_checked_when_verification_failed_before_it() -> None:
    signer = SoftwareSigner(*make_personal_identity(PERSON))
    store = TrustStore([a509.Certificate.load(signer.certificate)])
    verdict = Verifier(store).verify(signer.sign(DOCUMENT), DOCUMENT + b"changed")
    assert verdict.status is VerdictStatus.INVALID
    assert verdict.chain == "not_checked"
    assert verdict.to_dict()["chain"] == "not_checked"


def test_chain_is_failed_when_the_chain_check_ran_and_failed() -> None:
    signer = SoftwareSigner(*make_personal_identity(PERSON))
    other = SoftwareSigner(*make_personal_identity(synthetic_person(42)))
    store = TrustStore([a509.Certificate.load(other.certificate)])
    verdict = Verifier(store).verify(signer.sign(DOCUMENT), DOCUMENT)
    assert verdict.status is VerdictStatus.INVALID
    assert verdict.chain == "failed"
    assert verdict.signer is not None


def test_the_cli_verifies_an_archive_at_signing_time_with_extra_certificates(
    expired: tuple[SoftwareSigner, bytes], tmp_path: Path
) -> None:
    signer, signature = expired
    (tmp_path / "doc").write_bytes(DOCUMENT)
    (tmp_path / "doc.sig").write_bytes(_without_certificates(signature))
    cert_pem = _pem("CERTIFICATE", signer.certificate)
    (tmp_path / "signer.pem").write_bytes(cert_pem)
    args = [
        str(tmp_path / "doc"),
        str(tmp_path / "doc.sig"),
        "--extra-certs",
        str(tmp_path / "signer.pem"),
    ]
    now = CliRunner().invoke(verify_command, [*args, "--allow-unchecked-chain", "--json"])
    assert now.exit_code == 1
    assert json.loads(now.output)["signer"]["snils"] == PERSON.snils
    archived = CliRunner().invoke(
        verify_command, [*args, "--allow-unchecked-chain", "--at", "signing-time"]
    )
    assert archived.exit_code == 0, archived.output
    assert "certificates checked at: signing-time" in archived.output
    bad = CliRunner().invoke(verify_command, [*args, "--at", "someday"])
    assert bad.exit_code == 2
