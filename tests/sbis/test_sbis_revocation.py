"""Annulment (аннулирование) through the SBIS fake over HTTP: both ways, as SBIS does it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from edi_bridge_providers.sbis.fake import SbisFake
from edi_bridge_providers.sbis.fake.cms import digest_matches
from edi_bridge_providers.sbis.fake.world import Attachment
from edi_bridge_providers.sbis.feed import classify
from edi_bridge_providers.sbis.revocation import ACTION_ANNUL, STAGE_ANNUL

from edi_bridge import Bridge, Exchange, ExchangeStatus
from edi_bridge.errors import ConfigurationError, RejectedRequest
from edi_bridge.provider import ProviderEventKind, RevocationRequest
from edi_bridge.signing import parse_signature
from edi_bridge.testing import sample_contract

from .conftest import SbisWorld
from .helpers import party, rpc, session

S = ExchangeStatus


def poll_until(bridge: Bridge, exchange_id: str, status: str, rounds: int = 6) -> Exchange:
    for _ in range(rounds):
        bridge.poll(["sbis"])
        found = bridge.status(exchange_id)
        if found.status == status:
            return found
    raise AssertionError(f"{exchange_id} stayed {bridge.status(exchange_id).status}")


def signed(bridge: Bridge, fake: SbisFake, scenario: str, key: str) -> Exchange:
    cp = party(scenario, fake, seed=f"sbis-rv-{key}")
    sent = bridge.send(cp, sample_contract(f"RV-{key}"), idempotency_key=key, provider="sbis")
    return poll_until(bridge, sent.id, S.SIGNED)


def agreements(fake: SbisFake, exchange: Exchange) -> list[Attachment]:
    doc = fake.world.documents[exchange.provider_ref["document_id"]]
    return [a for a in doc.attachments if a.name.startswith("Соглашение_об_аннулировании")]


def stored(bridge: Bridge, exchange_id: str, role: str) -> bytes:
    record = next(s for s in bridge.status(exchange_id).signatures if s.role == role)
    with bridge.store.open_blob(record.sha256) as fh:
        return fh.read()


def test_annulment_event_names_are_read_as_sbis_writes_them() -> None:
    assert classify("Получение соглашения об аннулировании") is (
        ProviderEventKind.REVOCATION_REQUESTED
    )
    assert classify("Отправка соглашения об аннулировании") is None  # our own step
    assert classify("Отклонение соглашения об аннулировании") is (
        ProviderEventKind.REVOCATION_REJECTED
    )
    assert classify("Аннулирование") is ProviderEventKind.REVOKED


def test_we_annul_and_the_counterparty_accepts(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    exchange = signed(bridge, fake, "sign", "we-ask")
    asked = bridge.revoke(exchange.id, reason="Договор подписан по ошибке")
    assert asked.status == S.REVOCATION_REQUESTED
    (ours,) = agreements(fake, exchange)
    # Our signature over the agreement SBIS prepared, and the reason as the comment.
    assert digest_matches(ours.signatures[0].data, ours.data)
    assert 'Причина="Договор подписан по ошибке"' in ours.data.decode()
    bridge.revoke(exchange.id, reason="Договор подписан по ошибке")  # asked already
    assert len(agreements(fake, exchange)) == 1
    done = poll_until(bridge, exchange.id, S.REVOKED)
    assert done.status == S.REVOKED
    assert fake.world.documents[exchange.provider_ref["document_id"]].state == (
        "revocation_accepted"
    )


def test_we_annul_and_the_counterparty_refuses_with_its_reason(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    exchange = signed(bridge, fake, "reject-revocation:Сумма верна", "they-refuse")
    bridge.revoke(exchange.id, reason="Ошибка в сумме")
    refused = poll_until(bridge, exchange.id, S.REVOCATION_REJECTED)
    assert refused.reason == "Сумма верна"
    # Still in force: SBIS offers the annulment again, and we may ask again.
    again = bridge.revoke(exchange.id, reason="Всё же ошибка")
    assert again.status == S.REVOCATION_REQUESTED
    assert len(agreements(fake, exchange)) == 2


def test_the_counterparty_asks_and_we_accept_signing_its_agreement(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    exchange = signed(bridge, fake, "revoke", "they-ask")
    asked = poll_until(bridge, exchange.id, S.REVOCATION_REQUESTED)
    assert asked.revocation is not None
    assert asked.revocation["requested_by"] == "counterparty"
    assert asked.reason == "the counterparty revoked its signature"
    # Its signed agreement is kept with the exchange, the signature over it.
    content = stored(bridge, exchange.id, "revocation_request")
    signature = stored(bridge, exchange.id, "revocation_request_signature")
    assert content.startswith(b"<?xml")
    assert digest_matches(signature, content)
    assert parse_signature(signature).certificates
    done = bridge.accept_revocation(exchange.id)
    assert done.status == S.REVOKED
    (theirs,) = agreements(fake, exchange)
    assert [s.inn for s in theirs.signatures] == [exchange.counterparty.inn, fake.world.our_inn]
    assert bridge.accept_revocation(exchange.id).history == done.history  # once
    bridge.poll(["sbis"])
    assert bridge.status(exchange.id).status == S.REVOKED


def test_we_refuse_the_counterparty_request_and_it_stays_in_force(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    exchange = signed(bridge, fake, "revoke", "we-refuse")
    poll_until(bridge, exchange.id, S.REVOCATION_REQUESTED)
    done = bridge.reject_revocation(exchange.id, reason="Услуги оказаны")
    assert done.status == S.REVOCATION_REJECTED
    doc = fake.world.documents[exchange.provider_ref["document_id"]]
    assert doc.state == "revocation_rejected"
    assert doc.annulment is None
    (theirs,) = agreements(fake, exchange)
    assert [s.inn for s in theirs.signatures] == [exchange.counterparty.inn]  # not ours
    bridge.poll(["sbis"])
    assert bridge.status(exchange.id).status == S.REVOCATION_REJECTED


def test_sbis_refuses_an_annulment_without_its_reason_and_stores_nothing(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    exchange = signed(bridge, fake, "sign", "no-reason")
    doc_id = exchange.provider_ref["document_id"]
    action = {"Название": ACTION_ANNUL, "Сертификат": {"Отпечаток": "AB"}}  # no Комментарий
    stage = {"Название": STAGE_ANNUL, "Действие": action}
    params = {"Документ": {"Идентификатор": doc_id, "Этап": stage}}
    answer = rpc(server, "СБИС.ПодготовитьДействие", params, session(server, fake)).json()
    assert "Комментарий" in answer["error"]["details"]
    assert agreements(fake, exchange) == []


def test_annulling_what_sbis_does_not_offer_is_refused_naming_the_state(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    cp = party("silent", fake, seed="sbis-rv-silent")
    sent = bridge.send(cp, sample_contract("RV-silent"), idempotency_key="silent", provider="sbis")
    adapter = bridge.provider("sbis")
    request = RevocationRequest(
        exchange_id=sent.id,
        ref=sent.provider_ref,
        document_id=sent.provider_ref["document_id"],
        operation_key="k",
        signer=bridge.signer,
        reason="нет",
    )
    with pytest.raises(RejectedRequest, match=r"Аннулирование/Аннулировать .*'Отправлен'"):
        adapter.request_revocation(request)
    assert agreements(fake, sent) == []


def test_an_annulment_signed_under_our_mchd_is_refused_before_any_call(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    exchange = signed(bridge, fake, "sign", "mchd")
    fake.rpc_log.clear()
    request = RevocationRequest(
        exchange_id=exchange.id,
        ref=exchange.provider_ref,
        document_id=exchange.provider_ref["document_id"],
        operation_key="k",
        signer=bridge.signer,
        reason="нет",
        power_of_attorney=object(),  # type: ignore[arg-type]  # any МЧД: SBIS cannot carry one
    )
    with pytest.raises(ConfigurationError, match=r"signing\.power_of_attorney"):
        bridge.provider("sbis").request_revocation(request)
    assert fake.rpc_log == []
    assert agreements(fake, exchange) == []
