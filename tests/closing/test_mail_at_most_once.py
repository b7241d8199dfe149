"""E-mail is at most once: what the server accepted is never sent again.

Two misbehaving SMTP servers on loopback: one accepts the message and answers
QUIT with 421, one keeps the message and drops the connection before its final
reply. Neither may lead a later run to send the message a second time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from edi_bridge import Bridge
from edi_bridge.closing.delivery import FAILED, SENT_NOW, ClosingRun
from edi_bridge.closing.inputs import parse_seller
from edi_bridge.closing.mail import DeliveryUncertain, Mailer, SmtpSettings

from .batch import Inbox, free_port, write_batch, write_seller


class QuitRefusingInbox(Inbox):
    """Accepts every message, then answers QUIT with 421."""

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        return "421 Service not available, closing channel"


class DroppingInbox(Inbox):
    """Keeps the message, then cuts the line before the final 250 (the first ``drops`` times)."""

    def __init__(self, drops: int) -> None:
        super().__init__()
        self.drops = drops

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if self.drops > 0:
            self.drops -= 1
            server.transport.close()
        return reply


def _serve(inbox: Inbox) -> Iterator[tuple[int, Inbox]]:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


@pytest.fixture
def quit_refusing() -> Iterator[tuple[int, Inbox]]:
    yield from _serve(QuitRefusingInbox())


@pytest.fixture
def dropping() -> Iterator[tuple[int, Inbox]]:
    yield from _serve(DroppingInbox(drops=1))


def _mailer(port: int) -> Mailer:
    return Mailer(SmtpSettings(host="127.0.0.1", port=port, sender="docs@example.ru", timeout=5))


def _run(bridge: Bridge, tmp_path: Path, port: int, **kw: Any) -> ClosingRun:
    seller = parse_seller(write_seller(tmp_path).read_bytes())
    return ClosingRun(bridge, seller, mailer=_mailer(port), **kw)


def test_a_421_at_quit_after_the_message_was_accepted_counts_as_sent(
    bridge: Bridge, tmp_path: Path, quit_refusing: tuple[int, Inbox]
) -> None:
    port, inbox = quit_refusing
    batch = write_batch(tmp_path, 3, edi_every=100)  # line 0 goes by EDI, lines 1-2 by e-mail
    first = _run(bridge, tmp_path, port).run("2026-03", batch)
    mail = [o for o in first.outcomes if o.channel == "email"]
    assert [o.result for o in mail] == [SENT_NOW, SENT_NOW], first.as_json()
    assert len(inbox.messages) == 2
    _run(bridge, tmp_path, port).run("2026-03", batch)
    assert len(inbox.messages) == 2


def test_a_line_cut_before_the_final_reply_is_uncertain_and_not_sent_again(
    bridge: Bridge, tmp_path: Path, dropping: tuple[int, Inbox]
) -> None:
    port, inbox = dropping
    batch = write_batch(tmp_path, 2, edi_every=100)  # one e-mail line
    first = _run(bridge, tmp_path, port).run("2026-03", batch)
    (mail,) = [o for o in first.outcomes if o.channel == "email"]
    assert mail.result == FAILED
    assert "may hold it" in (mail.reason or "")
    assert "--retry-uncertain" in (mail.reason or "")
    assert len(inbox.messages) == 1

    again = _run(bridge, tmp_path, port).run("2026-03", batch)
    (mail,) = [o for o in again.outcomes if o.channel == "email"]
    assert mail.result == FAILED
    assert "may have arrived" in (mail.reason or "")
    assert len(inbox.messages) == 1

    forced = _run(bridge, tmp_path, port, retry_uncertain=True).run("2026-03", batch)
    assert [o.result for o in forced.outcomes if o.channel == "email"] == [SENT_NOW]
    assert len(inbox.messages) == 2  # the caller asked for it, knowing it may be a copy


def test_the_mailer_tells_an_uncertain_delivery_from_one_that_never_left(
    dropping: tuple[int, Inbox],
) -> None:
    port, inbox = dropping
    mailer = _mailer(port)
    message = mailer.compose(
        to="buyer@example.ru", subject="s", body="b", attachments=[], message_id="<m1@test>"
    )
    with pytest.raises(DeliveryUncertain):
        mailer.send(message)
    assert inbox.ids() == ["<m1@test>"]
    mailer.send(message)  # the server answers properly now
    assert inbox.ids() == ["<m1@test>", "<m1@test>"]
