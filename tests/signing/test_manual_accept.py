"""A counterparty signature the check held: a person accepts it (who and why in the
history), or it is checked again and becomes signed when it now passes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edi_bridge import Bridge
from edi_bridge.errors import ValidationError
from edi_bridge.models import ExchangeStatus
from edi_bridge.signing import SignatureChecker
from edi_bridge.testing import sample_contract, sample_counterparty
from edi_bridge.workflow import manual

from .pki import make_ca


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    b = Bridge.open(tmp_path / "edi.db")
    yield b
    b.close()


def _held(bridge: Bridge, seed: str) -> str:
    # No trust store and an unchecked chain not allowed: the check holds the signature.
    bridge.signature_check = SignatureChecker(bridge.store)
    exchange = bridge.send(sample_counterparty(seed), sample_contract(f"H-{seed}"), provider="mock")
    bridge.poll(["mock"])
    held = bridge.status(exchange.id)
    assert held.needs_attention
    assert held.status != ExchangeStatus.SIGNED
    return exchange.id


def test_a_person_accepts_a_held_signature_and_the_history_names_who_and_why(
    bridge: Bridge,
) -> None:
    exchange_id = _held(bridge, "acc-1")
    accepted = manual.accept(
        bridge.store, bridge.writer, bridge.outbox, exchange_id, "i.petrova", "checked by phone"
    )
    assert accepted.status == ExchangeStatus.SIGNED
    assert not accepted.needs_attention
    last = accepted.history[-1]
    assert last.cause == "held signature accepted by i.petrova: checked by phone"
    assert last.detail["accepted_by"] == "i.petrova"


def test_a_held_signature_checked_again_becomes_signed_when_it_now_passes(
    bridge: Bridge,
) -> None:
    exchange_id = _held(bridge, "acc-2")
    strict = SignatureChecker(bridge.store)
    same, verdict = manual.reverify(bridge.store, bridge.writer, bridge.outbox, exchange_id, strict)
    assert same.status != ExchangeStatus.SIGNED
    assert not verdict["ok"]
    lenient = SignatureChecker(bridge.store, allow_unchecked_chain=True)
    done, verdict = manual.reverify(
        bridge.store, bridge.writer, bridge.outbox, exchange_id, lenient
    )
    assert verdict["ok"]
    assert done.status == ExchangeStatus.SIGNED
    assert done.history[-1].cause == "held signature passed the check again"


def test_accept_and_reverify_refuse_an_exchange_not_held(bridge: Bridge) -> None:
    bridge.signature_check = SignatureChecker(bridge.store, allow_unchecked_chain=True)
    exchange = bridge.send(sample_counterparty("acc-3"), sample_contract("H-3"), provider="mock")
    with pytest.raises(ValidationError, match="not held by a signature check"):
        manual.accept(bridge.store, bridge.writer, bridge.outbox, exchange.id, "a", "b")
    check = SignatureChecker(bridge.store, allow_unchecked_chain=True)
    with pytest.raises(ValidationError, match="not held by a signature check"):
        manual.reverify(bridge.store, bridge.writer, bridge.outbox, exchange.id, check)
    with pytest.raises(ValidationError, match="needs who and why"):
        manual.accept(bridge.store, bridge.writer, bridge.outbox, exchange.id, "a", " ")


def test_cli_accept_needs_a_reason_and_reverify_signs_when_the_check_passes(
    bridge: Bridge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from edi_bridge.cli import main

    monkeypatch.delenv("EDI_BRIDGE_SIGNING_TRUST_STORE", raising=False)
    db = str(tmp_path / "edi.db")
    first, second = _held(bridge, "cli-1"), _held(bridge, "cli-2")
    runner = CliRunner()
    assert runner.invoke(main, ["--db", db, "accept", first]).exit_code == 2
    ok = runner.invoke(main, ["--db", db, "accept", first, "--reason", "seen", "--by", "ops"])
    assert ok.exit_code == 0, ok.output
    assert "signed: held signature accepted by ops: seen" in ok.output
    again = runner.invoke(main, ["--db", db, "accept", first, "--reason", "twice"])
    assert again.exit_code == 1
    assert "not held" in again.output
    # A trust store the counterparty's self-signed certificate does not chain to: held.
    roots = tmp_path / "roots.pem"
    roots.write_bytes(make_ca("rsa").pem())
    still = runner.invoke(main, ["--db", db, "reverify", second, "--trust-store", str(roots)])
    assert still.exit_code == 1
    assert "still does not pass" in still.output
    assert bridge.status(second).status != ExchangeStatus.SIGNED
    # No trust store: like the Bridge's own check, an unchecked chain does not hold it.
    passed = runner.invoke(main, ["--db", db, "reverify", second])
    assert passed.exit_code == 0, passed.output
    assert bridge.status(second).status == ExchangeStatus.SIGNED
