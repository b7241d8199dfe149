"""Shared helpers: run the crash child, and audit a database against its operator.

The audit is the definition of "nothing duplicated, nothing lost" used by
every reliability test: for each intent (idempotency key) exactly one exchange
and one document at the operator, every exchange signed with our signature and
the counterparty's kept byte for byte, each change recorded once, each
callback key standing for one change and every change handed over.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from edi_bridge_providers.mock import calls, messages

from edi_bridge import Bridge
from edi_bridge.fakes.base import FakeApp
from edi_bridge.store import schema

CHILD = Path(__file__).with_name("crash.py")
FIGURES: Counter[str] = Counter()


def count(name: str, n: int = 1) -> None:
    """Add ``n`` to the run's figure ``name`` (printed at the end of the run)."""
    FIGURES[name] += n


SETTLED = ("sent", "delivered", "signed")


@dataclasses.dataclass
class ChildRun:
    returncode: int
    summary: dict[str, Any]
    stderr: str

    @property
    def killed(self) -> bool:
        return self.returncode == -9


def run_child(
    db: Path,
    callbacks: Path,
    *,
    crash: str | None = None,
    provider: str = "mock",
    count: int = 3,
    settings: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> ChildRun:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDI_BRIDGE_")}
    if crash:
        env["EDI_BRIDGE_CRASH_AT"] = crash
    cmd = [sys.executable, str(CHILD), "--db", str(db), "--callbacks", str(callbacks)]
    cmd += ["--provider", provider, "--count", str(count)]
    if settings:
        cmd += ["--settings", json.dumps(dict(settings))]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    summary: dict[str, Any] = {}
    if proc.returncode == 0:
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
    elif proc.returncode != -9:
        raise AssertionError(f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return ChildRun(proc.returncode, summary, proc.stderr)


@dataclasses.dataclass
class Audit:
    """What was found in a database after the work settled."""

    exchanges: int = 0
    duplicates: list[str] = dataclasses.field(default_factory=list)
    losses: list[str] = dataclasses.field(default_factory=list)
    redeliveries: int = 0  # callback deliveries repeated with the same key

    def assert_clean(self) -> None:
        assert not self.duplicates, "duplicated: " + "; ".join(self.duplicates[:10])
        assert not self.losses, "lost: " + "; ".join(self.losses[:10])


@dataclasses.dataclass(frozen=True)
class AtOperator:
    """The operator's view of one intent: documents, send calls, signatures."""

    documents: int
    send_calls: int | None  # None when the operator cannot tell
    our_signature: bytes | None
    counterparty_signature: bytes | None


def mock_view(db: Path) -> dict[str, AtOperator]:
    with Bridge.open(db) as bridge, bridge.store.engine.connect() as conn:
        rows = conn.execute(sa.select(messages)).all()
        counted = dict(conn.execute(sa.select(calls.c.idempotency_key, calls.c.count)).all())
    per_key: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        per_key[row.idempotency_key].append(row)
    view = {}
    for key, found in per_key.items():
        row = found[0]
        cp_sig = row.counterparty_signature
        view[key] = AtOperator(
            len(found), counted.get(key), bytes(row.signature), bytes(cp_sig) if cp_sig else None
        )
    return view


def operator_view(fake: FakeApp, keys: Iterable[str]) -> dict[str, AtOperator]:
    """An operator fake's view of each key, through the steering API every fake shares."""
    view = {}
    for key in keys:
        held = fake.signatures_for_key(key)
        view[key] = AtOperator(
            fake.documents_for_key(key), None, held.get("ours"), held.get("counterparty")
        )
    return view


def audit(
    db: Path,
    operator: Mapping[str, AtOperator],
    *,
    keys: Iterable[str],
    callbacks: Path | None = None,
    expected_redeliveries: int | None = None,
) -> Audit:
    """Check every promise for ``keys`` against the store and the operator."""
    keys = list(keys)
    found = Audit()
    with Bridge.open(db) as bridge, bridge.store.engine.connect() as conn:
        ex = schema.exchanges
        rows = conn.execute(sa.select(ex.c.id, ex.c.idempotency_key, ex.c.status)).all()
        history = conn.execute(
            sa.select(schema.history.c.exchange_id, schema.history.c.status)
        ).all()
        events = conn.execute(
            sa.select(schema.events.c.key, schema.events.c.exchange_id, schema.events.c.kind)
        ).all()
        sigs = [
            (s.exchange_id, s.role, _read(bridge, s.sha256))
            for s in conn.execute(
                sa.select(
                    schema.signatures.c.exchange_id,
                    schema.signatures.c.role,
                    schema.signatures.c.sha256,
                )
            ).all()
        ]
    found.exchanges = len(rows)
    by_key = Counter(r.idempotency_key for r in rows)
    id_of = {r.idempotency_key: r.id for r in rows}
    for key in keys:
        at = operator.get(key)
        if by_key[key] > 1:
            found.duplicates.append(f"{key}: {by_key[key]} exchanges")
        elif by_key[key] == 0:
            found.losses.append(f"{key}: no exchange")
        if at is None or at.documents == 0:
            found.losses.append(f"{key}: no document at the operator")
            continue
        if at.documents > 1:
            found.duplicates.append(f"{key}: {at.documents} documents at the operator")
        if at.send_calls is not None and at.send_calls > 1:
            found.duplicates.append(f"{key}: sent {at.send_calls} times (no reconciliation)")
    status = {r.id: r.status for r in rows}
    changes = Counter((e.exchange_id, e.kind) for e in events)
    steps = Counter((h.exchange_id, h.status) for h in history)
    kept: dict[tuple[str, str], list[bytes]] = defaultdict(list)
    for exchange_id, role, content in sigs:
        kept[(exchange_id, role)].append(content)
    for key in keys:
        exchange_id = id_of.get(key)
        if exchange_id is None:
            continue
        if status[exchange_id] != "signed":
            found.losses.append(f"{key}: ended {status[exchange_id]}, not signed")
        for kind in SETTLED:
            if changes[(exchange_id, kind)] != 1:
                bucket = found.duplicates if changes[(exchange_id, kind)] > 1 else found.losses
                bucket.append(f"{key}: change {kind} recorded {changes[(exchange_id, kind)]}x")
            if steps[(exchange_id, kind)] > 1:
                found.duplicates.append(f"{key}: history {kind} {steps[(exchange_id, kind)]}x")
        at = operator.get(key)
        for role, theirs in (
            ("ours", at.our_signature if at else None),
            ("counterparty", at.counterparty_signature if at else None),
        ):
            mine = kept.get((exchange_id, role), [])
            if len(mine) != 1:
                bucket = found.duplicates if len(mine) > 1 else found.losses
                bucket.append(f"{key}: {len(mine)} {role} signatures kept")
            elif theirs is not None and mine[0] != theirs:
                found.losses.append(f"{key}: {role} signature differs from the operator's")
            elif theirs is None:
                found.losses.append(f"{key}: the operator has no {role} signature")
    if callbacks is not None:
        _audit_callbacks(found, callbacks, {e.key for e in events}, expected_redeliveries)
    return found


def _read(bridge: Bridge, sha256: str) -> bytes:
    with bridge.store.open_blob(sha256) as fh:
        return fh.read()


def _audit_callbacks(
    found: Audit, log: Path, recorded: set[str], expected_redeliveries: int | None
) -> None:
    lines = [line.split("\t") for line in log.read_text().splitlines() if line]
    deliveries = Counter(key for key, _ex, _kind in lines)
    keys_per_change: dict[tuple[str, str], set[str]] = defaultdict(set)
    for key, exchange_id, kind in lines:
        keys_per_change[(exchange_id, kind)].add(key)
    for change, keys in keys_per_change.items():
        if len(keys) > 1:
            found.duplicates.append(f"change {change} handed over under keys {sorted(keys)}")
    for key in recorded - set(deliveries):
        found.losses.append(f"change {key} never handed to a callback")
    found.redeliveries = sum(n - 1 for n in deliveries.values())
    if expected_redeliveries is not None and found.redeliveries != expected_redeliveries:
        found.duplicates.append(
            f"{found.redeliveries} callback redeliveries, but only "
            f"{expected_redeliveries} crashes between a callback and its mark"
        )
