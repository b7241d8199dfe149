from __future__ import annotations

from pathlib import Path

import pytest

from edi_bridge import Bridge
from edi_bridge.closing.delivery import ALREADY_SENT, SENT_NOW, ClosingRun
from edi_bridge.closing.inputs import parse_seller
from edi_bridge.closing.mail import Mailer, SmtpSettings

from .batch import start_smtp, write_batch, write_seller


@pytest.mark.slow
def test_thousand_counterparties_complete_and_rerun_sends_nothing(
    bridge: Bridge, tmp_path: Path
) -> None:
    controller, inbox = start_smtp()
    try:
        seller = parse_seller(write_seller(tmp_path).read_bytes())
        mailer = Mailer(SmtpSettings(host="127.0.0.1", port=controller.port, sender="d@example.ru"))
        run = ClosingRun(bridge, seller, mailer=mailer, concurrency=8)
        batch = write_batch(tmp_path, 1000)
        assert run.run("2026-03", batch).count(SENT_NOW) == 1000
        assert run.run("2026-03", batch).count(ALREADY_SENT) == 1000
        assert len(set(inbox.ids())) == len(inbox.ids()) == 666
    finally:
        controller.stop()
