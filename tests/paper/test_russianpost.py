"""Russian Post tracking over SOAP 1.2 (zeep) against the fake on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
from edi_bridge_providers.russianpost import WSDL, RussianPostCarrier, records_from_history
from lxml import etree
from reference import reference_dir

from edi_bridge import Bridge
from edi_bridge.errors import AuthError, ProviderError, ProviderNotFound
from edi_bridge.fakes.server import FakeServer
from edi_bridge.models import ExchangeStatus
from edi_bridge.paper import CarrierContext, ShipmentStatus
from edi_bridge.retry import RetryPolicy

from .conftest import RP_BARCODE, open_bridge, paper_exchange, serve, settings_for

SHARED = reference_dir("russianpost") or Path("reference-data-not-found")
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP12_NS = "http://schemas.xmlsoap.org/wsdl/soap12/"


def _carrier(server: FakeServer, **override: str) -> RussianPostCarrier:
    cfg = {k.split(".", 1)[1]: v for k, v in settings_for(server, "russianpost").items()}
    fast = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
    return RussianPostCarrier(CarrierContext(config={**cfg, **override}, retry=fast))


def test_tracking_reads_the_history_over_soap(rp_server: FakeServer) -> None:
    records = _carrier(rp_server).track(RP_BARCODE)
    assert [r.status for r in records] == [
        ShipmentStatus.ACCEPTED,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.DELIVERED,
    ]
    assert records[-1].description.startswith("Вручение")
    assert records[0].place == "101000 Москва Почтамт"
    assert len({r.record_id for r in records}) == 3


def test_international_s10_barcode_is_tracked_too(rp_server: FakeServer) -> None:
    records = _carrier(rp_server).track("ra123456785ru")
    assert records[-1].status == ShipmentStatus.DELIVERED
    assert records[0].record_id.startswith("RA123456785RU:")


def test_wrong_credentials_give_an_authorization_fault(rp_server: FakeServer) -> None:
    with pytest.raises(AuthError, match="authorization refused") as err:
        _carrier(rp_server, password="wrong-secret").track(RP_BARCODE)
    assert "wrong-secret" not in str(err.value)


def test_unknown_barcode_gives_an_operation_history_fault() -> None:
    # The carrier refuses bad check digits itself; ask the fake directly.
    server = serve("russianpost")
    try:
        carrier = _carrier(server)
        with pytest.raises(ProviderNotFound, match="Unknown barcode"):
            carrier._call("11741865001807")
    finally:
        server.stop()


def test_injected_server_errors_are_retried(rp_server: FakeServer) -> None:
    rp_server.faults.force("503", "500")
    records = _carrier(rp_server).track(RP_BARCODE)
    assert records[-1].status == ShipmentStatus.DELIVERED
    assert rp_server.faults.injected == {"503": 1, "500": 1}


def test_fake_serves_the_wsdl_with_its_own_address(rp_server: FakeServer) -> None:
    import requests

    resp = requests.get(f"{rp_server.url}/rtm34?wsdl", timeout=5)
    tree = etree.fromstring(resp.content)
    address = tree.find(f".//{{{SOAP12_NS}}}address")
    assert address is not None
    assert address.get("location") == f"{rp_server.url}/rtm34"


def _shape(path: Path) -> dict[str, object]:
    tree = etree.parse(str(path)).getroot()
    service = tree.find(f"{{{WSDL_NS}}}service")
    assert service is not None
    port = service.find(f"{{{WSDL_NS}}}port")
    assert port is not None
    binding = tree.find(f"{{{WSDL_NS}}}binding")
    assert binding is not None
    return {
        "target": tree.get("targetNamespace"),
        "service": service.get("name"),
        "port": port.get("name"),
        "binding": binding.get("name"),
        "style": binding.find(f"{{{SOAP12_NS}}}binding").get("style"),  # type: ignore[union-attr]
        "operation": "getOperationHistory"
        in [o.get("name") for o in binding.findall(f"{{{WSDL_NS}}}operation")],
    }


@pytest.mark.skipif(
    not (SHARED / "rtm34.wsdl").is_file(),
    reason="reference WSDL not found",
)
def test_project_wsdl_declares_the_same_service_as_the_real_one() -> None:
    assert _shape(WSDL) == _shape(SHARED / "rtm34.wsdl")


@pytest.mark.skipif(
    not (SHARED / "getOperationHistory-response.xml").is_file(),
    reason="reference sample not found",
)
def test_real_sample_answer_parses_through_the_project_wsdl(rp_server: FakeServer) -> None:
    carrier = _carrier(rp_server)
    envelope = etree.parse(str(SHARED / "getOperationHistory-response.xml")).getroot()
    body = envelope[0][0]
    operation = carrier.service._binding._operations["getOperationHistory"]
    data = operation.output.body.parse(body, carrier.client.wsdl.types)
    records = records_from_history("EA123456789RU", data.OperationHistoryData)
    assert len(records) == 1
    # The sample names type 2 "Прием"; the Id decides, the name is for people.
    assert records[0].status == ShipmentStatus.DELIVERED
    assert records[0].place == "111555 Москва 555"
    # The sample is about EA123456789RU: read for another barcode, it is refused.
    with pytest.raises(ProviderError, match="asked for barcode RA644000001RU"):
        records_from_history("RA644000001RU", data.OperationHistoryData)
    # Barcodes compare without regard to case.
    assert len(records_from_history("ea123456789ru", data.OperationHistoryData)) == 1


def test_poll_moves_a_dispatched_letter_to_delivered_once(tmp_path: Path) -> None:
    server = serve("russianpost")
    try:
        with open_bridge(tmp_path, **settings_for(server, "russianpost")) as bridge:
            exchange = paper_exchange(bridge)
            bridge.paper.dispatch(exchange.id, "russianpost", RP_BARCODE)
            changes = bridge.poll()
            assert [c.kind for c in changes] == ["delivered"]
            after = bridge.status(exchange.id)
            assert after.status == ExchangeStatus.DELIVERED
            history = len(after.history)
            # Polling again, or with forgotten claims of progress, changes nothing twice.
            assert bridge.poll() == []
            assert len(bridge.status(exchange.id).history) == history
            causes = [h.cause for h in after.history]
            assert any(c.startswith("russianpost: Прием") for c in causes)
    finally:
        server.stop()


def test_poll_of_edi_providers_only_leaves_shipments_alone(
    tmp_path: Path, rp_server: FakeServer
) -> None:
    with open_bridge(tmp_path, **settings_for(rp_server, "russianpost")) as bridge:
        exchange = paper_exchange(bridge)
        bridge.paper.dispatch(exchange.id, "russianpost", RP_BARCODE)
        bridge.poll(["mock"])
        assert bridge.status(exchange.id).status == ExchangeStatus.DISPATCHED


def test_bridge_poll_with_paper_exchanges_keeps_working(bridge: Bridge) -> None:
    exchange = paper_exchange(bridge)
    bridge.paper.dispatch(exchange.id, "courier", "A-1")
    bridge.paper.mark(exchange.id, "delivered")
    assert bridge.poll() == []  # no carrier asked, no provider named "courier" looked up


def test_password_never_reaches_the_logs(
    rp_server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    _carrier(rp_server).track(RP_BARCODE)
    assert "password>***<" in caplog.text  # the envelope was logged, masked
    assert "fake-password" not in caplog.text
