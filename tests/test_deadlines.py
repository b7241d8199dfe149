"""Signing deadlines and reminders: events raised once each on an injected clock,
expired exchanges resent or cancelled, the worker and poll raising them, and a
version 3 database gaining the deadlines table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from edi_bridge import Bridge, Counterparty
from edi_bridge.deadlines import DeadlinePolicy
from edi_bridge.errors import ResendRefused, ValidationError
from edi_bridge.lifecycle import EventKind, ExchangeStatus
from edi_bridge.store import Store, migrations, schema
from edi_bridge.testing import sample_contract
from edi_bridge.worker import Worker

S = ExchangeStatus
SETTINGS = {"deadlines.signing_days": "10", "deadlines.reminder_days": "3,7"}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, days: float) -> None:
        self.now += dt.timedelta(days=days)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(tmp_path: Path, clock: Clock) -> Iterator[Bridge]:
    bridge = Bridge.open(tmp_path / "edi.db", settings=SETTINGS)
    bridge.deadlines.clock = clock
    yield bridge
    bridge.close()


def _kinds(bridge: Bridge, exchange_id: str) -> list[str]:
    return [e.kind for e in bridge.events() if e.exchange_id == exchange_id]


def test_reminders_fire_on_schedule_then_expired_at_the_deadline_each_once(
    timed: Bridge, counterparty: Counterparty, clock: Clock
) -> None:
    ex = timed.send(counterparty, sample_contract(), scenario="silent")
    assert timed.deadlines.check() == 0
    clock.advance(3.5)
    assert timed.deadlines.check() == 1
    assert timed.deadlines.check() == 0  # once per step of the schedule
    clock.advance(4)
    timed.poll()  # the poll raises them too
    reminders = [e for e in timed.events() if e.kind == EventKind.REMINDER_DUE]
    assert [e.data["day"] for e in reminders] == ["3", "7"]
    assert not timed.status(ex.id).needs_attention
    clock.advance(3)
    assert timed.deadlines.check() == 1
    assert timed.deadlines.check() == 0
    assert _kinds(timed, ex.id).count(EventKind.EXPIRED) == 1
    expired = timed.status(ex.id)
    assert expired.needs_attention
    assert expired.history[-1].cause.startswith("not signed by the deadline")
    assert [d.exchange_id for d in timed.deadlines.overdue()] == [ex.id]


def test_a_signed_contract_gets_no_reminder_and_never_expires(
    timed: Bridge, counterparty: Counterparty, clock: Clock
) -> None:
    ex = timed.send(counterparty, sample_contract())  # the mock signs on the next poll
    timed.poll()
    assert timed.status(ex.id).status == S.SIGNED
    clock.advance(30)
    assert timed.deadlines.check() == 0
    assert timed.deadlines.overdue() == []


def test_a_deadline_given_per_send_overrides_the_setting(
    timed: Bridge, counterparty: Counterparty, clock: Clock
) -> None:
    sign_by = clock.now + dt.timedelta(days=2)
    ex = timed.send(counterparty, sample_contract(), scenario="silent", deadline=sign_by)
    assert timed.deadlines.deadline(ex.id) == sign_by
    clock.advance(2.5)
    assert timed.deadlines.check() == 1  # expired; the day-3 reminder is not due yet
    assert _kinds(timed, ex.id)[-1] == EventKind.EXPIRED


def test_no_deadline_without_a_setting_or_a_given_date(
    tmp_path: Path, counterparty: Counterparty
) -> None:
    with Bridge.open(tmp_path / "edi.db") as bridge:
        ex = bridge.send(counterparty, sample_contract(), scenario="silent")
        assert bridge.deadlines.deadline(ex.id) is None
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
        assert bridge.deadlines.check(later) == 0


def test_an_expired_exchange_is_resent_as_a_new_linked_exchange(
    timed: Bridge, counterparty: Counterparty, clock: Clock
) -> None:
    ex = timed.send(counterparty, sample_contract(), scenario="silent")
    with pytest.raises(ResendRefused):
        timed.resend(ex.id, force=True)  # still within its deadline
    clock.advance(11)
    timed.deadlines.check()
    new = timed.resend(ex.id, force=True)
    assert new.id != ex.id
    assert new.previous_id == ex.id
    old = timed.status(ex.id)
    assert old.status == S.REVOKED
    assert not old.needs_attention
    # The old one is closed; the new one's clock starts at its own send.
    assert ex.id not in {d.exchange_id for d in timed.deadlines.overdue()}
    assert timed.deadlines.deadline(new.id) is not None


def test_an_expired_exchange_can_be_cancelled_and_a_live_one_cannot(
    timed: Bridge, counterparty: Counterparty, clock: Clock
) -> None:
    ex = timed.send(counterparty, sample_contract(), scenario="silent")
    with pytest.raises(ValidationError, match="has not expired"):
        timed.cancel(ex.id)
    assert timed.status(ex.id).status in (S.SENT, S.DELIVERED)
    clock.advance(10.5)
    cancelled = timed.cancel(ex.id)
    assert cancelled.status == S.REVOKED
    assert cancelled.reason == "signing deadline expired"
    assert _kinds(timed, ex.id)[-1] == EventKind.REVOKED


def test_the_worker_raises_deadline_events(
    timed: Bridge, counterparty: Counterparty, clock: Clock
) -> None:
    ex = timed.send(counterparty, sample_contract(), scenario="silent")
    clock.advance(12)
    Worker(timed, idle_sleep=0.01).run(until_idle=True)
    assert EventKind.EXPIRED in _kinds(timed, ex.id)


def test_bad_deadline_settings_name_the_setting() -> None:
    with pytest.raises(ValidationError, match=r"deadlines\.reminder_days"):
        DeadlinePolicy.from_settings({"deadlines.reminder_days": "3,soon"})
    with pytest.raises(ValidationError, match=r"deadlines\.signing_days"):
        DeadlinePolicy.from_settings({"deadlines.signing_days": "0"})


def test_a_version_3_database_gains_the_deadline_and_version_tables(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "v3.db")
    with store.transaction() as conn:
        for table in (schema.exchange_versions, schema.contract_versions, schema.deadlines):
            table.drop(conn)
        migrations._stamp(conn, 3)
    store.close()
    with Bridge.open(tmp_path / "v3.db", settings=SETTINGS) as bridge:
        with bridge.store.engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            assert {"edi_deadlines", "edi_contract_versions", "edi_exchange_versions"} <= names
            assert migrations.current_version(conn) == schema.SCHEMA_VERSION
        assert bridge.deadlines.check() == 0


def test_cli_lists_overdue_exchanges_and_cancels_an_expired_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from click.testing import CliRunner

    from edi_bridge.cli import main
    from edi_bridge.testing.samples import sample_counterparty_data, sample_pdf

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDI_BRIDGE_DB", raising=False)
    (tmp_path / "c.json").write_text(json.dumps(sample_counterparty_data("dl")), "utf-8")
    (tmp_path / "contract.pdf").write_bytes(sample_pdf("Contract DL-1"))

    def run(*args: str) -> dict[str, object] | list[dict[str, object]]:
        result = CliRunner().invoke(main, list(args))
        assert result.exit_code == 0, result.output
        parsed: dict[str, object] | list[dict[str, object]] = json.loads(result.stdout)
        return parsed

    def send(key: str, *extra: str) -> str:
        args = ["--counterparty", "c.json", "--document", "contract.pdf"]
        data = run(
            "send", *args, "--idempotency-key", key, "--mock-scenario", "silent", "--json", *extra
        )
        assert isinstance(data, dict)
        return str(data["id"])

    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    late = send("late", "--deadline", yesterday)
    send("fresh", "--deadline", (dt.date.today() + dt.timedelta(days=30)).isoformat())
    listed = run("list", "--overdue", "--json")
    assert isinstance(listed, list)
    assert [(e["id"], e["overdue"]) for e in listed] == [
        (late, {"kind": "expired", "since": listed[0]["overdue"]["since"]})  # type: ignore[index]
    ]
    shown = run("status", late, "--json")
    assert isinstance(shown, dict)
    given = dt.datetime.fromisoformat(yesterday).astimezone()  # a bare date is local time
    assert dt.datetime.fromisoformat(str(shown["deadline"])) == given
    cancelled = run("cancel", late, "--json")
    assert isinstance(cancelled, dict)
    assert cancelled["status"] == "revoked"
    assert run("list", "--overdue", "--json") == []
