"""A send slower than its lease keeps it (renewed while the SBIS calls run), and a
worker that lost its lease makes no further request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

from edi_bridge import Bridge
from edi_bridge.fakes.server import Faults
from edi_bridge.store import leases, schema
from edi_bridge.testing import sample_contract

from .conftest import SbisWorld
from .helpers import party


def test_a_send_slower_than_its_lease_keeps_it_and_nobody_else_sends(
    start_fake: Callable[..., SbisWorld], open_bridge: Callable[..., Bridge]
) -> None:
    # Every answer takes 0.4 s: the SBIS send (sign in, write, prepare, execute)
    # takes about 2 s, twice the 1 s lease.
    fake, server = start_fake(faults=Faults(latency=0.4), seed="7")
    slow = open_bridge(server, lease_seconds=1)
    other = open_bridge(server, lease_seconds=1)
    cp = party("sign", fake)
    queued = slow.enqueue(cp, sample_contract("SLOW-1"), idempotency_key="slow-1", provider="sbis")
    results: dict[str, str] = {}

    def send() -> None:
        results["slow"] = slow.dispatch(queued.id).status

    thread = threading.Thread(target=send)
    started = time.monotonic()
    thread.start()
    tries = []
    while thread.is_alive():
        time.sleep(0.3)
        if time.monotonic() - started > 1.2:  # the first lease would have run out
            tries.append(other.dispatch(queued.id).status)
    thread.join()
    assert time.monotonic() - started > 1.5  # the call did outlive the lease
    assert results["slow"] == "sent"
    # Held by a live sender: not taken over (the last try may come after it finished).
    assert tries[0] == "queued"
    assert set(tries) <= {"queued", "sent"}
    assert slow.status(queued.id).status == "sent"
    assert fake.documents_for_key("slow-1") == 1
    assert sum(1 for d in fake.world.documents.values() if d.sent) == 1


def test_a_worker_that_lost_its_lease_mid_send_makes_no_further_request(
    start_fake: Callable[..., SbisWorld], open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = start_fake(faults=Faults(latency=0.4), seed="7")
    slow = open_bridge(server, lease_seconds=1)
    thief = open_bridge(server)
    cp = party("sign", fake)
    queued = slow.enqueue(cp, sample_contract("LOST-1"), idempotency_key="lost-1", provider="sbis")
    results: dict[str, str] = {}
    thread = threading.Thread(
        target=lambda: results.setdefault("s", slow.dispatch(queued.id).status)
    )
    thread.start()
    time.sleep(0.5)  # the send is under way
    with thief.store.transaction() as conn:  # as after a pause past the lease
        t = schema.exchanges
        conn.execute(t.update().where(t.c.id == queued.id).values(lease_owner="someone-else"))
    calls_then = fake.world.rpc_calls
    thread.join()
    # At most the request in flight when the lease went, and the one the heartbeat
    # had not yet judged, reach the operator; the send ends unrecorded.
    assert fake.world.rpc_calls - calls_then <= 2
    assert results["s"] == "queued"
    with thief.store.engine.connect() as conn:
        owner = conn.execute(sa.select(t.c.lease_owner).where(t.c.id == queued.id)).scalar_one()
    assert owner == "someone-else"
    with thief.store.transaction() as conn:
        assert leases.release_exchanges(conn, "someone-else") == 1
