"""A closing exchange cancelled by hand is cancelled in the closing ledger too, and a
later run leaves it so unless told to retry it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from edi_bridge import Bridge
from edi_bridge.cli import main
from edi_bridge.closing.archive import period_status
from edi_bridge.closing.delivery import CANCELLED, PENDING, SENT_NOW, ClosingRun
from edi_bridge.closing.inputs import parse_seller
from edi_bridge.closing.ledger import Ledger

from .batch import write_batch, write_seller

PERIOD = "2026-03"
QUEUED = {"mock.scenario": "flaky:100"}  # the operator stays busy: the send stays queued


def _run(bridge: Bridge, tmp_path: Path, **kw: bool) -> ClosingRun:
    seller = parse_seller(write_seller(tmp_path).read_bytes())
    return ClosingRun(bridge, seller, **kw)


def _queued_closing_exchange(db: Path, tmp_path: Path) -> tuple[Path, str]:
    batch = write_batch(tmp_path, 1, edi_every=1)
    with Bridge.open(db, settings=QUEUED) as bridge:
        [outcome] = _run(bridge, tmp_path).run(PERIOD, batch).outcomes
        assert outcome.result == PENDING
        [row] = Ledger(bridge.store.engine).for_period(PERIOD)
    return batch, row.exchange_ids[0]


def test_cancel_marks_the_ledger_row_and_a_later_run_does_not_resend(tmp_path: Path) -> None:
    db = tmp_path / "edi.db"
    batch, exchange_id = _queued_closing_exchange(db, tmp_path)

    result = CliRunner().invoke(main, ["--db", str(db), "cancel", exchange_id])
    assert result.exit_code == 0, result.stderr
    key = "closing:" + json.loads(batch.read_text().splitlines()[0])["counterparty"]["inn"]
    assert "closing delivery closing:" in result.stdout
    assert "cancelled (closing send leaves it so)" in result.stdout

    with Bridge.open(db) as bridge:
        [row] = Ledger(bridge.store.engine).for_period(PERIOD)
        assert row.key.startswith(key)
        assert (row.status, row.reason) == ("cancelled", f"cancelled by hand ({exchange_id})")
        [status] = period_status(bridge, PERIOD, poll=False)
        assert status["state"] == "cancelled"

        [again] = _run(bridge, tmp_path).run(PERIOD, batch).outcomes
        assert again.result == CANCELLED
        assert "--retry-cancelled" in str(again.reason)
        assert [e.id for e in bridge.list()] == [exchange_id]  # nothing new was sent

    seller = write_seller(tmp_path)
    args = ["closing", "send", "--period", PERIOD, "--batch", str(batch), "--seller", str(seller)]
    cli = CliRunner().invoke(main, ["--db", str(db), *args])
    assert cli.exit_code == 0, cli.stderr
    assert "failed 0, cancelled 1" in cli.stdout
    status_cli = CliRunner().invoke(
        main, ["--db", str(db), "closing", "status", "--period", PERIOD, "--no-poll", "--json"]
    )
    assert json.loads(status_cli.stdout)[0]["state"] == "cancelled"


def test_retry_cancelled_sends_it_again_under_a_fresh_key(tmp_path: Path) -> None:
    db = tmp_path / "edi.db"
    batch, cancelled_id = _queued_closing_exchange(db, tmp_path)
    with Bridge.open(db) as bridge:
        bridge.cancel(cancelled_id)  # from a backend: the next run finds it so
        [skipped] = _run(bridge, tmp_path).run(PERIOD, batch).outcomes
        assert skipped.result == CANCELLED
        [outcome] = _run(bridge, tmp_path, retry_cancelled=True).run(PERIOD, batch).outcomes
        assert outcome.result == SENT_NOW
        [row] = Ledger(bridge.store.engine).for_period(PERIOD)
        assert row.status == "sent"
        [new_id] = row.exchange_ids
        assert new_id != cancelled_id
        assert bridge.status(cancelled_id).status == "cancelled"
        assert bridge.status(new_id).idempotency_key.endswith("#retry-1")
        # Run again: the retried document is sent; nothing more goes out.
        [rerun] = _run(bridge, tmp_path, retry_cancelled=True).run(PERIOD, batch).outcomes
        assert rerun.result == "already_sent"
        assert len(bridge.list()) == 2
