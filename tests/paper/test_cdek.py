"""CDEK tracking over real HTTP to its fake: OAuth client credentials, statuses."""

from __future__ import annotations

import pytest
from edi_bridge_providers.cdek import (
    IN_TRANSIT_CODES,
    CdekCarrier,
    normalize,
    records_from_order,
)
from edi_bridge_providers.cdek.fake import CdekFake

from edi_bridge.errors import AuthError, ConfigurationError, ProviderError, ProviderNotFound
from edi_bridge.fakes.server import FakeServer
from edi_bridge.paper import CarrierContext, ShipmentStatus
from edi_bridge.retry import RetryPolicy

from .conftest import CDEK_NUMBER, settings_for


def _carrier(server: FakeServer, **override: str) -> CdekCarrier:
    cfg = {k.split(".", 1)[1]: v for k, v in settings_for(server, "cdek").items()}
    fast = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
    return CdekCarrier(CarrierContext(config={**cfg, **override}, retry=fast))


def test_tracking_orders_statuses_by_time_not_by_array(cdek_server: FakeServer) -> None:
    records = _carrier(cdek_server).track(CDEK_NUMBER)
    # The fake lists statuses newest first; records come out oldest first.
    assert [r.status for r in records] == [
        ShipmentStatus.ACCEPTED,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.DELIVERED,
    ]
    assert records[-1].description == "Вручен"
    assert records[-1].place == "Москва"


def test_one_token_serves_many_calls_and_a_revoked_one_is_renewed(
    cdek_server: FakeServer,
) -> None:
    fake = cdek_server.fake
    assert isinstance(fake, CdekFake)
    carrier = _carrier(cdek_server)
    carrier.track(CDEK_NUMBER)
    carrier.track(CDEK_NUMBER)
    assert fake.sign_ins == 1
    fake.expire_credentials()
    assert carrier.track(CDEK_NUMBER)[-1].status == ShipmentStatus.DELIVERED
    assert fake.sign_ins == 2


def test_bad_client_secret_is_an_auth_error_without_the_secret(cdek_server: FakeServer) -> None:
    with pytest.raises(AuthError) as err:
        _carrier(cdek_server, client_secret="s3cr3t-value").track(CDEK_NUMBER)
    assert "s3cr3t-value" not in str(err.value)
    assert "s3cr3t-value" not in repr(_carrier(cdek_server, client_secret="s3cr3t-value"))


def test_missing_credentials_are_named(cdek_server: FakeServer) -> None:
    carrier = CdekCarrier(CarrierContext(config={"url": cdek_server.url}))
    with pytest.raises(ConfigurationError, match="EDI_BRIDGE_CDEK_CLIENT_ID"):
        carrier.track(CDEK_NUMBER)


def test_unknown_order_is_not_found(cdek_server: FakeServer) -> None:
    with pytest.raises(ProviderNotFound, match="not found"):
        _carrier(cdek_server).track("0123456789")


def test_status_codes_are_normalized() -> None:
    assert normalize("DELIVERED") == ShipmentStatus.DELIVERED
    assert normalize("NOT_DELIVERED") == ShipmentStatus.DELIVERY_FAILED
    assert normalize("SENT_TO_SENDER_CITY") == ShipmentStatus.RETURNED
    assert normalize("TAKEN_BY_COURIER") == ShipmentStatus.IN_TRANSIT
    records = records_from_order(
        "1",
        {
            "statuses": [
                {"code": "DELIVERED", "date_time": "2026-11-24T12:00:00+0700", "name": "x"},
                {"code": "ACCEPTED", "date_time": "2026-11-24T10:00:00+0300", "name": "y"},
            ]
        },
    )
    # 12:00 +07:00 is 05:00 UTC, before 10:00 +03:00 (07:00 UTC).
    assert [r.status for r in records] == [ShipmentStatus.DELIVERED, ShipmentStatus.ACCEPTED]


def test_the_public_status_list_is_mapped_and_an_invalid_order_is_not_in_transit() -> None:
    assert normalize("INVALID") == ShipmentStatus.INVALID  # "Некорректный заказ"
    assert normalize("REMOVED") == ShipmentStatus.INVALID
    assert normalize("POSTOMAT_RECEIVED") == ShipmentStatus.DELIVERED
    assert normalize("POSTOMAT_SEIZED") == ShipmentStatus.DELIVERY_FAILED
    assert normalize("ACCEPTED_IN_SENDER_CITY") == ShipmentStatus.RETURNED
    # A re-arrival at the sender's warehouse on the way is not a return to the sender.
    assert normalize("RETURNED_TO_SENDER_CITY_WAREHOUSE") == ShipmentStatus.IN_TRANSIT
    assert {normalize(code) for code in IN_TRANSIT_CODES} == {ShipmentStatus.IN_TRANSIT}
    assert normalize(" created ") == ShipmentStatus.ACCEPTED


def test_an_answer_naming_another_order_is_refused(cdek_server: FakeServer) -> None:
    fake = cdek_server.fake
    assert isinstance(fake, CdekFake)
    fake.answer_number = "1234567891"
    with pytest.raises(ProviderError, match="answer is about order 1234567891"):
        _carrier(cdek_server).track(CDEK_NUMBER)
