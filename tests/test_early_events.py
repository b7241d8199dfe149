"""An operator may report on a document before our record of its send commits
(another worker polled in between). Those events wait and are applied then."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from edi_bridge_providers.mock import MockProvider

from edi_bridge import Bridge, Registry, SendRequest, SendResult
from edi_bridge.store import schema
from edi_bridge.testing import sample_contract, sample_counterparty


class PolledMeanwhile(MockProvider):
    """Sends, then lets another worker poll before the sender records the send."""

    name = "polled-meanwhile"
    other: ClassVar[Bridge | None] = None

    def send(self, request: SendRequest) -> SendResult:
        result = super().send(request)
        assert self.other is not None
        for _ in range(3):  # the client signs; the other worker applies what it can
            self.other.poll([self.name])
        return result


def _registry() -> Registry:
    registry = Registry()
    registry.register(PolledMeanwhile.name, PolledMeanwhile)
    return registry


def test_events_before_the_send_is_recorded_are_applied_when_it_is(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    with (
        Bridge.open(db, registry=_registry()) as sender,
        Bridge.open(db, registry=_registry()) as other,
    ):
        PolledMeanwhile.other = other
        exchange = sender.send(
            sample_counterparty("early"), sample_contract(), provider=PolledMeanwhile.name
        )
        # The signature arrived while the send was still unrecorded: not lost.
        assert exchange.status == "signed"
        assert [h.status for h in exchange.history] == ["queued", "sent", "delivered", "signed"]
        assert {s.role for s in exchange.signatures} == {"ours", "counterparty"}
        with sender.store.engine.connect() as conn:
            waiting = conn.execute(schema.early_events.select()).all()
        assert waiting == []
        # Reading the feed again changes nothing.
        other.poll([PolledMeanwhile.name])
        assert len(sender.status(exchange.id).history) == 4
