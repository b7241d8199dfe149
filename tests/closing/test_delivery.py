from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from edi_bridge_providers.mock import MockProvider

from edi_bridge import Bridge
from edi_bridge.closing import delivery
from edi_bridge.closing.delivery import ALREADY_SENT, FAILED, SENT_NOW, ClosingRun
from edi_bridge.closing.inputs import parse_seller
from edi_bridge.closing.ledger import Ledger
from edi_bridge.closing.mail import Mailer, SmtpSettings
from edi_bridge.closing.upd import read_upd
from edi_bridge.provider import Formalized, ProviderContext

from .batch import Inbox, start_smtp, write_batch, write_seller


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    controller, inbox = start_smtp()
    yield controller.port, inbox
    controller.stop()


def _run(bridge: Bridge, tmp_path: Path, port: int, **kw: object) -> ClosingRun:
    seller = parse_seller(write_seller(tmp_path).read_bytes())
    mailer = Mailer(SmtpSettings(host="127.0.0.1", port=port, sender="docs@example.ru", timeout=5))
    return ClosingRun(bridge, seller, mailer=mailer, **kw)  # type: ignore[arg-type]


def test_batch_goes_by_each_clients_channel_and_a_rerun_sends_nothing(
    bridge: Bridge, tmp_path: Path, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    batch = write_batch(tmp_path, 50)
    run = _run(bridge, tmp_path, port, concurrency=4)
    first = run.run("2026-03", batch)
    assert first.count(SENT_NOW) == 50, first.as_json()
    edi = [o for o in first.outcomes if o.channel == "edi"]
    assert len(edi) == 17
    assert len(inbox.messages) == 33
    assert len(set(inbox.ids())) == 33

    mock = MockProvider(ProviderContext(config={}, engine=bridge.store.engine))
    assert mock.document_count() == 17

    second = run.run("2026-03", batch)
    assert second.count(ALREADY_SENT) == 50
    assert len(inbox.messages) == 33
    assert mock.document_count() == 17


def test_email_carries_the_upd_and_a_paper_record_is_kept(
    bridge: Bridge, tmp_path: Path, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    batch = write_batch(tmp_path, 2)
    _run(bridge, tmp_path, port).run("2026-03", batch)
    message = inbox.messages[0]
    parts = [p for p in message.walk() if p.get_filename()]
    assert len(parts) == 1
    name = parts[0].get_filename()
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    read = read_upd(payload)
    assert name == read.file_id + ".xml"
    assert message["To"] == "accounting@example.ru"
    rows = Ledger(bridge.store.engine).for_period("2026-03")
    paper = [r for r in rows if r.channel == "paper"]
    assert len(paper) == 1
    assert paper[0].recipient.startswith("125009")


def test_edi_send_carries_upd_options(bridge: Bridge, tmp_path: Path) -> None:
    seen: list[tuple[str, bool, Formalized | None]] = []

    class Recording(MockProvider):
        def send(self, request):  # type: ignore[no-untyped-def]
            seen.append(
                (request.document.kind, request.need_recipient_signature, request.formalized)
            )
            return super().send(request)

    bridge.registry.register("mock", Recording)
    batch = write_batch(tmp_path, 1)
    seller = parse_seller(write_seller(tmp_path).read_bytes())
    summary = ClosingRun(bridge, seller).run("2026-03", batch)
    assert summary.count(SENT_NOW) == 1
    assert seen == [("upd", True, Formalized(kind="upd", function="СЧФДОП", format_version="5.03"))]


def test_bad_line_fails_alone_with_the_field_named(
    bridge: Bridge, tmp_path: Path, smtp: tuple[int, Inbox]
) -> None:
    port, _inbox = smtp
    batch = write_batch(tmp_path, 3)
    lines = batch.read_text("utf-8").splitlines()
    broken = json.loads(lines[1])
    broken["counterparty"]["inn"] = "123"
    lines[1] = json.dumps(broken, ensure_ascii=False)
    batch.write_text("\n".join(lines) + "\n", "utf-8")
    summary = _run(bridge, tmp_path, port).run("2026-03", batch)
    failed = [o for o in summary.outcomes if o.result == FAILED]
    assert len(failed) == 1
    assert failed[0].reason is not None
    assert failed[0].reason.startswith("line 2.counterparty.inn")
    assert summary.count(SENT_NOW) == 2


def test_unreachable_smtp_fails_and_a_later_run_sends(
    bridge: Bridge, tmp_path: Path, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    batch = write_batch(tmp_path, 2, edi_every=100)  # first is EDI (i=0), second e-mail
    from .batch import free_port

    dead = _run(bridge, tmp_path, free_port()).run("2026-03", batch)
    mail = [o for o in dead.outcomes if o.channel == "email"]
    assert mail[0].result == FAILED
    assert "SMTP unreachable" in (mail[0].reason or "")
    again = _run(bridge, tmp_path, port).run("2026-03", batch)
    assert [o.result for o in again.outcomes if o.channel == "email"] == [SENT_NOW]
    assert len(inbox.messages) == 1


def _spoil(batch: Path, index: int, change: Callable[[dict[str, Any]], None]) -> None:
    lines = batch.read_text("utf-8").splitlines()
    item = json.loads(lines[index])
    change(item)
    lines[index] = json.dumps(item, ensure_ascii=False)
    batch.write_text("\n".join(lines) + "\n", "utf-8")


def test_lines_that_cannot_be_built_fail_alone_and_the_run_goes_on(
    bridge: Bridge, tmp_path: Path, smtp: tuple[int, Inbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, inbox = smtp
    batch = write_batch(tmp_path, 5, edi_every=100)  # line 1 by EDI, lines 2-5 by e-mail

    def vertical_tab(item: dict[str, Any]) -> None:
        item["documents"][0]["lines"][0]["name"] = "Услуги\vсвязи"

    def huge_quantity(item: dict[str, Any]) -> None:
        item["documents"][0]["lines"][0]["quantity"] = "9" * 38

    _spoil(batch, 1, vertical_tab)
    _spoil(batch, 2, huge_quantity)
    # A fault of our own while building one document (a bug, a full disk) stays with it.
    real_build = delivery.build_upd

    def build_upd(document: Any, **kw: Any) -> Any:
        if document.number == "00003":
            raise RuntimeError("disk full")
        return real_build(document, **kw)

    monkeypatch.setattr(delivery, "build_upd", build_upd)
    summary = _run(bridge, tmp_path, port).run("2026-03", batch)
    reasons = sorted(o.reason or "" for o in summary.outcomes if o.result == FAILED)
    assert len(reasons) == 3, summary.as_json()
    assert any("line 2" in r and "control characters" in r for r in reasons), reasons
    assert any("line 3" in r and "quantity" in r and "15 digits" in r for r in reasons), reasons
    assert any(r.startswith("line 4: unexpected error (RuntimeError") for r in reasons), reasons
    assert summary.count(SENT_NOW) == 2
    assert len(inbox.messages) == 1

    monkeypatch.setattr(delivery, "build_upd", real_build)
    again = _run(bridge, tmp_path, port).run("2026-03", batch)
    assert again.count(ALREADY_SENT) == 2
    assert again.count(SENT_NOW) == 1  # the document that failed on our side goes now
    assert len([o for o in again.outcomes if o.result == FAILED]) == 2
    assert len(inbox.messages) == 2


def test_batch_files_behind_symlinks_are_refused_and_nothing_is_mailed(
    bridge: Bridge, tmp_path: Path, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    secret = tmp_path / "outside" / "secret.pdf"
    secret.parent.mkdir()
    secret.write_bytes(b"%PDF-1.4 not for the client")
    batch_dir = tmp_path / "batch"
    batch_dir.mkdir()
    (batch_dir / "act.pdf").symlink_to(secret)
    (batch_dir / "sub").symlink_to(secret.parent, target_is_directory=True)
    (batch_dir / "fifo-dir").mkdir()
    batch = write_batch(batch_dir, 4, edi_every=100)

    def files(*names: str) -> Callable[[dict[str, Any]], None]:
        def change(item: dict[str, Any]) -> None:
            item["documents"][0] = {
                "number": "A-1",
                "date": "2026-03-31",
                "kind": "act",
                "files": list(names),
            }

        return change

    _spoil(batch, 1, files("act.pdf"))
    _spoil(batch, 2, files("sub/secret.pdf"))
    _spoil(batch, 3, files("fifo-dir"))
    summary = _run(bridge, tmp_path, port).run("2026-03", batch)
    reasons = sorted(o.reason or "" for o in summary.outcomes if o.result == FAILED)
    assert len(reasons) == 3, summary.as_json()
    assert sum("symbolic link" in r for r in reasons) == 2, reasons
    assert sum("not a regular file" in r for r in reasons) == 1, reasons
    assert all(r.startswith("files:") for r in reasons), reasons
    assert inbox.messages == []
