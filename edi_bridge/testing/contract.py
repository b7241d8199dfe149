"""The provider contract suite: what every adapter must do, as pytest tests.

An adapter's test module subclasses :class:`ProviderContract` and supplies a
``contract_env`` fixture returning a :class:`ContractEnv`: a Bridge wired to
the adapter (and to its fake operator), and a way to make counterparties that
behave by a scenario (``sign``, ``reject:REASON``; see
:mod:`edi_bridge.fakes.scenario`)::

    class TestDiadocContract(ProviderContract):
        @pytest.fixture
        def contract_env(self, diadoc_fake, tmp_path):
            return ContractEnv(bridge=..., provider="diadoc", ...)

The suite only uses the public Bridge API and the store, so passing it means
the adapter fits the workflow, not just its own unit tests.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..models import Counterparty, Document, Exchange, ExchangeStatus
from ..workflow import Bridge
from .samples import sample_contract


@dataclasses.dataclass
class ContractEnv:
    bridge: Bridge
    provider: str
    counterparty: Callable[[str], Counterparty]
    """Requisites of a counterparty that plays ``scenario`` at the operator."""
    documents_at_provider: Callable[[str], int]
    """How many documents the operator holds for an idempotency key."""
    send_kwargs: Callable[[str], Mapping[str, Any]] = lambda _scenario: {}
    """Extra Bridge.send arguments for a scenario (the mock takes ``scenario=``)."""
    max_polls: int = 10


def poll_until(env: ContractEnv, exchange_id: str, *statuses: str) -> Exchange:
    """Poll until the exchange reaches one of ``statuses`` (bounded)."""
    for _ in range(env.max_polls):
        env.bridge.poll([env.provider])
        exchange = env.bridge.status(exchange_id)
        if exchange.status in statuses:
            return exchange
    raise AssertionError(
        f"{exchange_id} did not reach {statuses} in {env.max_polls} polls: "
        f"{env.bridge.status(exchange_id).status}"
    )


class ProviderContract:
    """Subclass in a test module and provide the ``contract_env`` fixture."""

    def _send(
        self, env: ContractEnv, scenario: str, key: str, document: Document | None = None
    ) -> Exchange:
        return env.bridge.send(
            env.counterparty(scenario),
            document or sample_contract(f"C-{key}"),
            idempotency_key=key,
            provider=env.provider,
            **dict(env.send_kwargs(scenario)),
        )

    def test_sent_contract_ends_signed_with_counterparty_signature(
        self, contract_env: ContractEnv
    ) -> None:
        seen: list[str | None] = []
        contract_env.bridge.on("signed", lambda event: seen.append(event.exchange_id))
        exchange = self._send(contract_env, "sign", "contract-sign")
        assert exchange.status == ExchangeStatus.SENT
        assert exchange.provider == contract_env.provider
        done = poll_until(contract_env, exchange.id, ExchangeStatus.SIGNED)
        roles = {s.role for s in done.signatures}
        assert roles == {"ours", "counterparty"}
        assert seen == [exchange.id]
        assert [h.status for h in done.history][:2] == ["queued", "sent"]

    def test_rejection_keeps_the_reason(self, contract_env: ContractEnv) -> None:
        reason = "Неверные реквизиты"
        exchange = self._send(contract_env, f"reject:{reason}", "contract-reject")
        done = poll_until(contract_env, exchange.id, ExchangeStatus.REJECTED)
        assert done.reason == reason
        assert contract_env.bridge.status(exchange.id).as_summary()["reason"] == reason

    def test_same_idempotency_key_twice_makes_one_document(self, contract_env: ContractEnv) -> None:
        first = self._send(contract_env, "sign", "contract-once")
        second = self._send(contract_env, "sign", "contract-once")
        assert first.id == second.id
        assert contract_env.documents_at_provider("contract-once") == 1
        assert len(contract_env.bridge.list()) == 1

    def test_events_delivered_twice_make_one_transition(self, contract_env: ContractEnv) -> None:
        bridge = contract_env.bridge
        exchange = self._send(contract_env, "sign", "contract-replay")
        poll_until(contract_env, exchange.id, ExchangeStatus.SIGNED)
        before = bridge.status(exchange.id)
        events_before = len(bridge.events())
        # Forget every cursor so the operator's whole feed is read again.
        with bridge.store.transaction() as conn:
            for scope in bridge.store.cursor_scopes():
                bridge.store.set_cursor(conn, scope, None)
        bridge.poll([contract_env.provider])
        after = bridge.status(exchange.id)
        assert after.status == ExchangeStatus.SIGNED
        assert len(after.history) == len(before.history)
        assert len(after.signatures) == len(before.signatures)
        assert len(bridge.events()) == events_before

    def test_fetch_writes_files_whose_hashes_match_the_manifest(
        self, contract_env: ContractEnv, tmp_path: Path
    ) -> None:
        document = sample_contract("C-fetch")
        exchange = self._send(contract_env, "sign", "contract-fetch", document)
        poll_until(contract_env, exchange.id, ExchangeStatus.SIGNED)
        manifest_path = contract_env.bridge.fetch(exchange.id, tmp_path / "out")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        roles = {f["role"] for f in manifest["files"]}
        assert {"document", "our_signature", "counterparty_signature"} <= roles
        for entry in manifest["files"]:
            data = (manifest_path.parent / entry["name"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["name"]
        # Ours and the operator's copy (when it returns one) are the same bytes.
        for entry in manifest["files"]:
            if entry["role"] in ("document", "provider_document"):
                assert entry["sha256"] == document.sha256, entry["name"]


__all__ = ["ContractEnv", "ProviderContract", "poll_until"]
