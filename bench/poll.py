"""poll: box events read through GetNewEvents pages and applied to a SQLite store.

The Diadoc fake's feed holds two box events per document we sent (a signed
delivery receipt, then the counterparty's signature), each normalized into one
event; the store holds the matching exchanges in ``sent``. Bridge.poll reads
every page and applies it (exchange status, history, the counterparty's
signature, backend events, cursor) in one transaction per page. Floor: a bare
``requests.Session`` reading the same pages (afterIndexKey paging, 100 per
page) and parsing their JSON, without applying them.

Following the operator's document flow of the newly signed exchanges is part of every poll
and is measured as it is: the seeded documents exist only as box events at the fake (it
holds no message for them, so that a feed of a million events stays small), so the one
GetDocflows request a poll makes for up to 100 open flows is answered 404 and records
nothing; the poll logs that once ("document flow of ex_poll… not read … (and N more)").
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

import requests
import sqlalchemy as sa
from edi_bridge_providers.diadoc.adapter import DiadocProvider

from edi_bridge import Bridge
from edi_bridge.provider import ProviderContext
from edi_bridge.store import schema, utcnow
from edi_bridge.testing import sample_counterparty

from .common import Result, contract, fake_process
from .fakeproc import feed_ids

TARGET = 20_000.0
# The seeded exchanges' documents are not the ones the fake's counterparties signed, so
# the counterparty signature check (on by default) is off here: this measures the feed
# and the writer; tests/test_statements.py bounds the check's own statements.
UNCHECKED = {"signing.check_counterparty": "false"}


def seed_store(bridge: Bridge, documents: int, counterparty_seed: str, start: int = 0) -> None:
    """``documents`` exchanges in ``sent`` at Diadoc, ids matching the fake's feed
    (documents ``start`` to ``start + documents - 1``)."""
    counterparty = sample_counterparty(counterparty_seed).model_dump(mode="json")
    doc = contract(0, 2048, prefix="P")
    document = doc.model_dump(mode="json")
    now = utcnow()
    with bridge.store.transaction() as conn:
        sha = bridge.store.put_blob(conn, doc.source or b"")
        rows = []
        for i in range(start, start + documents):
            message_id, entity_id = feed_ids(i)
            rows.append(
                {
                    "id": f"ex_poll{i:08d}",
                    "idempotency_key": f"poll-{i}",
                    "channel": "edi",
                    "provider": "diadoc",
                    "counterparty_key": counterparty["inn"],
                    "counterparty": counterparty,
                    "document": {**document, "number": f"P-{i}"},
                    "content_sha256": sha,
                    "status": "sent",
                    "provider_ref": {"message_id": message_id, "entity_id": entity_id},
                    "provider_document_id": f"{message_id}:{entity_id}",
                    "needs_attention": False,
                    "attempts": 1,
                    "created_at": now - dt.timedelta(minutes=5),
                    "updated_at": now,
                }
            )
        conn.execute(schema.exchanges.insert(), rows)


def run(events: int) -> Result:
    documents = events // 2
    seed = "bench-poll"
    with (
        fake_process("--counterparty", seed, "--feed-documents", str(documents)) as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):
        adapter = DiadocProvider(ProviderContext(config=fake.adapter_config()))
        credential = adapter.client.auth
        token = credential.apply(credential.current(adapter.client.http))
        headers = {**token, "Accept": "application/json"}
        adapter.close()
        session = requests.Session()
        url = fake.url + "/V8/GetNewEvents"
        # This process's CPU time too (the fake runs in its own): unlike the rates,
        # the machine's load does not change it.
        start, cpu = time.perf_counter(), time.process_time()
        after: str | None = None
        seen = 0
        while True:
            params = {"boxId": fake.box_id, "limit": 100}
            if after:
                params["afterIndexKey"] = after
            page = session.get(url, params=params, headers=headers, timeout=60).json()
            batch = page["Events"]
            seen += len(batch)
            if not batch:
                break
            after = batch[-1]["IndexKey"]
        floor_s = time.perf_counter() - start
        floor_cpu = time.process_time() - cpu
        session.close()
        if seen != events:
            raise RuntimeError(f"the floor read {seen} box events, expected {events}")

        settings = {**fake.settings(), **UNCHECKED}
        with Bridge.open(Path(tmp) / "poll.db", settings=settings) as bridge:
            seed_store(bridge, documents, seed)
            bridge.provider("diadoc").cursor_scope  # noqa: B018  warm: token and box
            start, cpu = time.perf_counter(), time.process_time()
            changes = bridge.poll_count(["diadoc"])
            full_s = time.perf_counter() - start
            full_cpu = time.process_time() - cpu
            with bridge.store.transaction() as conn:
                signed = conn.execute(
                    sa.select(sa.func.count()).where(schema.exchanges.c.status == "signed")
                ).scalar_one()
    if signed != documents or changes != events:
        raise RuntimeError(
            f"poll applied {changes} changes, {signed} signed; expected {events}, {documents}"
        )
    rate, floor_rate = events / full_s, events / floor_s
    return Result(
        name="poll",
        value=round(rate),
        unit="events/s",
        floor=round(floor_rate),
        ratio=round(rate / floor_rate, 3),
        target=f"value >= {TARGET:,.0f} events/s",
        met=rate >= TARGET,
        workload=(
            f"{events} events ({documents} documents: delivered, then signed with a "
            "1.2 KB signature) in GetNewEvents pages of 100 from the Diadoc fake in its own "
            "process, applied to SQLite (WAL) by Bridge.poll_count; no signature check, "
            "no callbacks; flow following included (one GetDocflows request, answered 404: "
            "the fake holds no messages for the seeded events); "
            "floor: bare requests.Session reading and JSON-parsing the same pages"
        ),
        extra={
            "seconds_full": round(full_s, 2),
            "seconds_floor": round(floor_s, 2),
            "cpu_us_per_event": round(1e6 * full_cpu / events, 1),
            "floor_cpu_us_per_event": round(1e6 * floor_cpu / events, 1),
            "cpu_ratio": round(floor_cpu / full_cpu, 3),
        },
    )
