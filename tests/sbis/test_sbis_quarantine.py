"""An SBIS event that cannot be read (the operator refuses its signature's download, a
malformed entry) between two good ones: over real HTTP the good ones are applied, the
bad one is held with its entry and the reason, the cursor moves past it, and it is
read again by the adapter once the cause is gone. An outage still fails the poll."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from edi_bridge_providers.sbis.feed import events_of
from edi_bridge_providers.sbis.wire import MSK, format_datetime

from edi_bridge import Bridge, Event, ExchangeStatus, TransientError
from edi_bridge.cli import main
from edi_bridge.fakes.server import FakeServer
from edi_bridge.testing import sample_contract

from .conftest import SbisWorld
from .helpers import RefuseDownloads, party


@pytest.fixture
def refusing(start_fake: Callable[..., SbisWorld]) -> Iterator[RefuseDownloads]:
    """The SBIS fake behind a server that can refuse chosen signature downloads."""
    fake, _ = start_fake(seed="3")
    middleware = RefuseDownloads(fake)
    server = FakeServer(middleware).start()  # type: ignore[arg-type]
    middleware.server = server
    yield middleware
    server.stop()


def _three_sent(
    refusing: RefuseDownloads, open_bridge: Callable[..., Bridge], status: int
) -> tuple[FakeServer, Bridge, list[str]]:
    refusing.status = status
    assert refusing.server is not None
    bridge = open_bridge(refusing.server)
    ids = [
        bridge.send(
            party("sign", refusing.fake, seed=f"sq-{n}"),
            sample_contract(f"SQ-{n}"),
            idempotency_key=f"sq-{n}",
            provider="sbis",
        ).id
        for n in range(3)
    ]
    return refusing.server, bridge, ids


def _statuses(bridge: Bridge, ids: list[str]) -> list[str]:
    return [str(bridge.status(i).status) for i in ids]


def test_an_event_whose_signature_download_is_refused_is_held_and_its_neighbours_applied(
    refusing: RefuseDownloads,
    open_bridge: Callable[..., Bridge],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, bridge, ids = _three_sent(refusing, open_bridge, 403)
    told: list[Event] = []
    bridge.on("event_quarantined", told.append)
    middle = bridge.status(ids[1]).provider_ref["document_id"]
    refusing.documents.add(middle)
    for _ in range(4):
        bridge.poll(["sbis"])
    assert _statuses(bridge, ids) == ["signed", "delivered", "signed"]
    [held] = bridge.quarantined()
    assert held.provider == "sbis"
    assert held.document_id == middle
    assert held.reason.startswith("Forbidden")
    [event] = held.body["raw"]["Событие"]
    assert event["Название"] == "Утверждение"
    assert held.body["raw"]["Идентификатор"] == middle
    assert [e.data["quarantine_id"] for e in told] == [held.id]
    bridge.poll(["sbis"])  # past the cursor: not read or held again
    assert len(bridge.quarantined()) == 1
    assert len(told) == 1

    refusing.documents.clear()  # the operator hands the file out again
    # The command a person runs, pointed at the same operator: the entry is read anew.
    for name, value in server.exports().items():
        monkeypatch.setenv(name, value)
    db = str(tmp_path / "edi.db")
    done = CliRunner().invoke(main, ["--db", db, "events", "reapply", str(held.id), "--by", "ops"])
    assert done.exit_code == 0, done.output
    assert "reapplied by ops" in done.stdout
    signed = bridge.status(ids[1])
    assert signed.status == ExchangeStatus.SIGNED
    assert [s.role for s in signed.signatures] == ["ours", "counterparty"]
    seq = bridge.last_event_seq()
    assert bridge.reapply(held.id).status == "reapplied"
    assert bridge.last_event_seq() == seq


def test_a_download_the_server_cannot_answer_fails_the_poll_and_holds_nothing(
    refusing: RefuseDownloads, open_bridge: Callable[..., Bridge]
) -> None:
    _, bridge, ids = _three_sent(refusing, open_bridge, 503)
    refusing.documents.add(bridge.status(ids[1]).provider_ref["document_id"])
    failed = []
    for _ in range(4):
        try:
            bridge.poll(["sbis"])
        except TransientError as exc:
            failed.append(exc)
    assert failed
    assert all("server error" in str(e) for e in failed)
    assert bridge.quarantined() == []
    assert "signed" not in _statuses(bridge, ids)  # the page is applied all or nothing
    refusing.documents.clear()
    for _ in range(2):
        bridge.poll(["sbis"])
    assert _statuses(bridge, ids) == ["signed"] * 3
    assert bridge.quarantined() == []


def test_a_malformed_signature_entry_is_reported_unreadable_not_raised(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    _, server = sbis
    provider = open_bridge(server).provider("sbis")
    at = format_datetime(dt.datetime(2026, 11, 24, 10, 0, tzinfo=MSK))
    entries = [
        {
            "Идентификатор": doc,
            "Направление": "Исходящий",
            "Событие": [{"Идентификатор": f"e-{doc}", "Название": name, "ДатаВремя": at}],
            # A signature whose file has neither content nor link.
            "Вложение": [{"Подпись": [{"Файл": {"Имя": "x.sig"}, "Сертификат": {"ИНН": "1"}}]}],
        }
        for doc, name in (("d1", "Получение"), ("d2", "Утверждение"), ("d3", "Отклонение"))
    ]
    events, unreadable = provider.reader.page(events_of(entries))  # type: ignore[attr-defined]
    assert [e.event_id for e in events] == ["e-d1", "e-d3"]
    [bad] = unreadable
    assert (bad.event_id, bad.document_id) == ("e-d2", "d2")
    assert bad.reason == "RejectedRequest: [sbis] a file came without content or link"
    assert [e.event_id for e in events_of([bad.raw])] == ["e-d2"]
