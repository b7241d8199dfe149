"""Revocation both ways through the mock operator: the Bridge, the CLI, the lifecycle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from edi_bridge import Bridge, Exchange
from edi_bridge.cli import main
from edi_bridge.errors import UnsupportedFeature, ValidationError
from edi_bridge.lifecycle import EDI_TRANSITIONS, ExchangeStatus, allowed_transitions
from edi_bridge.provider import Capability, Provider, ProviderContext, RevocationRequest
from edi_bridge.signing import throwaway_signer
from edi_bridge.testing import sample_contract, sample_counterparty
from edi_bridge.testing.samples import sample_counterparty_data, sample_pdf

S = ExchangeStatus


def signed(bridge: Bridge, name: str, scenario: str = "sign") -> Exchange:
    exchange = bridge.send(
        sample_counterparty(name), sample_contract(f"RV-{name}"), provider="mock", scenario=scenario
    )
    return poll_until(bridge, exchange.id, S.SIGNED)


def poll_until(bridge: Bridge, exchange_id: str, status: str, rounds: int = 6) -> Exchange:
    for _ in range(rounds):
        bridge.poll(["mock"])
        found = bridge.status(exchange_id)
        if found.status == status:
            return found
    raise AssertionError(f"{exchange_id} stayed {bridge.status(exchange_id).status}")


def our_requests(bridge: Bridge) -> int:
    """How many revocation requests of ours the mock operator holds."""
    import sqlalchemy as sa

    from edi_bridge.store import schema

    with bridge.store.engine.connect() as conn:
        table = schema.mock_events
        count = sa.select(sa.func.count()).where(table.c.kind == "our_revoke")
        return int(conn.execute(count).scalar_one())


def test_the_lifecycle_needs_a_request_and_an_answer_to_revoke() -> None:
    assert allowed_transitions("edi", S.SIGNED) == {S.REVOCATION_REQUESTED, S.REVOKED}
    assert EDI_TRANSITIONS[S.REVOCATION_REQUESTED] == {S.REVOKED, S.REVOCATION_REJECTED}
    assert S.REVOCATION_REQUESTED in EDI_TRANSITIONS[S.REVOCATION_REJECTED]
    assert EDI_TRANSITIONS[S.REVOKED] == frozenset()


def test_we_revoke_and_the_counterparty_accepts(bridge: Bridge) -> None:
    exchange = signed(bridge, "rv-accepts")
    seen: list[tuple[str, str | None]] = []
    bridge.on("*", lambda event: seen.append((event.kind, event.reason)))
    asked = bridge.revoke(exchange.id, reason="Договор подписан по ошибке")
    assert asked.status == S.REVOCATION_REQUESTED
    assert asked.revocation == {"requested_by": "us", "reason": "Договор подписан по ошибке"}
    again = bridge.revoke(exchange.id, reason="Договор подписан по ошибке")
    assert (again.status, len(again.history)) == (asked.status, len(asked.history))
    assert our_requests(bridge) == 1  # the same request twice is one at the operator
    done = poll_until(bridge, exchange.id, S.REVOKED)
    assert done.history[-1].cause == "mock: revocation accepted"
    assert ("revocation_requested", "Договор подписан по ошибке") in seen
    assert seen[-1][0] == "revoked"


def test_we_revoke_and_the_counterparty_rejects_with_its_reason(bridge: Bridge) -> None:
    exchange = signed(bridge, "rv-rejects", "reject-revocation:Работы уже оплачены")
    bridge.revoke(exchange.id, reason="Ошибка в реквизитах")
    done = poll_until(bridge, exchange.id, S.REVOCATION_REJECTED)
    assert done.reason == "Работы уже оплачены"
    assert done.revocation == {
        "requested_by": "us",
        "reason": "Ошибка в реквизитах",
        "rejected_by": "counterparty",
        "rejection_reason": "Работы уже оплачены",
    }
    # Still signed and in force: we may ask again, which is a new request.
    bridge.revoke(exchange.id, reason="Просим ещё раз")
    assert our_requests(bridge) == 2


def test_a_counterparty_request_raises_an_event_and_we_accept(bridge: Bridge) -> None:
    exchange = signed(bridge, "rv-they-ask", "revoke")
    asked = poll_until(bridge, exchange.id, S.REVOCATION_REQUESTED)
    assert asked.revocation == {
        "requested_by": "counterparty",
        "reason": "the counterparty revoked its signature",
    }
    (event,) = [e for e in bridge.events() if e.kind == "revocation_requested"]
    assert event.data["requested_by"] == "counterparty"
    with pytest.raises(ValidationError, match="counterparty asked to revoke"):
        bridge.revoke(exchange.id, reason="мы тоже")
    done = bridge.accept_revocation(exchange.id)
    assert done.status == S.REVOKED
    assert bridge.accept_revocation(exchange.id).history == done.history  # once
    bridge.poll(["mock"])
    assert bridge.status(exchange.id).status == S.REVOKED


def test_we_reject_a_counterparty_request_and_it_stays_in_force(bridge: Bridge) -> None:
    exchange = signed(bridge, "rv-we-refuse", "revoke")
    poll_until(bridge, exchange.id, S.REVOCATION_REQUESTED)
    with pytest.raises(ValidationError, match="reason"):
        bridge.reject_revocation(exchange.id, reason="  ")
    done = bridge.reject_revocation(exchange.id, reason="Услуги оказаны")
    assert done.status == S.REVOCATION_REJECTED
    assert done.revocation is not None
    assert done.revocation["rejected_by"] == "us"
    assert done.revocation["rejection_reason"] == "Услуги оказаны"
    with pytest.raises(ValidationError, match="no revocation request"):
        bridge.accept_revocation(exchange.id)


def stored(bridge: Bridge, exchange_id: str, role: str) -> bytes:
    record = next(s for s in bridge.status(exchange_id).signatures if s.role == role)
    with bridge.store.open_blob(record.sha256) as fh:
        return fh.read()


def test_a_rejection_keeps_its_signed_xml_and_the_reason_read_from_it(bridge: Bridge) -> None:
    exchange = bridge.send(
        sample_counterparty("rv-no"),
        sample_contract("RV-NO"),
        provider="mock",
        scenario="reject:Цена <выше> согласованной",
    )
    done = poll_until(bridge, exchange.id, S.REJECTED)
    assert done.reason == "Цена <выше> согласованной"
    xml = stored(bridge, exchange.id, "rejection")
    assert "Цена &lt;выше&gt; согласованной" in xml.decode()
    assert stored(bridge, exchange.id, "rejection_signature")
    refused = signed(bridge, "rv-no-rev", "reject-revocation:Нет оснований")
    bridge.revoke(refused.id, reason="Просим аннулировать")
    poll_until(bridge, refused.id, S.REVOCATION_REJECTED)
    assert "Нет оснований" in stored(bridge, refused.id, "revocation_rejection").decode()


def test_revoking_what_is_not_signed_is_refused_and_sends_nothing(bridge: Bridge) -> None:
    exchange = bridge.send(
        sample_counterparty("rv-silent"),
        sample_contract("RV-S"),
        provider="mock",
        scenario="silent",
    )
    with pytest.raises(ValidationError, match="is sent; only a document both sides signed"):
        bridge.revoke(exchange.id, reason="Передумали")
    with pytest.raises(ValidationError, match="no revocation request"):
        bridge.reject_revocation(exchange.id, reason="нет")
    assert our_requests(bridge) == 0
    assert bridge.status(exchange.id).status == S.SENT


def test_an_adapter_without_the_capability_says_so(bridge: Bridge) -> None:
    class Plain(Provider):
        name = "plain"

    request = RevocationRequest("ex", {}, "d", "k", throwaway_signer())
    with pytest.raises(UnsupportedFeature, match=str(Capability.REVOCATION)):
        Plain(ProviderContext(config={})).request_revocation(request)


# -- the command line --------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDI_BRIDGE_DB", raising=False)
    (tmp_path / "client.json").write_text(
        json.dumps(sample_counterparty_data("rv-cli"), ensure_ascii=False), encoding="utf-8"
    )
    (tmp_path / "contract.pdf").write_bytes(sample_pdf("Contract RV-CLI"))
    return tmp_path


def run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, (result.output, result.stderr)
    return result


def cli_send(scenario: str) -> str:
    args = ("--counterparty", "client.json", "--document", "contract.pdf")
    return str(run("send", *args, "--mock-scenario", scenario).stdout.split()[0])


def test_cli_revoke_is_honest_and_idempotent(workdir: Path) -> None:
    ex_id = cli_send("sign")
    refused = run("revoke", ex_id, "--reason", "Ошибка", code=1)
    assert "only a document both sides signed can be revoked" in refused.stderr
    run("poll")
    first = json.loads(run("revoke", ex_id, "--reason", "Ошибка", "--json").stdout)
    assert (first["status"], first["sent"]) == ("revocation_requested", True)
    second = run("revoke", ex_id, "--reason", "Ошибка").stdout
    assert second.strip() == f"{ex_id} revocation_requested: already requested; nothing sent again"
    run("poll")
    summary = json.loads(run("status", ex_id, "--json").stdout)
    assert summary["status"] == "revoked"
    missing = run("revoke", ex_id, code=2)
    assert "--reason" in missing.stderr


def test_cli_answers_the_counterparty_request(workdir: Path) -> None:
    ex_id = cli_send("revoke")
    run("poll")
    run("poll")
    status = json.loads(run("status", ex_id, "--json").stdout)
    assert status["revocation"]["requested_by"] == "counterparty"
    shown = run("status", ex_id).stdout
    assert "revocation   requested by counterparty: the counterparty revoked its signature" in shown
    out = run("revocation", "reject", ex_id, "--reason", "Договор исполнен").stdout
    assert (
        out.strip()
        == f"{ex_id} revocation_rejected: revocation rejected; the document stays signed"
    )
    refused = run("revocation", "accept", ex_id, code=1)
    assert "no revocation request from the counterparty" in refused.stderr
