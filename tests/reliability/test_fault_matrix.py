"""Every fault kind against the Diadoc fake, through the Bridge.

For each kind: a few injected faults are ridden out (one document, signed,
nothing twice); a fault that never stops ends in a bounded number of
attempts with an error naming the call, the exchange stays queued, and the
work completes once the operator recovers. Retries are jittered and a
``Retry-After`` is honoured. Token expiry is answered by one new login.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tenacity
from edi_bridge_providers.diadoc import DiadocProvider
from edi_bridge_providers.diadoc.fake import DiadocFake

from edi_bridge import Bridge
from edi_bridge.errors import RateLimited, TransientError
from edi_bridge.fakes.server import FAULT_KINDS, FakeOptions, FakeServer, Faults
from edi_bridge.models import Event, ExchangeStatus
from edi_bridge.retry import RetryPolicy
from edi_bridge.testing import sample_contract, sample_counterparty

from .harness import audit, count, diadoc_view

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.03)  # the HTTP client's
# What the final error says for a fault that never stops.
FINAL_WORDS: dict[str, str | tuple[str, ...]] = {
    "500": "server error",
    "502": "server error",
    "503": "server error",
    "429": "rate limited",
    "timeout": "no answer within",
    "drop": "connection failed",
    "truncate": ("answer cut off mid-body", "connection failed"),
    "invalid_json": "answer is not JSON",
    "html": "answer is not JSON (text/html)",
    # Cut mid-body: the client sees a short body or a reset connection.
    "reset": ("answer cut off mid-body", "connection failed"),
}


class ExpiringTokens:
    """Forgets every token at the fake now and then (a 24-hour expiry, compressed)."""

    name = "diadoc"

    def __init__(self, fake: DiadocFake, rate: float, seed: int) -> None:
        self.fake = fake
        self.exports = fake.exports
        self.rate = rate
        self.rng = random.Random(seed)
        self.expired = 0
        self.quiet = 0

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        if "Authenticate" in environ["PATH_INFO"]:
            self.quiet = 5  # a token just issued lives a little (as real ones live 24 h)
        elif self.quiet > 0:
            self.quiet -= 1
        elif self.rng.random() < self.rate:
            self.fake.expire_tokens()
            self.expired += 1
        return self.fake(environ, start)


class World:
    """A Diadoc fake with faults, and a Bridge pointed at it."""

    def __init__(
        self, root: Path, faults: Faults, *, timeout: str = "0.25", expiry: float = 0.0
    ) -> None:
        self.fake = DiadocFake(FakeOptions(extra={"seed": "21"}))
        self.faults = faults
        self.expiring = ExpiringTokens(self.fake, expiry, seed=faults.seed or 0)
        self.server = FakeServer(self.expiring, faults=faults).start()
        settings = {
            "diadoc." + k.removeprefix("EDI_BRIDGE_DIADOC_").lower(): v
            for k, v in self.server.exports().items()
        }
        settings["diadoc.timeout"] = timeout
        self.db = root / "edi.db"
        self.bridge = Bridge.open(self.db, settings=settings)
        self.adapter.client.http.retry = FAST
        self.delivered: list[Event] = []
        self.bridge.on("*", self.delivered.append)
        self.keys: list[str] = []

    @property
    def adapter(self) -> DiadocProvider:
        provider = self.bridge.provider("diadoc")
        assert isinstance(provider, DiadocProvider)
        return provider

    def warm_up(self, n: int) -> None:
        """Log in and look up the counterparties while the operator is healthy."""
        for i in range(n):
            cp = sample_counterparty(f"fm-{i % 4}")
            self.fake.add_counterparty(cp, "sign")
            self.adapter.recipient_box(cp)
        assert self.adapter.box_id

    def send(self, n: int) -> str:
        key = f"fm-{n}"
        if key not in self.keys:
            self.keys.append(key)
        cp = sample_counterparty(f"fm-{n % 4}")
        exchange = self.bridge.send(
            cp, sample_contract(f"FM-{n}"), idempotency_key=key, provider="diadoc"
        )
        return exchange.id

    def settle(self, rounds: int = 40) -> None:
        """Dispatch and poll until every exchange is signed (transient errors ridden out)."""
        for _ in range(rounds):
            self.bridge.dispatch_queued()
            try:
                self.bridge.poll(["diadoc"])
            except TransientError:
                continue
            if {e.status for e in self.bridge.list()} == {ExchangeStatus.SIGNED}:
                return
        raise AssertionError(f"not settled: {[(e.id, e.status) for e in self.bridge.list()]}")

    def audit_clean(self) -> None:
        found = audit(self.db, diadoc_view(self.fake, self.keys), keys=self.keys)
        found.assert_clean()
        keys = [e.key for e in self.delivered]
        assert len(keys) == len(set(keys)), "a callback fired twice without a crash"
        count("duplicates found", len(found.duplicates))
        count("losses found", len(found.losses))

    def close(self) -> None:
        self.bridge.close()
        self.server.stop()
        count("faulty calls injected", self.faults.total_injected)
        for kind, n in self.faults.injected.items():
            count(f"faults injected: {kind}", n)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path, Faults(seed=3, delay=0.6))
    yield w
    w.close()


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_few_faults_of_each_kind_are_ridden_out(world: World, kind: str) -> None:
    world.warm_up(1)
    world.faults.force(kind, kind)  # the send's first two requests
    exchange_id = world.send(0)
    assert world.bridge.status(exchange_id).status == ExchangeStatus.SENT
    world.faults.force(kind, kind)  # and the poll's
    world.settle()
    assert world.faults.injected[kind] == 4
    assert world.fake.documents_for_key("fm-0") == 1
    world.audit_clean()


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_that_never_stops_ends_bounded_and_clear_then_recovers(
    world: World, kind: str
) -> None:
    world.warm_up(1)
    world.faults.rates[kind] = 1.0
    started = time.monotonic()
    exchange = world.bridge.status(world.send(0))
    # Bounded: the HTTP client's attempts, the only retry layer (no more, no fewer).
    assert world.faults.injected[kind] == FAST.attempts
    assert time.monotonic() - started < 30
    # Clear: still queued for a later try, the error names the call and the cause.
    assert exchange.status == ExchangeStatus.QUEUED
    assert exchange.last_error is not None
    assert "POST /V3/PostMessage" in exchange.last_error
    words = FINAL_WORDS[kind]
    assert any(w in exchange.last_error for w in ((words,) if isinstance(words, str) else words))
    # Nothing lost: the operator recovers and the exchange completes once.
    world.faults.rates.clear()
    world.settle()
    world.audit_clean()


def test_a_fault_that_never_stops_on_the_feed_raises_a_clear_transient_error(
    world: World,
) -> None:
    world.warm_up(1)
    world.send(0)
    world.faults.rates["503"] = 1.0
    with pytest.raises(TransientError, match=r"GET /V8/GetNewEvents: server error"):
        world.bridge.poll(["diadoc"])
    assert world.faults.injected["503"] == FAST.attempts
    world.faults.rates.clear()
    world.settle()
    world.audit_clean()


def test_retry_after_is_honoured(world: World) -> None:
    world.warm_up(1)
    world.faults.retry_after = 0.4
    world.faults.force("429")
    started = time.monotonic()
    world.send(0)
    assert time.monotonic() - started >= 0.4
    world.settle()
    world.audit_clean()


def test_a_retry_after_beyond_the_cap_is_not_waited_for() -> None:
    policy = RetryPolicy(attempts=2, base_delay=0.01, max_retry_after=0.05)
    calls: list[float] = []

    def limited() -> None:
        calls.append(time.monotonic())
        raise RateLimited("rate limited", retry_after=3600, provider="test")

    with pytest.raises(RateLimited):
        policy.call(limited)
    assert len(calls) == 2
    assert calls[1] - calls[0] < 1


def _waits(policy: RetryPolicy, attempt: int, n: int) -> list[float]:
    waits = []
    for _ in range(n):
        state = tenacity.RetryCallState(
            retry_object=tenacity.Retrying(), fn=None, args=(), kwargs={}
        )
        state.attempt_number = attempt
        state.set_exception((TransientError, TransientError("x"), None))
        waits.append(policy._wait(state))
    return waits


def test_retries_are_jittered_and_capped() -> None:
    random.seed(5)
    policy = RetryPolicy(attempts=6, base_delay=0.2, max_delay=1.0)
    for attempt in (1, 2, 3, 6):
        waits = _waits(policy, attempt, 200)
        ceiling = min(1.0, 0.2 * 2 ** (attempt - 1))
        assert all(0 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 150, "waits are not jittered"
        # Full jitter: spread over the whole range, not bunched at the top.
        assert min(waits) < ceiling / 4 < ceiling * 3 / 4 < max(waits)


def test_token_expiry_is_answered_by_one_new_login(tmp_path: Path) -> None:
    w = World(tmp_path, Faults(seed=1))
    try:
        w.warm_up(4)
        logins = w.fake.authentications
        for n in range(4):
            w.send(n)
            w.fake.expire_tokens()
        w.settle()
        # One new login per expiry, no more.
        assert w.fake.authentications - logins == 4
        w.audit_clean()
    finally:
        w.close()


def _soak(
    root: Path, contracts: int, rate: float, seed: int, idle_polls: int = 0
) -> tuple[int, int]:
    """Many contracts through every fault kind at once, tokens expiring; audited."""
    share = {
        "500": 3,
        "502": 2,
        "503": 2,
        "429": 2,
        "timeout": 1,  # the costliest: each waits out the client's timeout
        "drop": 2,
        "truncate": 2,
        "invalid_json": 2,
        "html": 2,
        "reset": 2,
    }
    total = sum(share.values())
    faults = Faults(seed=seed, delay=0.3, exempt=("/V3/Authenticate",))
    w = World(root, faults, timeout="0.1", expiry=0.02)
    try:
        w.warm_up(4)
        # Short pauses: the soak counts faults, the jitter is proven above. The client is
        # the one retry layer, so it gets the attempts the two layers used to make (2 x 3).
        w.adapter.client.http.retry = RetryPolicy(attempts=6, base_delay=0.002, max_delay=0.005)
        faults.rates.update({k: rate * v / total for k, v in share.items()})
        for n in range(contracts):
            for _ in range(20):
                try:
                    w.send(n)  # the backend repeats a refused call with the same key
                    break
                except TransientError:
                    continue
        w.settle(rounds=200)
        # Then the feed, read again and again through the faults: nothing changes twice.
        for _ in range(idle_polls):
            try:
                w.bridge.poll(["diadoc"])
            except TransientError:
                continue
        w.audit_clean()
        count("token expiries injected", w.expiring.expired)
        return faults.total_injected, w.expiring.expired
    finally:
        w.close()


def test_a_sample_of_contracts_through_every_fault_at_once(tmp_path: Path) -> None:
    injected, _ = _soak(tmp_path, contracts=25, rate=0.4, seed=11)
    assert injected >= 10


@pytest.mark.slow
def test_ten_thousand_faulty_calls_duplicate_and_lose_nothing(tmp_path: Path) -> None:
    injected = 0
    for seed in range(4):
        work = tmp_path / f"soak-{seed}"
        work.mkdir()
        found, _ = _soak(work, contracts=150, rate=0.7, seed=seed, idle_polls=1300)
        injected += found
    assert injected >= 10_000
