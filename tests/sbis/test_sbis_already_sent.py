"""A repeated SBIS send is reconciled with the operator's state, never ``sent → failed``;
a signature for an exchange the operator holds is never dropped, even one marked failed."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from edi_bridge_providers.sbis.fake import SbisFake
from edi_bridge_providers.sbis.wire import M_EXECUTE, M_READ, M_WRITE
from werkzeug.wrappers import Request, Response

from edi_bridge import Bridge, ExchangeStatus
from edi_bridge.fakes.server import FakeServer
from edi_bridge.store import leases, schema
from edi_bridge.testing import sample_contract

from .conftest import SbisWorld, settings_for
from .helpers import party


def _method(body: bytes) -> str | None:
    try:
        return str(json.loads(body).get("method"))
    except ValueError:
        return None


class StaleFirstRead:
    """The first ``ПрочитатьДокумент`` is answered as it was when asked, but only once
    ``release`` is set: the worker that asked was paused (past its lease) meanwhile."""

    name = "sbis"

    def __init__(self, fake: SbisFake) -> None:
        self.fake = fake
        self.held = threading.Event()
        self.release = threading.Event()
        self._first = True
        self._lock = threading.Lock()

    def exports(self, base_url: str) -> dict[str, str]:
        return self.fake.exports(base_url)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        body = Request(environ).get_data(cache=True)
        environ["wsgi.input"] = io.BytesIO(body)
        response = Response.from_app(self.fake, environ, buffered=True)
        with self._lock:
            hold = self._first and _method(body) == M_READ
            if hold:
                self._first = False
        if hold:
            self.held.set()
            self.release.wait(30)
        return response(environ, start_response)


class LateWrite:
    """Before the first ``ВыполнитьДействие``, the first ``ЗаписатьДокумент`` arrives
    again: a request the client gave up on (timeout), processed late by the server."""

    name = "sbis"

    def __init__(self, fake: SbisFake) -> None:
        self.fake = fake
        self.write: tuple[dict[str, Any], bytes] | None = None
        self.replayed = 0

    def exports(self, base_url: str) -> dict[str, str]:
        return self.fake.exports(base_url)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        body = Request(environ).get_data(cache=True)
        method = _method(body)
        if method == M_WRITE and self.write is None:
            self.write = (dict(environ), body)
        if method == M_EXECUTE and self.write is not None and not self.replayed:
            self.replayed += 1
            late_env, late_body = self.write
            late_env["wsgi.input"] = io.BytesIO(late_body)
            Response.from_app(self.fake, late_env, buffered=True)
        environ["wsgi.input"] = io.BytesIO(body)
        return self.fake(environ, start_response)


def _settle(bridge: Bridge, exchange_id: str) -> None:
    for _ in range(10):
        bridge.poll(["sbis"])
        if bridge.status(exchange_id).status == ExchangeStatus.SIGNED:
            return


def test_a_worker_paused_past_its_lease_that_writes_again_reconciles(
    start_fake: Callable[..., SbisWorld], tmp_path: Any
) -> None:
    fake, _unused = start_fake(seed="7")
    stale = StaleFirstRead(fake)
    server = FakeServer(stale).start()
    try:
        paused = Bridge.open(tmp_path / "edi.db", settings=settings_for(server))
        other = Bridge.open(tmp_path / "edi.db", settings=settings_for(server))
        cp = party("sign", fake)
        queued = paused.enqueue(
            cp, sample_contract("AS-1"), idempotency_key="as-1", provider="sbis"
        )
        results: dict[str, str] = {}
        thread = threading.Thread(
            target=lambda: results.setdefault("paused", paused.dispatch(queued.id).status)
        )
        thread.start()
        assert stale.held.wait(30)  # it read "not there yet" and stopped
        with other.store.transaction() as conn:  # its lease ran out meanwhile
            t = schema.exchanges
            conn.execute(t.update().where(t.c.id == queued.id).values(lease_until=None))
            assert leases.take_exchange(conn, queued.id, other.owner, 120)
        with other.store.transaction() as conn:
            leases.release_exchanges(conn, other.owner)
        assert other.dispatch(queued.id).status == "sent"
        stale.release.set()  # resumes: writes again, hears "Документ уже отправлен"
        thread.join(30)
        assert results["paused"] == "sent"
        history = [h.status for h in paused.status(queued.id).history]
        assert "failed" not in history
        assert fake.documents_for_key("as-1") == 1
        _settle(paused, queued.id)
        assert paused.status(queued.id).status == "signed"
        assert [e.kind for e in paused.events() if e.kind == "signed"] == ["signed"]
        paused.close()
        other.close()
    finally:
        server.stop()


def test_a_signature_for_an_exchange_marked_failed_is_kept_and_it_ends_signed(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    cp = party("sign", fake)
    sent = bridge.send(cp, sample_contract("F-1"), idempotency_key="f-1", provider="sbis")
    assert sent.status == "sent"
    with bridge.store.transaction() as conn:  # as a repeated send's refusal once did
        bridge.writer.write(conn, sent.id, ExchangeStatus.FAILED, "sbis refused the send")
    _settle(bridge, sent.id)
    after = bridge.status(sent.id)
    assert after.status == "signed"
    assert [s.role for s in after.signatures].count("counterparty") == 1
    assert [e.kind for e in bridge.events() if e.kind == "signed"] == ["signed"]


def test_a_late_repeat_of_the_write_that_undoes_the_preparation_still_sends(
    start_fake: Callable[..., SbisWorld], tmp_path: Any
) -> None:
    fake, _unused = start_fake(seed="7")
    late = LateWrite(fake)
    server = FakeServer(late).start()
    try:
        with Bridge.open(tmp_path / "edi.db", settings=settings_for(server)) as bridge:
            cp = party("sign", fake)
            sent = bridge.send(cp, sample_contract("L-1"), idempotency_key="l-1", provider="sbis")
            assert late.replayed == 1  # "Действие не подготовлено" was heard
            assert sent.status == "sent"
            assert fake.documents_for_key("l-1") == 1
            _settle(bridge, sent.id)
            assert bridge.status(sent.id).status == "signed"
    finally:
        server.stop()
