"""The same idempotency key sent by two processes at one moment: the second waits for the
first's outcome instead of answering "queued" for a document that is being sent."""

from __future__ import annotations

import threading
from pathlib import Path

from edi_bridge import Bridge, ExchangeStatus
from edi_bridge.testing import sample_contract, sample_counterparty


def test_a_second_sender_gets_the_holders_outcome_not_queued(tmp_path: Path) -> None:
    db = tmp_path / "edi.db"
    counterparty, contract = sample_counterparty("in-flight"), sample_contract("IF-1")
    with Bridge.open(db) as first, Bridge.open(db) as second:
        queued = first.enqueue(counterparty, contract, idempotency_key="if-1", provider="mock")
        assert first.claim_queued() == [queued.id]  # the first process holds the lease now
        finished = threading.Timer(0.3, first.dispatch, args=(queued.id,))
        finished.start()
        try:
            answer = second.send(counterparty, contract, idempotency_key="if-1", provider="mock")
        finally:
            finished.join()
        assert answer.id == queued.id
        assert answer.status == ExchangeStatus.SENT
        sends = [h for h in second.status(queued.id).history if h.status == ExchangeStatus.SENT]
        assert len(sends) == 1  # sent once, by the holder


def test_a_key_nobody_is_sending_is_sent_at_once(tmp_path: Path) -> None:
    with Bridge.open(tmp_path / "edi.db") as bridge:
        counterparty, contract = sample_counterparty("idle"), sample_contract("IF-2")
        queued = bridge.enqueue(counterparty, contract, idempotency_key="if-2", provider="mock")
        answer = bridge.send(counterparty, contract, idempotency_key="if-2", provider="mock")
        assert (answer.id, answer.status) == (queued.id, ExchangeStatus.SENT)
