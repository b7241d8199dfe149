"""The Diadoc fake in its own process, so its CPU and memory are not the client's.

    python -m bench.fakeproc [--latency 0.05] [--max-document-mb 256]
                             [--feed-documents N] [--counterparty SEED]

Prints one JSON line (the adapter's settings, our box, the counterparty's
box), then serves on 127.0.0.1 until stdin closes. Lines on stdin are commands,
each answered with one line on stdout: ``extend N`` adds box events for the
next N documents (indices continue), ``trim`` replaces the events served so far
by their IndexKey alone, so that a feed of a million events does not hold them
all in the fake's memory (poll at scale, ``bench/pollscale.py``). ``--feed-documents N``
fills our box feed with two box events for each of N documents we "sent"
(a delivery receipt, then the counterparty's signature); the message and
entity ids are derived from the document's index (see :func:`feed_ids`), so
the benchmark can put the matching exchanges into its store without asking.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import sys
import threading
import time
import uuid
from typing import Any

from edi_bridge_providers.diadoc.fake import sending as fake_sending
from edi_bridge_providers.diadoc.fake import world as fake_world
from edi_bridge_providers.diadoc.feed import datetime_to_ticks

from edi_bridge.fakes.server import FakeOptions, FakeServer, Faults, load_fake
from edi_bridge.testing import sample_counterparty

_NS = uuid.UUID("0b7d3c52-8a8e-4d8e-b1a6-5e0c7f1f2a90")
SIGNATURE_BYTES = 1200  # about the size of a counterparty's CMS with its certificate


def feed_ids(index: int) -> tuple[str, str]:
    """(message id, document entity id) of seeded document ``index``."""
    return str(uuid.uuid5(_NS, f"msg-{index}")), str(uuid.uuid5(_NS, f"doc-{index}"))


def _entity(
    entity_type: str, content: bytes, parent: str, ticks: int, **extra: Any
) -> dict[str, Any]:
    return {
        "EntityType": entity_type,
        "EntityId": str(uuid.uuid4()),
        "ParentEntityId": parent,
        "Content": {"Size": len(content), "Data": base64.b64encode(content).decode("ascii")},
        "RawCreationDate": ticks,
        **extra,
    }


def seed_feed(world: fake_world.World, to_box: str, documents: int, start: int = 0) -> None:
    """Two box events per document: a signed receipt (delivered), then a signature."""
    import datetime as dt

    ticks = datetime_to_ticks(dt.datetime.now(dt.UTC))
    our_box = world.our_org.box_id
    feed = world.feeds.setdefault(our_box, [])
    for i in range(start, start + documents):
        message_id, entity_id = feed_ids(i)
        receipt = _entity(
            "Attachment",
            '<?xml version="1.0" encoding="utf-8"?><Файл><Документ/></Файл>'.encode(),
            entity_id,
            ticks,
            AttachmentType="Receipt",
            FileName="receipt.xml",
        )
        # Signature bytes are opaque to the store; unique per event, like real ones.
        receipt_sig = _entity(
            "Signature", os.urandom(SIGNATURE_BYTES), receipt["EntityId"], ticks, SignerBoxId=to_box
        )
        signature = _entity(
            "Signature", os.urandom(SIGNATURE_BYTES), entity_id, ticks, SignerBoxId=to_box
        )
        for entities in ([receipt, receipt_sig], [signature]):
            world.counter += 1
            feed.append(
                {
                    "EventId": str(uuid.uuid4()),
                    "IndexKey": f"{world.counter:012d}+{world.counter % 4096:03x}",
                    "Patch": {
                        "MessageId": message_id,
                        "PatchId": str(uuid.uuid4()),
                        "MessageType": "Letter",
                        "TimestampTicks": ticks,
                        "Entities": entities,
                    },
                }
            )


class _Arrivals:
    """The fake as a WSGI app that notes each request's arrival, then waits ``latency``
    (the operator's answer time) before answering: the times are when the operator
    would count the request against its rate limit."""

    def __init__(self, fake: Any, latency: float) -> None:
        self._fake = fake
        self._latency = latency
        self._lock = threading.Lock()
        self._times: list[float] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fake, name)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self._lock:
            self._times.append(time.monotonic())
        if self._latency:
            time.sleep(self._latency)
        return self._fake(environ, start_response)

    def take(self) -> list[float]:
        with self._lock:
            times, self._times = self._times, []
        return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.fakeproc")
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--max-document-mb", type=int, default=0)
    ap.add_argument("--feed-documents", type=int, default=0)
    ap.add_argument("--counterparty", default="bench")
    ap.add_argument(
        "--arrivals",
        action="store_true",
        help="note when each request arrives (before --latency); stdin 'arrivals' prints them",
    )
    args = ap.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    if args.max_document_mb:
        # Diadoc refuses documents over 70 MB; the memory run sends a larger one
        # to show that client memory does not grow with size.
        vars(fake_sending)["MAX_DOCUMENT_SIZE"] = args.max_document_mb * 1024 * 1024
    fake = load_fake("diadoc", FakeOptions(scenario="sign"))
    counterparty = sample_counterparty(args.counterparty)
    to_box = fake.add_counterparty(counterparty, "sign")  # type: ignore[attr-defined]
    if args.feed_documents:
        seed_feed(fake.world, to_box, args.feed_documents)  # type: ignore[attr-defined]
    arrivals = _Arrivals(fake, args.latency) if args.arrivals else None
    served: Any = fake if arrivals is None else arrivals
    latency = 0.0 if arrivals is not None else args.latency  # the recorder waits instead
    server = FakeServer(served, faults=Faults(latency=latency)).start()
    print(
        json.dumps(
            {
                "exports": server.exports(),
                "url": server.url,
                "box_id": fake.our_box_id,  # type: ignore[attr-defined]
                "to_box": to_box,
            }
        ),
        flush=True,
    )
    done = threading.Event()
    seeded = args.feed_documents

    def watch_stdin() -> None:
        nonlocal seeded
        world: fake_world.World = fake.world  # type: ignore[attr-defined]
        for line in sys.stdin:
            command, _, count = line.strip().partition(" ")
            with world.lock:
                if command == "extend":
                    seed_feed(world, to_box, int(count), start=seeded)
                    seeded += int(count)
                elif command == "arrivals" and arrivals is not None:
                    # Times in seconds on this process's monotonic clock; cleared once read.
                    print(json.dumps({"arrivals": arrivals.take()}), flush=True)
                    continue
                elif command == "trim":
                    feed = world.feeds.get(world.our_org.box_id, [])
                    feed[:] = [{"EventId": e["EventId"], "IndexKey": e["IndexKey"]} for e in feed]
            print(json.dumps({"done": command, "documents": seeded}), flush=True)
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
