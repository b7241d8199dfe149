"""One feed, carrier or shipment that fails never stops the others: each is polled
on its own, what was committed reaches the callbacks, and the failure is named."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from edi_bridge_providers.mock import MockProvider

from edi_bridge import Bridge, ConfigurationError, Event, PollFailed, Registry, TransientError
from edi_bridge.provider import EventPage
from edi_bridge.store import schema
from edi_bridge.testing import sample_contract, sample_counterparty
from edi_bridge.worker import Worker


class BrokenFeed(MockProvider):
    """A mock whose feed answers something the code does not expect."""

    name = "broken-feed"

    @property
    def cursor_scope(self) -> str:
        return self.name

    def poll(self, cursor: str | None) -> EventPage:
        raise AttributeError("'NoneType' object has no attribute 'events'")


def _registry() -> Registry:
    registry = Registry()
    registry.register(BrokenFeed.name, BrokenFeed)
    return registry


def _as_provider(bridge: Bridge, exchange_id: str, provider: str) -> None:
    """Record an exchange as sent through ``provider`` (as another deployment would have)."""
    with bridge.store.engine.begin() as conn:
        t = schema.exchanges
        conn.execute(t.update().where(t.c.id == exchange_id).values(provider=provider))


def _open(db: str | Path) -> Bridge:
    bridge = Bridge.open(db, registry=_registry())
    bridge.signature_check = None
    return bridge


def _isolation_case(db: str | Path) -> None:
    with _open(db) as bridge:
        seen: list[Event] = []
        bridge.on("*", seen.append)
        ours = bridge.send(sample_counterparty("a"), sample_contract("A-1"), scenario="sign")
        other = bridge.send(sample_counterparty("b"), sample_contract("B-1"), scenario="sign")
        # A sent exchange of a provider this deployment has no settings for.
        _as_provider(bridge, other.id, "diadoc")
        with pytest.raises(ConfigurationError):
            bridge.poll()  # the one feed that failed: its own error, after the others
        assert bridge.status(ours.id).status == "signed"
        assert "signed" in {e.kind for e in seen if e.exchange_id == ours.id}
        assert bridge.status(other.id).status == "sent"


def test_an_unconfigured_provider_fails_alone_and_the_others_are_polled(tmp_path: Path) -> None:
    _isolation_case(tmp_path / "edi.db")


def test_an_unconfigured_provider_fails_alone_on_postgresql(postgres_url: str) -> None:
    _isolation_case(postgres_url)


def test_a_feed_raising_anything_is_named_and_the_others_are_applied(tmp_path: Path) -> None:
    with _open(tmp_path / "edi.db") as bridge:
        seen: list[Event] = []
        bridge.on("signed", seen.append)
        ours = bridge.send(sample_counterparty("a"), sample_contract("A-1"), scenario="sign")
        other = bridge.send(sample_counterparty("b"), sample_contract("B-1"), scenario="sign")
        _as_provider(bridge, other.id, BrokenFeed.name)
        with pytest.raises(AttributeError):
            bridge.poll()
        assert [e.exchange_id for e in seen] == [ours.id]


def test_several_failed_feeds_are_each_named_and_the_others_applied(tmp_path: Path) -> None:
    with _open(tmp_path / "edi.db") as bridge:
        seen: list[Event] = []
        bridge.on("signed", seen.append)
        ours = bridge.send(sample_counterparty("a"), sample_contract("A-1"), scenario="sign")
        broken = bridge.send(sample_counterparty("b"), sample_contract("B-1"), scenario="sign")
        elsewhere = bridge.send(sample_counterparty("c"), sample_contract("C-1"), scenario="sign")
        _as_provider(bridge, broken.id, BrokenFeed.name)
        _as_provider(bridge, elsewhere.id, "diadoc")
        with pytest.raises(PollFailed) as failed:
            bridge.poll()
        assert set(failed.value.failures) == {BrokenFeed.name, "diadoc"}
        assert failed.value.failures[BrokenFeed.name].startswith("AttributeError")
        assert isinstance(failed.value.errors["diadoc"], ConfigurationError)
        assert [e.exchange_id for e in seen] == [ours.id]


def test_a_full_poll_backs_off_a_failed_feed_and_an_explicit_one_tries_it(
    tmp_path: Path,
) -> None:
    with _open(tmp_path / "edi.db") as bridge:
        other = bridge.send(sample_counterparty("b"), sample_contract("B-1"), scenario="sign")
        _as_provider(bridge, other.id, BrokenFeed.name)
        with pytest.raises(AttributeError):
            bridge.poll()
        assert bridge.poll() == []  # backed off: not asked again at once
        with pytest.raises(AttributeError):
            bridge.poll([BrokenFeed.name])  # asked by name: tried


def test_only_providers_with_exchanges_awaiting_news_are_polled(tmp_path: Path) -> None:
    with _open(tmp_path / "edi.db") as bridge:
        done = bridge.send(
            sample_counterparty("b"), sample_contract("B-1"), scenario="reject:wrong price"
        )
        bridge.poll()
        bridge.poll()
        assert bridge.status(done.id).status == "rejected"
        _as_provider(bridge, done.id, BrokenFeed.name)
        assert bridge.poll() == []  # a final exchange: its broken feed is not read


def test_the_worker_survives_any_exception_from_a_poll_and_keeps_sending(
    tmp_path: Path,
) -> None:
    with _open(tmp_path / "edi.db") as bridge:
        other = bridge.send(sample_counterparty("b"), sample_contract("B-1"), scenario="sign")
        _as_provider(bridge, other.id, BrokenFeed.name)
        queued = bridge.enqueue(sample_counterparty("a"), sample_contract("A-1"))
        stats = Worker(bridge, concurrency=1, poll_interval=0.0).run(until_idle=True)
        assert stats.errors >= 1
        assert stats.sent == 1
        assert bridge.status(queued.id).status != "queued"


def test_a_carrier_that_is_down_leaves_the_edi_news_handed_to_callbacks(tmp_path: Path) -> None:
    from edi_bridge.fakes.server import FakeOptions, FakeServer, load_fake

    server = FakeServer(load_fake("russianpost", FakeOptions(scenario="delivered"))).start()
    settings = server.settings(rate="1000")
    server.stop()  # the carrier is unreachable from now on
    with Bridge.open(tmp_path / "edi.db", settings=settings) as bridge:
        seen: list[Event] = []
        bridge.on("signed", seen.append)
        letter = bridge.send(sample_counterparty("p", edi=[]), sample_contract("P-1"))
        bridge.paper.dispatch(letter.id, "russianpost", "11741865001806")
        edi = bridge.send(sample_counterparty("a"), sample_contract("A-1"), scenario="sign")
        with pytest.raises(TransientError):
            bridge.poll()
        with pytest.raises(PollFailed) as failed:
            bridge.paper.track()
        assert list(failed.value.failures) == ["carrier russianpost 11741865001806"]
        assert [e.exchange_id for e in seen] == [edi.id]
        assert bridge.status(letter.id).status == "dispatched"


def test_a_poll_failure_names_no_other_unit() -> None:
    # The message a person sees lists the failed units only.
    err = PollFailed({"diadoc": "ConfigurationError: diadoc.api_key is not set"})
    assert str(err) == "diadoc: ConfigurationError: diadoc.api_key is not set"


def test_events_committed_before_a_failure_count_in_the_worker(tmp_path: Path) -> None:
    with _open(tmp_path / "edi.db") as bridge:
        bridge.send(sample_counterparty("a"), sample_contract("A-1"), scenario="sign")
        other = bridge.send(sample_counterparty("b"), sample_contract("B-1"), scenario="sign")
        _as_provider(bridge, other.id, BrokenFeed.name)
        worker = Worker(bridge, concurrency=1, poll_interval=0.0)
        worker.run(until_idle=True)
        assert worker.stats.changes >= 1
        with bridge.store.engine.connect() as conn:
            rows = conn.execute(sa.select(schema.exchanges.c.status)).scalars().all()
        assert sorted(rows) == ["sent", "signed"]
