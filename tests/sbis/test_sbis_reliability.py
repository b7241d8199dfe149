"""Under server errors, repeated unordered pages and expiring sessions, nothing doubles."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from edi_bridge_providers.sbis.fake import SbisFake
from edi_bridge_providers.sbis.wire import M_WRITE
from werkzeug.wrappers import Response

from edi_bridge import Bridge, ExchangeStatus
from edi_bridge.errors import TransientError
from edi_bridge.fakes.server import FakeOptions, FakeServer, Faults
from edi_bridge.testing import sample_contract
from edi_bridge.testing.faults import open_fault_env

from .conftest import SbisWorld
from .helpers import party


def _run(
    count: int, start_fake: Callable[..., SbisWorld], open_bridge: Callable[..., Bridge]
) -> None:
    faults = Faults(rates={"500": 0.3}, seed=11)
    fake, server = start_fake(
        faults=faults, seed="11", repeat_rate="0.3", expire_every="37", expire_mode="rpc"
    )
    bridge = open_bridge(server, settings={"page_size": "20"})
    ids = []
    for n in range(count):
        cp = party("sign", fake, seed=f"rel-{n}")
        exchange = bridge.send(
            cp, sample_contract(f"REL-{n}"), idempotency_key=f"rel-{n}", provider="sbis"
        )
        ids.append(exchange.id)
    for _ in range(60):
        bridge.dispatch_queued(limit=count)
        try:
            bridge.poll(["sbis"])
        except TransientError:
            continue  # the next round reads the same feed again
        if all(bridge.status(i).status == ExchangeStatus.SIGNED for i in ids):
            break
    statuses = {bridge.status(i).status for i in ids}
    assert statuses == {ExchangeStatus.SIGNED}
    assert faults.injected.get("500", 0) > 0
    assert sum(1 for d in fake.world.documents.values() if d.sent) == count
    assert len(fake.world.documents) == count
    for i in ids:
        history = [h.status for h in bridge.status(i).history]
        assert history.count("signed") == 1
        assert len(bridge.status(i).signatures) == 2
    assert sum(1 for e in bridge.events(limit=100_000) if e.kind == "signed") == count


def test_a_dozen_contracts_under_faults_end_as_a_dozen_signed_documents(
    start_fake: Callable[..., SbisWorld], open_bridge: Callable[..., Bridge]
) -> None:
    _run(12, start_fake, open_bridge)


@pytest.mark.slow
def test_two_hundred_contracts_under_faults_end_as_two_hundred_signed_documents(
    start_fake: Callable[..., SbisWorld], open_bridge: Callable[..., Bridge]
) -> None:
    _run(200, start_fake, open_bridge)


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
    env = open_fault_env(SbisFake(FakeOptions(extra={"seed": "21"})), "sbis", tmp_path)
    spoiler = SpoiledDownloads(env.fake, times=2)  # type: ignore[arg-type]
    env.server.stop()
    env.server = FakeServer(spoiler, port=env.server.port, faults=env.faults).start(
        poll_interval=0.05
    )
    try:
        env.send(0)
        env.settle()
        assert spoiler.left == 0
        env.assert_once_each()  # the counterparty's signature kept is SBIS's, byte for byte
    finally:
        env.close()


def test_a_lost_answer_to_the_write_makes_one_document(tmp_path: Path) -> None:
    """``invalid_json`` spoils an answer after the fake did the work: the retry must reuse it."""
    fake = SbisFake(FakeOptions(extra={"seed": "21"}))
    env = open_fault_env(fake, "sbis", tmp_path)
    try:
        env.warm_up()
        env.faults.force("invalid_json")  # the read finds nothing; next, the write is done
        env.faults.force("invalid_json")  # but its answer is garbled
        env.send(0)
        env.settle()
        assert fake.rpc_log.count(M_WRITE) >= 2
        env.assert_once_each()
    finally:
        env.close()
