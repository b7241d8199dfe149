"""A counterparty's employee signs with an МЧД, end to end through the mock: the mock
delivers the МЧД with the signature, the Bridge's signature check (a veto step) reads it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edi_bridge import Bridge
from edi_bridge.cli.render import print_exchange
from edi_bridge.testing import sample_counterparty
from edi_bridge.testing.samples import sample_contract


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    with Bridge.open(tmp_path / "edi.db") as b:
        # The default check: no trust store, so the fakes' self-signed chains are unchecked.
        yield b


def _run(bridge: Bridge, scenario: str) -> tuple[str, bool, dict[str, Any]]:
    cp = sample_counterparty(f"mchd-{scenario}")
    ex = bridge.send(cp, sample_contract(f"M-{scenario}"), provider="mock", scenario=scenario)
    for _ in range(3):
        bridge.poll(["mock"])
    done = bridge.status(ex.id)
    verdicts = [h.detail["verdict"] for h in bridge.history(ex.id) if "verdict" in h.detail]
    assert len(verdicts) == 1, verdicts
    return done.status, done.needs_attention, verdicts[0]


def test_the_head_signs_on_the_certificate_s_own_authority(bridge: Bridge) -> None:
    status, attention, verdict = _run(bridge, "sign")
    assert (status, attention) == ("signed", False)
    assert verdict["ok"] is True
    assert verdict["authority"]["kind"] == "certificate"


def test_an_employee_with_a_valid_mchd_signs_and_the_authority_is_recorded(
    bridge: Bridge,
) -> None:
    status, attention, verdict = _run(bridge, "sign-employee")
    assert (status, attention) == ("signed", False)
    assert verdict["ok"] is True
    authority = verdict["authority"]
    assert authority["kind"] == "power_of_attorney"
    assert authority["number"]


@pytest.mark.parametrize(
    ("scenario", "status", "reason"),
    [
        ("sign-employee-expired-mchd", "mchd_invalid", "expired"),
        ("sign-employee-other-principal", "mchd_invalid", "other principal"),
        ("sign-employee-other-representative", "mchd_invalid", "other representative"),
        ("sign-employee-no-mchd", "signer_mismatch", "without a power of attorney"),
    ],
)
def test_an_employee_signature_the_mchd_does_not_back_is_held_for_attention(
    bridge: Bridge, scenario: str, status: str, reason: str
) -> None:
    got, attention, verdict = _run(bridge, scenario)
    assert got != "signed"
    assert attention is True
    assert verdict["ok"] is False
    assert verdict["status"] == status
    assert reason in " ".join(verdict.get("reasons", [])) + str(verdict.get("reason", ""))


@pytest.mark.parametrize(
    ("scenario", "shown"),
    [
        ("sign", "authority  certificate"),
        ("sign-employee", "authority  МЧД "),
        ("sign-employee-expired-mchd", "not accepted: "),
    ],
)
def test_status_shows_each_counterparty_signature_s_authority(
    bridge: Bridge, scenario: str, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cp = sample_counterparty(f"show-{scenario}")
    ex = bridge.send(cp, sample_contract(f"S-{scenario}"), provider="mock", scenario=scenario)
    for _ in range(3):
        bridge.poll(["mock"])
    print_exchange(bridge.status(ex.id))
    assert shown in capsys.readouterr().out


def test_status_says_when_the_counterparty_signature_was_not_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    off = {"signing.check_counterparty": "false"}
    with Bridge.open(tmp_path / "plain.db", settings=off) as plain:
        ex = plain.send(sample_counterparty("plain"), sample_contract("P-1"), provider="mock")
        for _ in range(3):
            plain.poll(["mock"])
        print_exchange(plain.status(ex.id))
    out = capsys.readouterr().out
    assert "[not_checked]" in out
    assert "authority  not checked: the counterparty signature check was off" in out
