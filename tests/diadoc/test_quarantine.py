"""A Diadoc box event that cannot be read (its signature's content is gone at the
operator) between two good ones: the good ones are applied over real HTTP, the bad
one is held with its body, the cursor moves past it, and it is re-applied once the
content is there again."""

from __future__ import annotations

from edi_bridge_providers.diadoc.fake import DiadocFake

from edi_bridge import Bridge, Event
from edi_bridge.fakes.scenario import Play
from edi_bridge.testing import sample_contract, sample_counterparty


def test_an_unreadable_box_event_is_held_and_its_neighbours_applied(
    fake: DiadocFake, bridge: Bridge
) -> None:
    told: list[Event] = []
    bridge.on("event_quarantined", told.append)
    sent = []
    for name in ("qa", "qb", "qc"):
        counterparty = sample_counterparty(name)
        fake.add_counterparty(counterparty, "silent")
        sent.append(bridge.send(counterparty, sample_contract(f"QD-{name}"), provider="diadoc"))
    bridge.poll(["diadoc"])
    world = fake.world
    docs = {d.message_id: d for d in world.documents.values()}
    a, b, c = (docs[e.provider_ref["message_id"]] for e in sent)

    world.play(a, Play.SIGNED, None)
    # The counterparty's signature under b, too large to come inline, whose content
    # the operator then cannot find (404 EntityNotFound).
    signature = world.signer(b.recipient).sign(b.content)
    entity = world.entity(
        b.message_id,
        entity_type="Signature",
        content=signature,
        parent=b.entity_id,
        signer_box=b.to_box,
    )
    entity["Content"].pop("Data")
    lost = world.contents.pop((b.message_id, entity["EntityId"]))
    world.add_patch(b.message_id, [entity])
    world.play(c, Play.SIGNED, None)

    bridge.poll(["diadoc"])
    statuses = [bridge.status(e.id).status for e in sent]
    assert statuses == ["signed", "sent", "signed"]
    [held] = bridge.quarantined()
    assert held.provider == "diadoc"
    assert "ProviderNotFound" in held.reason
    assert held.body["raw"]["Patch"]["MessageId"] == b.message_id
    assert [e.data["quarantine_id"] for e in told] == [held.id]
    bridge.poll(["diadoc"])  # past the cursor: not read or held again
    assert len(bridge.quarantined()) == 1
    assert len(told) == 1

    world.contents[(b.message_id, entity["EntityId"])] = lost  # the operator found it
    done = bridge.reapply(held.id, by="ops")
    assert done.status == "reapplied"
    signed = bridge.status(sent[1].id)
    assert signed.status == "signed"
    [kept] = [s for s in signed.signatures if s.role == "counterparty"]
    assert kept.size == len(lost)
    seq = bridge.last_event_seq()
    assert bridge.reapply(held.id).status == "reapplied"
    assert bridge.last_event_seq() == seq
