"""The counterparty's signature is checked by default for every EDI provider; a setting
turns that off and each signature kept meanwhile says so. The МЧД that came with a
signature is kept with it (and with an event that arrived before its send was recorded),
so a held signature is checked again on the same power of attorney."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_early_events import PolledMeanwhile, _registry

from edi_bridge import Bridge
from edi_bridge.cli import main
from edi_bridge.errors import ConfigurationError
from edi_bridge.models import ExchangeStatus
from edi_bridge.signing import SignatureChecker
from edi_bridge.store import schema
from edi_bridge.testing import sample_contract, sample_counterparty
from edi_bridge.workflow import manual


def _send(bridge: Bridge, seed: str, scenario: str = "sign") -> str:
    ex = bridge.send(sample_counterparty(seed), sample_contract(f"C-{seed}"), scenario=scenario)
    for _ in range(3):
        bridge.poll(["mock"])
    return ex.id


def test_a_bridge_checks_the_counterparty_signature_without_being_told(tmp_path: Path) -> None:
    with Bridge.open(tmp_path / "d.db") as bridge:
        done = bridge.status(_send(bridge, "default"))
    assert done.status == ExchangeStatus.SIGNED
    verdict = next(s.verdict for s in done.signatures if s.role == "counterparty")
    assert verdict is not None
    # No trust store: the chain is unchecked, which does not hold the exchange.
    assert (verdict["status"], verdict["ok"]) == ("valid_chain_unchecked", True)
    assert verdict["authority"]["kind"] == "certificate"


def test_an_employee_without_an_mchd_is_held_by_default(tmp_path: Path) -> None:
    with Bridge.open(tmp_path / "d.db") as bridge:
        held = bridge.status(_send(bridge, "no-mchd", "sign-employee-no-mchd"))
    assert held.status != ExchangeStatus.SIGNED
    assert held.needs_attention


def test_the_setting_turns_the_check_off_and_status_json_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "off.db"
    monkeypatch.setenv("EDI_BRIDGE_SIGNING_CHECK_COUNTERPARTY", "false")
    with Bridge.open(db) as bridge:
        # Off: even an employee without an МЧД is not held.
        exchange_id = _send(bridge, "off", "sign-employee-no-mchd")
        assert bridge.status(exchange_id).status == ExchangeStatus.SIGNED
    out = CliRunner().invoke(main, ["--db", str(db), "status", exchange_id, "--json"])
    assert out.exit_code == 0, out.output
    kept = [s for s in json.loads(out.output)["signatures"] if s["role"] == "counterparty"]
    assert kept[0]["verdict"]["status"] == "not_checked"
    assert "signing.check_counterparty=false" in kept[0]["verdict"]["reason"]
    text = CliRunner().invoke(main, ["--db", str(db), "status", exchange_id])
    assert "authority  not checked: the counterparty signature check was off" in text.output


def test_a_misspelt_value_of_the_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"check_counterparty must be true or false"):
        Bridge.open(tmp_path / "x.db", settings={"signing.check_counterparty": "flase"})


def test_an_early_event_keeps_the_employee_s_mchd(tmp_path: Path) -> None:
    db = tmp_path / "early.db"
    with (
        Bridge.open(db, registry=_registry()) as sender,
        Bridge.open(db, registry=_registry()) as other,
    ):
        PolledMeanwhile.other = other
        done = sender.send(
            sample_counterparty("early-mchd"),
            sample_contract(),
            provider=PolledMeanwhile.name,
            scenario="sign-employee",
        )
        with sender.store.engine.connect() as conn:
            assert conn.execute(schema.early_events.select()).all() == []
    # Parked before the send was recorded, applied after: the МЧД came along.
    assert done.status == ExchangeStatus.SIGNED
    verdict = next(s.verdict for s in done.signatures if s.role == "counterparty")
    assert verdict is not None
    assert verdict["authority"]["kind"] == "power_of_attorney"


def test_reverify_checks_the_held_signature_on_its_kept_mchd(tmp_path: Path) -> None:
    with Bridge.open(tmp_path / "r.db") as bridge:
        # A strict check (chain required, no trust store) holds the employee's signature.
        bridge.signature_check = SignatureChecker(bridge.store)
        exchange_id = _send(bridge, "reverify", "sign-employee")
        assert bridge.status(exchange_id).needs_attention
        lenient = SignatureChecker(bridge.store, allow_unchecked_chain=True)
        done, verdict = manual.reverify(
            bridge.store, bridge.writer, bridge.outbox, exchange_id, lenient
        )
    assert verdict["ok"], verdict
    assert verdict["authority"]["kind"] == "power_of_attorney"
    assert done.status == ExchangeStatus.SIGNED


def test_reverify_still_holds_an_expired_mchd(tmp_path: Path) -> None:
    db = tmp_path / "r2.db"
    with Bridge.open(db) as bridge:
        exchange_id = _send(bridge, "expired", "sign-employee-expired-mchd")
    out = CliRunner().invoke(main, ["--db", str(db), "reverify", exchange_id, "--json"])
    assert out.exit_code == 1
    verdict = json.loads(out.output.splitlines()[0])["verdict"]
    assert verdict["status"] == "mchd_invalid"
    assert "expired" in verdict["reason"]
