"""The fault contract: what every EDI adapter must survive, run against its fake over HTTP.

A test module subclasses :class:`FaultContract` and supplies a ``fault_env`` fixture,
usually built with :func:`open_fault_env` from the adapter's fake::

    class TestDiadocFaults(FaultContract):
        @pytest.fixture
        def fault_env(self, tmp_path):
            env = open_fault_env(DiadocFake(), "diadoc", tmp_path)
            yield env
            env.close()

The suite proves, for every fault kind of :data:`edi_bridge.fakes.server.FAULT_KINDS`:
a few faults are ridden out with one document at the operator and both signatures kept
equal to the operator's; a fault that never stops ends after the HTTP layer's configured
attempts with the exchange still ``queued`` and a clear error, and the exchange completes
once the operator recovers; each credential expiry costs exactly one sign-in; and many
contracts through every fault at once, credentials expiring, end signed, once each.
It uses only the Bridge's public API and the fakes' steering API.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..errors import TransientError
from ..fakes.base import FakeApp
from ..fakes.server import FAULT_KINDS, FakeServer, Faults
from ..models import Counterparty, Event, ExchangeStatus
from ..workflow import Bridge
from .samples import sample_contract, sample_counterparty

ATTEMPTS = 3  # the HTTP layer's attempts the suite configures (``<section>.retry_attempts``)
# What the final error says for a fault that never stops (any of the words).
FINAL_WORDS: dict[str, tuple[str, ...]] = {
    "500": ("server error", "injected fault"),
    "502": ("server error", "injected fault"),
    "503": ("server error", "injected fault"),
    "429": ("rate limited",),
    "timeout": ("no answer within",),
    "drop": ("connection failed",),
    "truncate": ("answer cut off mid-body", "connection failed"),
    "invalid_json": ("answer is not JSON",),
    "html": ("answer is not JSON (text/html)",),
    "reset": ("answer cut off mid-body", "connection failed"),
}


class ExpiringCredentials:
    """Wraps a fake and expires its credentials now and then (a day's expiry, compressed).

    A credential just issued lives a few requests, as a real one lives hours.
    """

    def __init__(self, fake: FakeApp, rate: float, seed: int) -> None:
        self.fake = fake
        self.name = fake.name
        self.rate = rate
        self.rng = random.Random(seed)
        self.expired = 0
        self._seen = fake.sign_ins
        self._quiet = 0

    def exports(self, base_url: str) -> dict[str, str]:
        return self.fake.exports(base_url)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if self.fake.sign_ins != self._seen:
            self._seen, self._quiet = self.fake.sign_ins, 5
        elif self._quiet > 0:
            self._quiet -= 1
        elif self.rate and self.rng.random() < self.rate:
            self.fake.expire_credentials()
            self.expired += 1
        return self.fake(environ, start_response)


@dataclasses.dataclass
class FaultEnv:
    """A fake with the fault dice, and a Bridge pointed at it."""

    fake: FakeApp
    provider: str
    faults: Faults
    server: FakeServer
    bridge: Bridge
    expiring: ExpiringCredentials
    attempts: int = ATTEMPTS
    ids: dict[str, str] = dataclasses.field(default_factory=dict)
    delivered: list[Event] = dataclasses.field(default_factory=list)

    def counterparty(self, n: int) -> Counterparty:
        """One of four counterparties that sign, registered at the fake."""
        cp = sample_counterparty(f"fault-{n % 4}")
        self.fake.add_counterparty(cp, "sign")
        return cp

    def send(self, n: int) -> str:
        key = f"fault-{n}"
        exchange = self.bridge.send(
            self.counterparty(n),
            sample_contract(f"F-{n}"),
            idempotency_key=key,
            provider=self.provider,
        )
        self.ids[key] = exchange.id
        return exchange.id

    def warm_up(self) -> None:
        """One contract through a healthy operator: signed in, lookups cached."""
        self.send(-1)
        self.settle()

    def settle(self, rounds: int = 40) -> None:
        """Dispatch and poll until every exchange is signed (transient errors ridden out)."""
        for _ in range(rounds):
            self.bridge.dispatch_queued()
            try:
                self.bridge.poll([self.provider])
            except TransientError:
                continue
            if {e.status for e in self.bridge.list()} == {ExchangeStatus.SIGNED}:
                return
        raise AssertionError(f"not settled: {[(e.id, e.status) for e in self.bridge.list()]}")

    def assert_once_each(self) -> None:
        """Every send: signed, one document at the operator, both signatures the operator's."""
        for key, exchange_id in self.ids.items():
            exchange = self.bridge.status(exchange_id)
            assert exchange.status == ExchangeStatus.SIGNED, (key, exchange.status)
            assert self.fake.documents_for_key(key) == 1, f"{key}: not one document"
            held = {
                role: hashlib.sha256(data).hexdigest()
                for role, data in self.fake.signatures_for_key(key).items()
            }
            kept = [(s.role, s.sha256) for s in exchange.signatures]
            assert sorted(kept) == sorted(held.items()), f"{key}: signatures differ"
        keys = [e.key for e in self.delivered]
        assert len(keys) == len(set(keys)), "a callback fired twice"

    def close(self) -> None:
        self.bridge.close()
        self.server.stop()


def open_fault_env(
    fake: FakeApp,
    provider: str,
    root: Path,
    *,
    faults: Faults | None = None,
    timeout: float = 0.25,
    expiry: float = 0.0,
    **settings: str,
) -> FaultEnv:
    """Serve ``fake`` with the fault dice and open a Bridge with the shared settings names."""
    faults = faults or Faults(seed=3, delay=0.6)
    expiring = ExpiringCredentials(fake, expiry, seed=faults.seed or 0)
    server = FakeServer(expiring, faults=faults).start(poll_interval=0.05)
    section = fake.section
    config = {
        **fake.settings(server.url),
        f"{section}.timeout": str(timeout),
        f"{section}.retry_attempts": str(ATTEMPTS),
        f"{section}.retry_base_delay": "0.005",
        **{f"{section}.{k}": v for k, v in settings.items()},
    }
    bridge = Bridge.open(root / "edi.db", settings=config)
    env = FaultEnv(fake, provider, faults, server, bridge, expiring)
    bridge.on("*", env.delivered.append)
    return env


class FaultContract:
    """Subclass in a test module and provide the ``fault_env`` fixture (a FaultEnv)."""

    @pytest.mark.parametrize("kind", FAULT_KINDS)
    def test_a_few_faults_of_each_kind_are_ridden_out(self, fault_env: FaultEnv, kind: str) -> None:
        env = fault_env
        env.warm_up()
        env.faults.force(kind, kind)  # the send's first two requests
        exchange_id = env.send(0)
        assert env.bridge.status(exchange_id).status == ExchangeStatus.SENT
        env.faults.force(kind, kind)  # and the poll's
        env.settle()
        assert env.faults.injected[kind] == 4
        env.assert_once_each()

    @pytest.mark.parametrize("kind", FAULT_KINDS)
    def test_a_fault_that_never_stops_leaves_the_send_queued_until_the_operator_recovers(
        self, fault_env: FaultEnv, kind: str
    ) -> None:
        env = fault_env
        env.warm_up()
        env.faults.rates[kind] = 1.0
        started = time.monotonic()
        exchange = env.bridge.status(env.send(0))
        assert time.monotonic() - started < 30
        # Clear: still queued for a later try, the error says what went wrong.
        assert exchange.status == ExchangeStatus.QUEUED
        assert exchange.last_error is not None
        assert any(w in exchange.last_error for w in FINAL_WORDS[kind]), exchange.last_error
        # Nothing lost: the operator recovers and the exchange completes once.
        env.faults.rates.clear()
        env.settle()
        env.assert_once_each()

    def test_a_fault_that_never_stops_costs_exactly_the_configured_attempts(
        self, fault_env: FaultEnv, caplog: pytest.LogCaptureFixture
    ) -> None:
        env = fault_env
        env.warm_up()
        env.faults.rates["503"] = 1.0
        with caplog.at_level(logging.INFO, "edi_bridge.retry"):
            exchange = env.bridge.status(env.send(0))
        assert exchange.status == ExchangeStatus.QUEUED
        retries = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
        assert f"attempt 1 of {env.attempts}" in retries[0]
        assert env.faults.injected["503"] == env.attempts

    def test_a_dead_feed_costs_exactly_the_configured_attempts(self, fault_env: FaultEnv) -> None:
        env = fault_env
        env.warm_up()
        env.send(0)
        env.faults.rates["503"] = 1.0
        with pytest.raises(TransientError):
            env.bridge.poll([env.provider])
        assert env.faults.injected["503"] == env.attempts

    def test_a_fault_that_never_stops_on_the_feed_is_a_clear_transient_error(
        self, fault_env: FaultEnv
    ) -> None:
        env = fault_env
        env.warm_up()
        env.send(0)
        env.faults.rates["503"] = 1.0
        with pytest.raises(TransientError, match=r"server error|injected fault"):
            env.bridge.poll([env.provider])
        env.faults.rates.clear()
        env.settle()
        env.assert_once_each()

    def test_retry_after_is_waited_for(self, fault_env: FaultEnv) -> None:
        env = fault_env
        env.warm_up()
        env.faults.retry_after = 0.4
        env.faults.force("429")
        started = time.monotonic()
        env.send(0)
        assert time.monotonic() - started >= 0.4
        env.settle()
        env.assert_once_each()

    def test_each_credential_expiry_costs_exactly_one_sign_in(self, fault_env: FaultEnv) -> None:
        env = fault_env
        env.warm_up()
        before = env.fake.sign_ins
        for n in range(4):
            env.send(n)
            env.fake.expire_credentials()
        env.settle()
        assert env.fake.sign_ins - before == 4
        env.assert_once_each()


def soak(
    make: Callable[..., FaultEnv], contracts: int, rate: float, seed: int
) -> Iterator[FaultEnv]:
    """Many contracts through every fault kind at once, credentials expiring.

    ``make(faults=..., timeout=..., expiry=...)`` opens the environment; yields it
    settled and checked (for figures), then closes it.
    """
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
    faults = Faults(seed=seed, delay=0.3)
    env = make(faults=faults, timeout=0.1, expiry=0.02)
    try:
        env.warm_up()
        faults.rates.update({k: rate * v / total for k, v in share.items()})
        for n in range(contracts):
            for _ in range(20):
                try:
                    env.send(n)  # the backend repeats a refused call with the same key
                    break
                except TransientError:
                    continue
        env.settle(rounds=200)
        faults.rates.clear()
        env.assert_once_each()
        yield env
    finally:
        env.close()


__all__ = [
    "ATTEMPTS",
    "FINAL_WORDS",
    "ExpiringCredentials",
    "FaultContract",
    "FaultEnv",
    "open_fault_env",
    "soak",
]
