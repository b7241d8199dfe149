"""SQL statements per send and per applied provider event stay few (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from edi_bridge import Bridge
from edi_bridge.testing import sample_contract, sample_counterparty

SENDS = 20


@pytest.fixture
def counted(tmp_path: Path) -> Iterator[tuple[Bridge, list[int]]]:
    with Bridge.open(tmp_path / "edi.db") as bridge:
        count = [0]

        def on_execute(*_: Any) -> None:
            count[0] += 1

        # A first send warms the caches (statements built once, the mock's tables).
        bridge.send(sample_counterparty("warm"), sample_contract("W-0"), scenario="silent")
        sa.event.listen(bridge.store.engine, "before_cursor_execute", on_execute)
        yield bridge, count


def test_a_send_takes_a_bounded_number_of_statements(counted: tuple[Bridge, list[int]]) -> None:
    bridge, count = counted
    count[0] = 0
    for i in range(SENDS):
        bridge.send(sample_counterparty(f"s{i}"), sample_contract(f"S-{i}"))
    # Two transactions around the provider call, the mock's own rows included: no look-up
    # of the key before the insert (ON CONFLICT instead); the document and our signature
    # are one blob row each (no chunk rows): 22 in all
    assert count[0] / SENDS <= 22


def test_applying_events_takes_about_two_statements_each(
    counted: tuple[Bridge, list[int]],
) -> None:
    bridge, count = counted
    # The writer's own batching: the counterparty signature check is measured below.
    bridge.signature_check = None
    for i in range(SENDS):
        bridge.send(sample_counterparty(f"p{i}"), sample_contract(f"P-{i}"))
    count[0] = 0
    changes = bridge.poll()
    assert {c.kind for c in changes} == {"delivered", "signed"}
    assert len(changes) == 2 * SENDS
    # The feed's page is applied in one batch, the mock's bookkeeping included.
    assert count[0] / len(changes) <= 1.1


def test_the_default_signature_check_adds_a_few_statements_per_signature(
    counted: tuple[Bridge, list[int]],
) -> None:
    bridge, count = counted
    for i in range(SENDS):
        bridge.send(sample_counterparty(f"c{i}"), sample_contract(f"C-{i}"))
    count[0] = 0
    changes = bridge.poll()
    assert len([c for c in changes if c.kind == "signed"]) == SENDS
    # The page's exchanges are loaded in three statements and their documents in one,
    # not per signature (was 3 to load and 2 to 3 to stream, for each signature).
    assert (count[0] - 2.5 * len(changes)) / SENDS <= 1
