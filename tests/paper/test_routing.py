"""Routing: EDI or paper, with the reason recorded in the history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import ClassVar

import pytest
from edi_bridge_providers.mock import MockProvider

from edi_bridge import Bridge, Capability, Counterparty, ProviderContext
from edi_bridge.errors import UnknownProvider, ValidationError
from edi_bridge.models import Channel, ExchangeStatus
from edi_bridge.paper import RoutingPolicy
from edi_bridge.registry import Registry
from edi_bridge.testing import sample_counterparty
from edi_bridge.testing.samples import sample_contract

from .conftest import open_bridge


class NoBoxProvider(MockProvider):
    """An operator that can look boxes up and finds none."""

    name = "nobox"
    operator = "nobox"
    capabilities: ClassVar[frozenset[Capability]] = MockProvider.capabilities

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)

    def can_receive(self, counterparty: Counterparty) -> bool:
        return False


def _registry() -> Registry:
    registry = Registry(use_entry_points=False)
    registry.register("mock", MockProvider)
    registry.register("nobox", NoBoxProvider)
    return registry


def _bridge(tmp_path: Path, **settings: str) -> Bridge:
    bridge = open_bridge(tmp_path, **settings)
    bridge.registry = _registry()
    return bridge


def _with_route(operator: str, participant: str) -> Counterparty:
    return sample_counterparty(
        f"route-{operator}", edi=[{"operator": operator, "participant_id": participant}]
    )


def test_no_edi_route_goes_on_paper_and_says_why(tmp_path: Path) -> None:
    with _bridge(tmp_path) as bridge:
        exchange = bridge.send(sample_counterparty("noroute", edi=[]), sample_contract("R-1"))
    assert exchange.channel == Channel.PAPER
    assert exchange.status == ExchangeStatus.PREPARED
    assert exchange.reason == "counterparty has no EDI route; sending on paper"
    assert "routed to paper: counterparty has no EDI route" in exchange.history[0].cause


def test_operator_no_adapter_serves_is_refused_naming_the_route_and_the_installed_ones(
    tmp_path: Path,
) -> None:
    (tmp_path / "off").mkdir()
    off_settings = {"paper.enabled": "false"}
    with _bridge(tmp_path) as bridge, _bridge(tmp_path / "off", **off_settings) as off:
        for each in (bridge, off):
            with pytest.raises(ValidationError) as err:
                each.send(_with_route("diadok", "2BM-1234"), sample_contract("R-2"))
            assert err.value.field == "edi[0].operator"
            assert "'diadok'" in err.value.rule
            assert "installed operators: mock, nobox" in err.value.rule
            assert each.list() == []


def test_operator_without_installed_provider_goes_on_paper_when_so_configured(
    tmp_path: Path,
) -> None:
    with _bridge(tmp_path, **{"paper.unknown_operators_to_paper": "true"}) as bridge:
        exchange = bridge.send(_with_route("someop", "SOM-1234"), sample_contract("R-2"))
        assert "no installed provider serves" in bridge.status(exchange.id).history[0].cause
    assert exchange.channel == Channel.PAPER
    assert "no installed provider serves the counterparty's operators (someop)" in (
        exchange.reason or ""
    )


def test_provider_that_cannot_deliver_sends_it_on_paper(tmp_path: Path) -> None:
    with _bridge(tmp_path) as bridge:
        exchange = bridge.send(_with_route("nobox", "NOB-1234"), sample_contract("R-3"))
    assert exchange.channel == Channel.PAPER
    assert "nobox reported that the counterparty cannot receive" in (exchange.reason or "")


def test_served_edi_route_goes_by_edi(tmp_path: Path) -> None:
    with _bridge(tmp_path) as bridge:
        exchange = bridge.send(_with_route("mock", "MOK-1234"), sample_contract("R-4"))
    assert exchange.channel == Channel.EDI
    assert exchange.provider == "mock"
    assert "counterparty's EDI route mock (MOK-1234)" in exchange.history[0].cause


def test_caller_asking_for_paper_gets_paper_even_with_an_edi_route(tmp_path: Path) -> None:
    with _bridge(tmp_path) as bridge:
        exchange = bridge.send(
            _with_route("mock", "MOK-1234"), sample_contract("R-5"), provider="paper"
        )
    assert exchange.channel == Channel.PAPER
    assert exchange.reason == "paper asked for by the caller"


def test_caller_asking_for_a_provider_is_honoured_without_a_route(tmp_path: Path) -> None:
    with _bridge(tmp_path) as bridge:
        exchange = bridge.send(
            sample_counterparty("demo-like"), sample_contract("R-6"), provider="mock"
        )
        assert exchange.channel == Channel.EDI
        assert exchange.status == ExchangeStatus.SENT
        with pytest.raises(UnknownProvider):
            bridge.send(sample_counterparty("x"), sample_contract("R-7"), provider="nosuch")


def test_paper_disabled_falls_back_to_the_mock(tmp_path: Path) -> None:
    with _bridge(tmp_path, **{"paper.enabled": "false"}) as bridge:
        exchange = bridge.send(sample_counterparty("off", edi=[]), sample_contract("R-8"))
    assert exchange.channel == Channel.EDI
    assert exchange.provider == "mock"
    assert "paper is disabled, using 'mock'" in exchange.history[0].cause


def test_paper_route_refuses_a_scenario_and_stores_nothing(tmp_path: Path) -> None:
    with _bridge(tmp_path) as bridge:
        with pytest.raises(ValidationError) as err:
            bridge.send(sample_counterparty("sc", edi=[]), sample_contract("R-9"), scenario="sign")
        assert err.value.field == "scenario"
        assert bridge.list() == []


def test_policy_reads_its_settings_and_refuses_bad_ones() -> None:
    policy = RoutingPolicy.from_settings(
        {"paper.fallback_on_failure": "yes", "paper.fallback_after_days": "14"}, environ={}
    )
    assert policy.fallback_on_failure
    assert policy.fallback_after_days == 14
    with pytest.raises(ValidationError) as err:
        RoutingPolicy.from_settings({"paper.fallback_after_days": "two"}, environ={})
    assert err.value.field == "paper.fallback_after_days"


def test_failed_edi_send_falls_back_to_paper_when_configured(tmp_path: Path) -> None:
    with _bridge(tmp_path, **{"paper.fallback_on_failure": "true"}) as bridge:
        edi = bridge.send(_with_route("mock", "MOK-1234"), sample_contract("R-10"))
        with bridge.store.transaction() as conn:
            bridge.writer.write(conn, edi.id, ExchangeStatus.FAILED, "operator refused")
        made = bridge.paper.apply_fallbacks()
        again = bridge.paper.apply_fallbacks()
        assert [e.previous_id for e in made] == [edi.id]
        assert again == []
        assert made[0].channel == Channel.PAPER
        assert "the EDI send failed" in (made[0].reason or "")
        assert any(f"sent on paper as {made[0].id}" in h.cause for h in bridge.history(edi.id))


def test_silent_edi_exchange_falls_back_after_n_days(tmp_path: Path) -> None:
    with _bridge(tmp_path, **{"paper.fallback_after_days": "10"}) as bridge:
        edi = bridge.send(
            _with_route("mock", "MOK-1234"), sample_contract("R-11"), scenario="silent"
        )
        assert edi.status == ExchangeStatus.SENT
        assert bridge.paper.apply_fallbacks() == []  # not yet
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=11)
        made = bridge.paper.apply_fallbacks(now=later)
        assert [e.previous_id for e in made] == [edi.id]
        assert "no answer by EDI for 10 days" in (made[0].reason or "")
