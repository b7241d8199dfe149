"""SIGKILL at every step boundary of send, poll and callbacks; restart; audit.

Each test runs the work in a child process (``crash.py``) that kills itself
at a named point, runs it again to completion, and checks the promises with
:func:`harness.audit`: one exchange and one document per intent, our
signature and the counterparty's kept, each change recorded and handed over
once (callbacks repeat only across a crash, and then under the same key).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from edi_bridge_providers.diadoc.fake import DiadocFake

from edi_bridge.fakes.server import FakeOptions, FakeServer
from edi_bridge.testing import sample_counterparty

from .crash import POINTS
from .harness import audit, count, mock_view, operator_view, run_child

COUNT = 3
KEYS = [f"crash-{i}" for i in range(COUNT)]
# The occurrence to die at: a later one where the first is not the interesting one.
NTH = {
    "send.after_call": 2,
    "callback.before_mark": 4,
}


def _crash_then_finish(
    tmp_path: Path,
    chain: list[str],
    *,
    provider: str = "mock",
    settings: dict[str, str] | None = None,
    count_: int = COUNT,
) -> tuple[int, dict[str, object]]:
    """Run the child dying at each point of ``chain`` in turn, then to the end."""
    db, log = tmp_path / "edi.db", tmp_path / "callbacks.log"
    marks = 0
    for point in chain:
        run = run_child(db, log, crash=point, provider=provider, settings=settings, count=count_)
        assert run.killed, f"{point} was never reached: {run.summary}"
        count(f"crash runs survived ({provider})")
        marks += point.startswith("callback.before_mark")
    final = run_child(db, log, provider=provider, settings=settings, count=count_)
    assert final.returncode == 0, final.stderr[-2000:]
    assert final.summary["settled"], final.summary
    return marks, final.summary


@pytest.mark.parametrize("point", [p for p in POINTS if p != "reconcile.after_find"])
def test_a_kill_at_each_point_loses_and_duplicates_nothing_mock(tmp_path: Path, point: str) -> None:
    spec = f"{point}:{NTH.get(point, 1)}"
    marks, _ = _crash_then_finish(tmp_path, [spec])
    found = audit(
        tmp_path / "edi.db",
        mock_view(tmp_path / "edi.db"),
        keys=KEYS,
        callbacks=tmp_path / "callbacks.log",
        expected_redeliveries=marks,
    )
    found.assert_clean()
    assert found.exchanges == COUNT


def test_a_send_cut_off_after_the_call_is_reconciled_by_asking_the_provider(
    tmp_path: Path,
) -> None:
    # The first intent reaches the operator; the process dies before recording it.
    _, summary = _crash_then_finish(tmp_path, ["send.after_call:1"])
    hits = summary["hits"]
    assert isinstance(hits, dict)
    # The restart asked the operator about the interrupted send (one question),
    # and sent only the two intents that had never reached it.
    assert hits.get("reconcile.after_find") == 1
    assert hits.get("send.before_call") == COUNT - 1
    view = mock_view(tmp_path / "edi.db")
    assert view["crash-0"].send_calls == 1  # never sent blind a second time
    audit(tmp_path / "edi.db", view, keys=KEYS).assert_clean()


def test_a_kill_during_reconciliation_is_reconciled_again(tmp_path: Path) -> None:
    marks, _summary = _crash_then_finish(
        tmp_path, ["send.after_call:1", "reconcile.after_find:1", "send.before_call:1"]
    )
    found = audit(
        tmp_path / "edi.db",
        mock_view(tmp_path / "edi.db"),
        keys=KEYS,
        callbacks=tmp_path / "callbacks.log",
        expected_redeliveries=marks,
    )
    found.assert_clean()


def test_a_callback_cut_off_before_its_mark_is_redelivered_under_the_same_key(
    tmp_path: Path,
) -> None:
    _crash_then_finish(tmp_path, ["callback.before_mark:1"])
    lines = (tmp_path / "callbacks.log").read_text().splitlines()
    keys = [line.split("\t")[0] for line in lines]
    # The first change was handed over, the process died, and it came again.
    assert keys[0] == keys[1]
    assert len(keys) == len(set(keys)) + 1


@pytest.fixture
def diadoc() -> Iterator[tuple[DiadocFake, FakeServer]]:
    fake = DiadocFake(FakeOptions(extra={"seed": "5"}))
    for i in range(3):
        fake.add_counterparty(sample_counterparty(f"crash-{i}"), "sign")
    with FakeServer(fake) as server:
        yield fake, server


def _diadoc_settings(server: FakeServer) -> dict[str, str]:
    return server.settings(timeout="5")


@pytest.mark.parametrize(
    "chain",
    [
        ["send.after_call:2"],
        ["send.after_call:1", "reconcile.after_find:1"],
        ["poll.mid_page:1"],
        ["poll.before_cursor:1"],
        ["callback.before_mark:5"],
    ],
)
def test_a_kill_at_each_point_loses_and_duplicates_nothing_diadoc(
    tmp_path: Path, diadoc: tuple[DiadocFake, FakeServer], chain: list[str]
) -> None:
    fake, server = diadoc
    marks, _ = _crash_then_finish(
        tmp_path, chain, provider="diadoc", settings=_diadoc_settings(server)
    )
    found = audit(
        tmp_path / "edi.db",
        operator_view(fake, KEYS),
        keys=KEYS,
        callbacks=tmp_path / "callbacks.log",
        expected_redeliveries=marks,
    )
    found.assert_clean()
    # Reconciled by asking (GetDocumentsByCustomId), not by posting again.
    assert fake.calls("/V3/PostMessage") == COUNT
    if chain[0].startswith("send.after_call"):
        assert fake.calls("/GetDocumentsByCustomId") >= 1


# -- many random crashes (slow) ----------------------------------------------

# The highest occurrence worth aiming at, per point, for the two intents each
# run adds (the earlier ones are settled by then).
REACH = {
    "send.before_call": 2,
    "send.after_call": 2,
    "send.after_record": 2,
    "reconcile.after_find": 1,
    "poll.after_fetch": 2,
    "poll.mid_page": 2,
    "poll.before_cursor": 2,
    "poll.after_commit": 2,
    "callback.before_mark": 6,
}


def _random_sequence(
    root: Path, seed: int, provider: str, crashes: int
) -> tuple[int, int, int, int]:
    """``crashes`` runs on one database, each adding two intents and dying at a
    random point, then a clean run; audited."""
    rng = random.Random(seed)
    work = root / f"seq-{provider}-{seed}"
    work.mkdir()
    db, log = work / "edi.db", work / "callbacks.log"
    total = 2 * crashes
    keys = [f"crash-{i}" for i in range(total)]
    fake: DiadocFake | None = None
    server: FakeServer | None = None
    settings = None
    if provider == "diadoc":
        fake = DiadocFake(FakeOptions(extra={"seed": str(seed)}))
        for i in range(3):
            fake.add_counterparty(sample_counterparty(f"crash-{i}"), "sign")
        server = FakeServer(fake).start()
        settings = _diadoc_settings(server)
    try:
        kills = marks = 0
        for run_no in range(crashes):
            point = rng.choice(list(REACH))
            spec = f"{point}:{rng.randint(1, REACH[point])}"
            run = run_child(
                db, log, crash=spec, provider=provider, settings=settings, count=2 * (run_no + 1)
            )
            if run.killed:
                kills += 1
                marks += point == "callback.before_mark"
        final = run_child(db, log, provider=provider, settings=settings, count=total)
        assert final.summary.get("settled"), final.stderr[-2000:]
        view = mock_view(db) if fake is None else operator_view(fake, keys)
        found = audit(db, view, keys=keys, callbacks=log, expected_redeliveries=marks)
        return kills, len(found.duplicates), len(found.losses), found.redeliveries
    finally:
        if server is not None:
            server.stop()


@pytest.mark.slow
@pytest.mark.parametrize(("provider", "sequences"), [("mock", 100), ("diadoc", 36)])
def test_hundreds_of_random_kills_lose_and_duplicate_nothing(
    tmp_path: Path, provider: str, sequences: int
) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(
                lambda seed: _random_sequence(tmp_path, seed, provider, crashes=5),
                range(sequences),
            )
        )
    kills = sum(r[0] for r in results)
    duplicates = sum(r[1] for r in results)
    losses = sum(r[2] for r in results)
    count(f"crash runs survived ({provider})", kills)
    count(f"crash sequences audited ({provider})", sequences)
    count("callback redeliveries under the same key", sum(r[3] for r in results))
    count("duplicates found", duplicates)
    count("losses found", losses)
    assert duplicates == 0
    assert losses == 0
    assert kills >= sequences * 3  # most runs reach their point
