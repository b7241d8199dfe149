"""Archives made by ``fetch`` verify every signature at signing time and say so: a
counterparty signature whose certificate expired since the signing is still valid there."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import x509 as a509
from click.testing import CliRunner

from edi_bridge import Bridge
from edi_bridge.mchd import synthetic_person
from edi_bridge.signing import (
    SignatureChecker,
    SoftwareSigner,
    TrustStore,
    VerdictStatus,
    Verifier,
    make_personal_identity,
)
from edi_bridge.signing.cms import detached_signed_data, sha256
from edi_bridge.testing import sample_contract, sample_counterparty
from edi_bridge.testing.samples import sample_counterparty_data, sample_pdf

NOW = dt.datetime.now(dt.UTC)
PERSON = synthetic_person(43, position="Бухгалтер")


def _expired_signature(content: bytes) -> tuple[SoftwareSigner, bytes]:
    """A certificate valid from 400 to 10 days ago; the signature made 100 days ago."""
    key, cert = make_personal_identity(PERSON, not_before=NOW - dt.timedelta(days=400), days=390)
    signer = SoftwareSigner(key, cert)
    signature = detached_signed_data(
        content_digest=sha256(content),
        cert_der=signer.certificate,
        digest_oid=signer.digest_oid,
        cert_hash=sha256(signer.certificate),
        signature_oid=signer.signature_oid,
        sign=signer._sign_attributes,
        signing_time=NOW - dt.timedelta(days=100),
    )
    return signer, signature


@pytest.fixture
def archived(tmp_path: Path) -> Iterator[tuple[Bridge, str, bytes]]:
    bridge = Bridge.open(tmp_path / "edi.db")
    exchange = bridge.send(
        sample_counterparty("arch-1"), sample_contract("ARCH-1"), provider="mock"
    )
    bridge.poll(["mock"])
    with bridge.content(exchange.id) as fh:
        content = fh.read()
    signer, signature = _expired_signature(content)
    with bridge.store.transaction() as conn:
        bridge.store.add_signature(conn, exchange.id, "counterparty", "old.sig", signature)
    bridge.signature_check = SignatureChecker(
        bridge.store, trust_store=TrustStore([a509.Certificate.load(signer.certificate)])
    )
    yield bridge, exchange.id, signature
    bridge.close()


def test_fetch_verifies_an_expired_signature_at_signing_time_and_says_so(
    archived: tuple[Bridge, str, bytes], tmp_path: Path
) -> None:
    bridge, exchange_id, signature = archived
    manifest = json.loads(bridge.fetch(exchange_id, tmp_path / "out").read_text("utf-8"))
    assert manifest["verified_at"] == "signing-time"
    entry = next(f for f in manifest["files"] if f["name"] == "old.sig")
    assert entry["verdict"]["status"] == "valid"
    assert entry["verdict"]["chain"] == "checked"
    assert entry["verdict"]["checked_at"] == "signing-time"
    assert entry["verdict"]["signer"]["snils"] == PERSON.snils
    # Checked now, the same signature is invalid: the certificate has expired.
    document = (tmp_path / "out" / manifest["document"]["file_name"]).read_bytes()
    now = bridge.signature_check.verifier.verify(signature, document)  # type: ignore[union-attr]
    assert now.status is VerdictStatus.INVALID
    # Every signature file of the archive carries its verdict, ours included.
    roles = {f["role"] for f in manifest["files"] if "verdict" in f}
    assert {"our_signature", "counterparty_signature"} <= roles


def test_fetch_without_a_trust_store_says_the_chain_was_not_checked(tmp_path: Path) -> None:
    bridge = Bridge.open(tmp_path / "edi.db")
    try:
        exchange = bridge.send(
            sample_counterparty("arch-2"), sample_contract("ARCH-2"), provider="mock"
        )
        bridge.poll(["mock"])
        manifest = json.loads(bridge.fetch(exchange.id, tmp_path / "out").read_text("utf-8"))
    finally:
        bridge.close()
    verdicts = [f["verdict"] for f in manifest["files"] if f["role"].endswith("signature")]
    assert verdicts
    assert {v["status"] for v in verdicts} == {"valid_chain_unchecked"}
    assert {v["chain"] for v in verdicts} == {"not_checked"}
    assert Verifier().verify(b"not a signature", b"x").checked_at == "now"


def test_fetch_command_prints_each_signature_verdict_at_signing_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edi_bridge.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDI_BRIDGE_DB", raising=False)
    (tmp_path / "client.json").write_text(
        json.dumps(sample_counterparty_data("arch-3"), ensure_ascii=False), encoding="utf-8"
    )
    (tmp_path / "contract.pdf").write_bytes(sample_pdf("Contract ARCH-3"))
    runner = CliRunner()
    sent = runner.invoke(
        main, ["send", "--counterparty", "client.json", "--document", "contract.pdf"]
    )
    assert sent.exit_code == 0, sent.output
    exchange_id = sent.stdout.split()[0]
    assert runner.invoke(main, ["poll"]).exit_code == 0
    fetched = runner.invoke(main, ["fetch", exchange_id, "--out", "o"])
    assert fetched.exit_code == 0, fetched.output
    noted = [line for line in fetched.output.splitlines() if "verified at signing time" in line]
    assert len(noted) == 4  # ours and theirs as stored, and the operator's copies
    assert all(line.endswith("(verified at signing time: valid_chain_unchecked)") for line in noted)
