"""The carrier contract (edi_bridge.testing.carriers) for every tracking carrier, over HTTP."""

from __future__ import annotations

from edi_bridge.testing.carriers import CarrierContract


class TestRussianPostCarrier(CarrierContract):
    carrier = "russianpost"
    number = "11741865001806"  # domestic barcode, check digit 6
    other_number = "11741865001813"  # another valid domestic barcode
    bad_numbers = ("11741865001807", "RA123456780RU", "1174186500180", "parcel")
    reports_lost = True


class TestCdekCarrier(CarrierContract):
    carrier = "cdek"
    number = "1234567890"
    other_number = "1234567891"
    invalid_number = "1234567899"  # named to the fake in its "invalid" option
    bad_numbers = ("12345", "123456789012345678901", "CDEK-1234567")
    reports_lost = False  # CDEK documents no "lost" status: such an order stops at NOT_DELIVERED
