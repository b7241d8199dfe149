"""Every fault kind against the SBIS fake, through the Bridge.

As for Diadoc: a few injected faults are ridden out (one document per key,
signed, nothing twice); a fault that never stops ends in a bounded number of
attempts with a clear error, the exchange stays queued, and the work completes
once the operator recovers. A session that dies mid-run costs one sign-in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from edi_bridge_providers.sbis import SbisProvider
from edi_bridge_providers.sbis.fake import SbisFake
from edi_bridge_providers.sbis.wire import M_AUTH, M_WRITE
from werkzeug.wrappers import Response

from edi_bridge import Bridge
from edi_bridge.errors import TransientError
from edi_bridge.fakes.server import FAULT_KINDS, FakeOptions, FakeServer, Faults
from edi_bridge.models import Event, ExchangeStatus
from edi_bridge.retry import RetryPolicy
from edi_bridge.testing import sample_contract, sample_counterparty

from .harness import audit, count, sbis_view

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.03)  # the SBIS client's
# What the final error says for a fault that never stops.
FINAL_WORDS: dict[str, tuple[str, ...]] = {
    "500": ("injected fault", "server error"),
    "502": ("injected fault", "server error"),
    "503": ("injected fault", "server error"),
    "429": ("rate limited",),
    "timeout": ("no answer within",),
    "drop": ("connection failed",),
    "truncate": ("answer cut off mid-body", "connection failed"),
    "invalid_json": ("answer is not JSON",),
    "html": ("answer is not JSON (text/html)",),
    "reset": ("answer cut off mid-body", "connection failed"),
}


@pytest.fixture(autouse=True)
def _no_sbis_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the test, not from the developer's shell."""
    import os

    for name in list(os.environ):
        if name.startswith("EDI_BRIDGE_SBIS_"):
            monkeypatch.delenv(name)


class World:
    """An SBIS fake with faults, and a Bridge pointed at it."""

    def __init__(self, root: Path, faults: Faults, *, timeout: str = "0.25", **extra: str) -> None:
        self.fake = SbisFake(FakeOptions(extra={"seed": "21", **extra}))
        self.faults = faults
        # A short poll: each test stops its server, and the default waits half a second.
        self.server = FakeServer(self.fake, faults=faults).start(poll_interval=0.05)
        settings = {
            "sbis." + k.removeprefix("EDI_BRIDGE_SBIS_").lower(): v
            for k, v in self.server.exports().items()
        }
        settings["sbis.timeout"] = timeout
        self.db = root / "edi.db"
        self.bridge = Bridge.open(self.db, settings=settings)
        self.adapter.client.retry = FAST  # the client retries each call itself
        self.adapter.client.http.retry = FAST
        self.delivered: list[Event] = []
        self.bridge.on("*", self.delivered.append)
        self.keys: list[str] = []

    @property
    def adapter(self) -> SbisProvider:
        provider = self.bridge.provider("sbis")
        assert isinstance(provider, SbisProvider)
        return provider

    @property
    def sign_ins(self) -> int:
        return self.fake.calls.count(M_AUTH)

    def warm_up(self, n: int) -> None:
        """Sign in and register the counterparties while the operator is healthy."""
        for i in range(n):
            cp = sample_counterparty(f"fm-{i % 4}")
            self.fake.register(cp.inn, scenario="sign", ogrn=cp.ogrn)
        assert self.adapter.routes(sample_counterparty("fm-0"))
        assert self.adapter.client.sign_ins == 1

    def send(self, n: int) -> str:
        key = f"fm-{n}"
        if key not in self.keys:
            self.keys.append(key)
        cp = sample_counterparty(f"fm-{n % 4}")
        exchange = self.bridge.send(
            cp, sample_contract(f"FM-{n}"), idempotency_key=key, provider="sbis"
        )
        return exchange.id

    def settle(self, rounds: int = 40) -> None:
        """Dispatch and poll until every exchange is signed (transient errors ridden out)."""
        for _ in range(rounds):
            self.bridge.dispatch_queued()
            try:
                self.bridge.poll(["sbis"])
            except TransientError:
                continue
            if {e.status for e in self.bridge.list()} == {ExchangeStatus.SIGNED}:
                return
        raise AssertionError(f"not settled: {[(e.id, e.status) for e in self.bridge.list()]}")

    def audit_clean(self) -> None:
        view = sbis_view(self.fake, self.keys)
        found = audit(self.db, view, keys=self.keys)
        found.assert_clean()
        keys = [e.key for e in self.delivered]
        assert len(keys) == len(set(keys)), "a callback fired twice without a crash"
        with self.fake.world.lock:
            assert len(self.fake.world.documents) == len(self.keys)
        count("sbis duplicates found", len(found.duplicates))
        count("sbis losses found", len(found.losses))

    def close(self) -> None:
        self.bridge.close()
        self.server.stop()
        count("sbis faulty calls injected", self.faults.total_injected)
        for kind, n in self.faults.injected.items():
            count(f"sbis faults injected: {kind}", n)


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
    world.audit_clean()


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_that_never_stops_ends_bounded_and_clear_then_recovers(
    world: World, kind: str
) -> None:
    world.warm_up(1)
    world.faults.rates[kind] = 1.0
    started = time.monotonic()
    exchange = world.bridge.status(world.send(0))
    # Bounded: the client's attempts, the only retry layer (no more, no fewer).
    assert world.faults.injected[kind] == FAST.attempts
    assert time.monotonic() - started < 30
    # Clear: still queued for a later try, the error says what went wrong.
    assert exchange.status == ExchangeStatus.QUEUED
    assert exchange.last_error is not None
    assert any(w in exchange.last_error for w in FINAL_WORDS[kind]), exchange.last_error
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
    with pytest.raises(TransientError, match=r"injected fault|server error"):
        world.bridge.poll(["sbis"])
    assert world.faults.injected["503"] == FAST.attempts
    world.faults.rates.clear()
    world.settle()
    world.audit_clean()


def test_a_lost_answer_to_the_write_makes_one_document(world: World) -> None:
    """``invalid_json`` spoils an answer after the fake did the work: the retry must reuse it."""
    world.warm_up(1)
    world.faults.force("invalid_json")  # the read finds nothing; next, the write is done
    world.faults.force("invalid_json")  # but its answer is garbled
    world.send(0)
    world.settle()
    assert world.fake.calls.count(M_WRITE) >= 1
    world.audit_clean()


class SpoiledDownloads:
    """Answers the first ``times`` file downloads with a proxy's HTML page (HTTP 200)."""

    name = "sbis"

    def __init__(self, fake: SbisFake, times: int) -> None:
        self.fake = fake
        self.left = times

    def exports(self, base_url: str) -> dict[str, str]:
        return self.fake.exports(base_url)

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        if environ["PATH_INFO"].startswith("/disk/") and self.left > 0:
            self.left -= 1
            page = Response("<html><body>upstream hiccup</body></html>", mimetype="text/html")
            return page(environ, start)
        return self.fake(environ, start)


def test_a_spoiled_signature_download_is_read_again_not_kept(tmp_path: Path) -> None:
    w = World(tmp_path, Faults(seed=1))
    spoiler = SpoiledDownloads(w.fake, times=2)
    w.server.stop()
    w.server = FakeServer(spoiler, port=w.server.port, faults=w.faults).start(poll_interval=0.05)
    try:
        w.warm_up(1)
        w.send(0)
        w.settle()
        assert spoiler.left == 0
        w.audit_clean()  # the counterparty's signature kept is the operator's, byte for byte
    finally:
        w.close()


def test_session_expiry_mid_run_costs_one_sign_in_each(tmp_path: Path) -> None:
    w = World(tmp_path, Faults(seed=1))
    try:
        w.warm_up(4)
        before = w.sign_ins
        for n in range(4):
            w.send(n)
            w.fake.expire_sessions()
        w.settle()
        # One new sign-in per expiry, no more.
        assert w.sign_ins - before == 4
        assert w.adapter.client.sign_ins - 1 == 4
        w.audit_clean()
    finally:
        w.close()


def _soak(root: Path, contracts: int, rate: float, seed: int) -> int:
    """Many contracts through every fault kind at once, sessions expiring; audited."""
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
    faults = Faults(seed=seed, delay=0.3, exempt=("/auth/service/",))
    w = World(root, faults, timeout="0.1", expire_every="29")
    try:
        w.warm_up(4)
        # Short pauses: the soak counts faults, the jitter is proven for Diadoc.
        quick = RetryPolicy(attempts=3, base_delay=0.002, max_delay=0.005)
        w.adapter.client.retry = quick
        w.adapter.client.http.retry = quick
        faults.rates.update({k: rate * v / total for k, v in share.items()})
        for n in range(contracts):
            for _ in range(20):
                try:
                    w.send(n)  # the backend repeats a refused call with the same key
                    break
                except TransientError:
                    continue
        # Reading the feed back through the faults: the client is the one retry layer,
        # so it gets the attempts the two layers used to make together (2 x 3).
        patient = RetryPolicy(attempts=6, base_delay=0.002, max_delay=0.005)
        w.adapter.client.retry = patient
        w.adapter.client.http.retry = patient
        w.settle(rounds=200)
        w.audit_clean()
        return faults.total_injected
    finally:
        w.close()


def test_a_sample_of_contracts_through_every_sbis_fault_at_once(tmp_path: Path) -> None:
    assert _soak(tmp_path, contracts=8, rate=0.35, seed=11) >= 10


@pytest.mark.slow
def test_many_faulty_sbis_calls_duplicate_and_lose_nothing(tmp_path: Path) -> None:
    injected = 0
    for seed in range(3):
        work = tmp_path / f"soak-{seed}"
        work.mkdir()
        injected += _soak(work, contracts=150, rate=0.6, seed=seed)
    assert injected >= 1_000
