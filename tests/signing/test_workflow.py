"""Incoming counterparty signatures are verified before an exchange becomes signed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from edi_bridge import Bridge
from edi_bridge.errors import ConfigurationError
from edi_bridge.fakes import identities
from edi_bridge.models import EventKind, ExchangeStatus
from edi_bridge.signing import SignatureChecker, Signer, TrustStore
from edi_bridge.testing import sample_contract, sample_counterparty

from .pki import CA, issue_signer


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    b = Bridge.open(tmp_path / "edi.db")
    yield b
    b.close()


def _send_and_poll(bridge: Bridge, seed: str) -> str:
    exchange = bridge.send(sample_counterparty(seed), sample_contract(f"S-{seed}"), provider="mock")
    bridge.poll(["mock"])
    return exchange.id


def test_matching_counterparty_signature_makes_the_exchange_signed(bridge: Bridge) -> None:
    bridge.signature_check = SignatureChecker(bridge.store, allow_unchecked_chain=True)
    done = bridge.status(_send_and_poll(bridge, "wf-good"))
    assert done.status == ExchangeStatus.SIGNED
    theirs = next(s for s in done.signatures if s.role == "counterparty")
    assert theirs.verdict is not None
    assert theirs.verdict["status"] == "valid_chain_unchecked"
    assert theirs.verdict["signer"]["inn_le"] == done.counterparty.inn
    json.dumps(done.as_summary())  # the verdict shows in status --json


def test_signature_by_another_inn_is_signer_mismatch_and_not_signed(
    bridge: Bridge, monkeypatch: pytest.MonkeyPatch, cas: dict[str, CA]
) -> None:
    stranger = sample_counterparty("wf-stranger")
    impostor = issue_signer(cas["gost256"], "gost256", stranger)

    def signer_for(*_args: object, **_kwargs: object) -> Signer:
        return impostor

    import edi_bridge_providers.mock.counterparty as mock

    monkeypatch.setattr(mock, "counterparty_signer", signer_for)
    bridge.signature_check = SignatureChecker(bridge.store, allow_unchecked_chain=True)
    exchange = bridge.status(_send_and_poll(bridge, "wf-mismatch"))
    assert exchange.status != ExchangeStatus.SIGNED
    assert exchange.needs_attention
    events = [e for e in bridge.events() if e.exchange_id == exchange.id]
    flagged = [e for e in events if e.kind == EventKind.SIGNATURE_INVALID]
    assert len(flagged) == 1
    assert flagged[0].data is not None
    assert flagged[0].data["verdict"]["status"] == "signer_mismatch"
    assert stranger.inn in (flagged[0].reason or "")


def test_unchecked_chain_is_not_accepted_unless_allowed(bridge: Bridge) -> None:
    bridge.signature_check = SignatureChecker(bridge.store)
    exchange = bridge.status(_send_and_poll(bridge, "wf-unchecked"))
    assert exchange.status != ExchangeStatus.SIGNED
    assert exchange.needs_attention


def test_trust_store_accepts_a_counterparty_certificate_from_its_ca(
    bridge: Bridge, monkeypatch: pytest.MonkeyPatch, cas: dict[str, CA]
) -> None:
    counterparty = sample_counterparty("wf-trusted")
    signer = issue_signer(cas["rsa"], "ec", counterparty)
    import edi_bridge_providers.mock.counterparty as mock

    monkeypatch.setattr(mock, "counterparty_signer", lambda *a, **k: signer)
    bridge.signature_check = SignatureChecker(
        bridge.store, trust_store=TrustStore([cas["rsa"].asn1])
    )
    exchange = bridge.status(_send_and_poll(bridge, "wf-trusted"))
    assert exchange.status == ExchangeStatus.SIGNED
    theirs = next(s for s in exchange.signatures if s.role == "counterparty")
    assert theirs.verdict is not None
    assert theirs.verdict["status"] == "valid"


def test_fake_identities_still_carry_the_counterparty_inn() -> None:
    cp = sample_counterparty("wf-fake")
    signer = identities.counterparty_signer(
        cp.inn, cp.ogrn, cp.name, cp.signatory.full_name, cp.signatory.position
    )
    assert signer.certificate


def test_configured_signer_signs_our_outgoing_documents(tmp_path: Path) -> None:
    with Bridge.open(tmp_path / "edi.db", settings={"signing.kind": "test"}) as b:
        exchange = b.send(sample_counterparty("wf-ours"), sample_contract("S-ours"))
        ours = next(s for s in exchange.signatures if s.role == "ours")
        assert ours.size > 0
    bogus = Bridge.open(tmp_path / "x.db", settings={"signing.kind": "bogus"})
    with pytest.raises(ConfigurationError, match=r"signing\.kind"):
        _ = bogus.signer
    bogus.close()
