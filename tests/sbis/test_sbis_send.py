"""Sending to SBIS: three calls, idempotent by Идентификатор, refused input stays home."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from edi_bridge_providers.sbis import SbisProvider
from edi_bridge_providers.sbis.wire import document_uuid

from edi_bridge import Bridge, Document, DocumentKind, ExchangeStatus
from edi_bridge.errors import ValidationError
from edi_bridge.fakes.server import FakeServer, Faults
from edi_bridge.signing import throwaway_signer
from edi_bridge.testing import sample_contract, sample_counterparty
from edi_bridge.testing.contract import ContractEnv, poll_until
from edi_bridge.testing.samples import sample_pdf

from .conftest import SbisWorld
from .helpers import LoseAnswer, party

SEND_CALLS = [
    "СБИС.ПрочитатьДокумент",
    "СБИС.ЗаписатьДокумент",
    "СБИС.ПодготовитьДействие",
    "СБИС.ВыполнитьДействие",
]


def test_send_writes_prepares_and_executes_with_the_derived_identifier(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    exchange = bridge.send(
        party("sign", fake), sample_contract("C-1"), idempotency_key="k-1", provider="sbis"
    )
    assert exchange.status == ExchangeStatus.SENT
    assert exchange.provider_ref["document_id"] == document_uuid("k-1")
    assert [c for c in fake.rpc_log if c != "СБИС.Аутентифицировать"] == SEND_CALLS
    doc = fake.world.documents[document_uuid("k-1")]
    assert doc.type == "ДоговорИсх"
    assert doc.number == "C-1"
    assert doc.date == "24.11.2026"
    assert doc.ours["СвЮЛ"]["ИНН"] == fake.options["our_inn"]
    assert doc.party["СвЮЛ"]["ИНН"] == exchange.counterparty.inn
    ours = doc.attachments[0].signatures[0].data
    assert hashlib.sha256(ours).hexdigest() == exchange.signatures[0].sha256
    with bridge.content(exchange.id) as fh:
        assert doc.attachments[0].data == fh.read()


@pytest.mark.parametrize("method", ["СБИС.ЗаписатьДокумент", "СБИС.ВыполнитьДействие"])
def test_retried_send_after_a_lost_answer_makes_one_document(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge], method: str
) -> None:
    fake, _ = sbis
    lossy = FakeServer(LoseAnswer(fake, method)).start()  # type: ignore[arg-type]
    try:
        bridge = open_bridge(lossy)
        exchange = bridge.send(
            party("sign", fake), sample_contract("C-lost"), idempotency_key="lost", provider="sbis"
        )
        assert exchange.status == ExchangeStatus.SENT
        assert fake.documents_numbered("C-lost") == 1
        assert fake.world.documents[document_uuid("lost")].sent
        done = poll_until(_env(bridge), exchange.id, ExchangeStatus.SIGNED)
        assert done.status == ExchangeStatus.SIGNED
    finally:
        lossy.stop()


def test_server_errors_on_every_step_still_make_one_signed_document(
    start_fake: Callable[..., SbisWorld], open_bridge: Callable[..., Bridge]
) -> None:
    faults = Faults(seed=3)
    fake, server = start_fake(faults=faults)
    bridge = open_bridge(server)
    faults.force("500", "503", "500")  # sign-in, read and write each fail once
    exchange = bridge.send(
        party("sign", fake), sample_contract("C-500"), idempotency_key="k-500", provider="sbis"
    )
    assert faults.injected == {"500": 2, "503": 1}
    assert exchange.status == ExchangeStatus.SENT
    assert fake.documents_numbered("C-500") == 1


def test_interrupted_send_is_reconciled_not_repeated(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    cp = party("sign", fake)
    first = bridge.send(cp, sample_contract("C-again"), idempotency_key="again", provider="sbis")
    # As if the process died after SBIS took the document but before we recorded it.
    with bridge.store.transaction() as conn:
        bridge.store.update_exchange(conn, first.id, status=ExchangeStatus.QUEUED)
    fake.rpc_log.clear()
    again = bridge.dispatch(first.id)
    assert again.status == ExchangeStatus.SENT
    assert "СБИС.ЗаписатьДокумент" not in fake.rpc_log
    assert fake.documents_numbered("C-again") == 1


def test_flaky_counterparty_write_is_retried_into_one_document(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    exchange = bridge.send(
        party("flaky:2", fake), sample_contract("C-fl"), idempotency_key="fl", provider="sbis"
    )
    assert exchange.status == ExchangeStatus.SENT
    assert fake.world.write_attempts[document_uuid("fl")] == 3
    assert fake.documents_numbered("C-fl") == 1


def test_extra_files_to_sign_are_signed_with_the_configured_signer(
    start_fake: Callable[..., SbisWorld], open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = start_fake(sign_extra="1")
    signer = throwaway_signer()
    bridge = open_bridge(server, signer=signer)
    exchange = bridge.send(
        party("sign", fake), sample_contract("C-x"), idempotency_key="x", provider="sbis"
    )
    assert exchange.status == ExchangeStatus.SENT
    doc = fake.world.documents[document_uuid("x")]
    cover = next(a for a in doc.attachments if a.name == "Сопроводительное.xml")
    assert len(cover.signatures) == 1  # the fake checked its digest against the file


def test_extra_files_are_signed_with_the_bridges_fallback_signer_too(
    start_fake: Callable[..., SbisWorld], open_bridge: Callable[..., Bridge]
) -> None:
    # No signer configured: the Bridge signs with its throwaway one, and its adapters get
    # that same signer, so the file SBIS also asks to sign is signed (it used not to be).
    fake, server = start_fake(sign_extra="1")
    bridge = open_bridge(server)
    exchange = bridge.send(
        party("sign", fake), sample_contract("C-y"), idempotency_key="y", provider="sbis"
    )
    assert exchange.status == ExchangeStatus.SENT
    doc = fake.world.documents[document_uuid("y")]
    cover = next(a for a in doc.attachments if a.name == "Сопроводительное.xml")
    assert len(cover.signatures) == 1


def test_kind_without_sbis_type_is_refused_before_anything_is_stored(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    act = Document.from_bytes(
        sample_pdf("Act"), kind=DocumentKind.ACT, number="A-1", date="2026-11-30", file_name="a.pdf"
    )
    with pytest.raises(ValidationError) as info:
        bridge.send(party("sign", fake), act, idempotency_key="act", provider="sbis")
    assert info.value.field == "document.kind"
    assert "sbis.doc_type_act" in info.value.rule
    assert bridge.list() == []
    assert fake.world.documents == {}


def test_kind_mapped_by_configuration_is_sent_with_that_type(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server, settings={"doc_type_act": "АктВыпИсх"})
    act = Document.from_bytes(
        sample_pdf("Act"), kind=DocumentKind.ACT, number="A-2", date="2026-11-30", file_name="a.pdf"
    )
    bridge.send(party("sign", fake), act, idempotency_key="act2", provider="sbis")
    assert fake.world.documents[document_uuid("act2")].type == "АктВыпИсх"


def test_sole_proprietor_goes_as_svfl(sbis: SbisWorld, open_bridge: Callable[..., Bridge]) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    cp = sample_counterparty(
        "ip", inn="500100732259", kpp=None, ogrn="304500116000157", name="ИП Петров Пётр Петрович"
    )
    fake.add_counterparty(cp, "sign")
    bridge.send(cp, sample_contract("C-ip"), idempotency_key="ip", provider="sbis")
    person = fake.world.documents[document_uuid("ip")].party["СвФЛ"]
    assert person["ИНН"] == "500100732259"
    assert person["Фамилия"] == "Иванова"  # the signatory of the sample requisites


def test_routes_report_operator_participant_and_roaming(
    sbis: SbisWorld, open_bridge: Callable[..., Bridge]
) -> None:
    fake, server = sbis
    bridge = open_bridge(server)
    provider = bridge.provider("sbis")
    assert isinstance(provider, SbisProvider)
    home, roaming, absent = (sample_counterparty(s) for s in ("r-home", "r-roam", "r-none"))
    fake.add_counterparty(roaming, operator="2BM")
    fake.add_counterparty(absent, reachable=False)
    [route] = provider.routes(home)
    assert route.operator_id == "2BE"
    assert route.participant_id.startswith("2BE")
    assert not route.roaming
    [far] = provider.routes(roaming)
    assert far.operator_id == "2BM"
    assert far.roaming
    assert provider.can_receive(home)
    assert not provider.can_receive(absent)


def _env(bridge: Bridge) -> ContractEnv:
    return ContractEnv(
        bridge=bridge,
        provider="sbis",
        counterparty=lambda _s: sample_counterparty(),
        documents_at_provider=lambda _k: 0,
    )
