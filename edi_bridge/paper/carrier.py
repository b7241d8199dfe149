"""The carrier interface of the paper route, its registry and the manual courier.

A carrier adapter is smaller than an EDI provider: it checks a tracking
number and reads a shipment's history as :class:`TrackingRecord` objects with
a status from a small closed set (:class:`ShipmentStatus`), keeping the
carrier's own operation name and raw record. Adapters are found through the
entry-point group ``edi_bridge.carriers``; private ones are added with
:meth:`CarrierRegistry.register`.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import UnsupportedFeature
from ..registry import PluginRegistry
from ..retry import RetryPolicy
from .tracking import check_free_form

CARRIERS_GROUP = "edi_bridge.carriers"


class ShipmentStatus(enum.StrEnum):
    """What a carrier says about a shipment, normalized."""

    ACCEPTED = "accepted"
    IN_TRANSIT = "in_transit"
    DELIVERY_FAILED = "delivery_failed"  # an attempt failed; it may still arrive
    DELIVERED = "delivered"
    RETURNED = "returned"  # on its way back, or back, to the sender
    LOST = "lost"
    # The carrier will not carry the order as registered (CDEK INVALID, REMOVED):
    # nothing moves, and someone must correct or re-register it.
    INVALID = "invalid"


@dataclasses.dataclass(frozen=True)
class TrackingRecord:
    """One operation on a shipment; ``record_id`` is unique at the carrier."""

    record_id: str
    status: ShipmentStatus
    at: dt.datetime
    description: str  # the carrier's own name of the operation, for people
    place: str | None = None
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class CarrierContext:
    config: Mapping[str, str]
    retry: RetryPolicy | None = None


class Carrier(abc.ABC):
    """Base of carrier adapters.

    ``tracks`` says whether :meth:`track` asks the carrier; a carrier that
    cannot be asked (a courier) has its status set by hand.
    """

    name: ClassVar[str]
    title: ClassVar[str] = ""
    tracks: ClassVar[bool] = True
    # The keys of its settings section; others are refused naming the closest one.
    # None: not declared, not checked.
    settings_keys: ClassVar[frozenset[str] | None] = None

    def __init__(self, context: CarrierContext) -> None:
        self.context = context

    @abc.abstractmethod
    def check_tracking(self, number: str) -> str:
        """The number in canonical form; raises ValidationError naming the rule."""

    def track(self, tracking: str) -> list[TrackingRecord]:
        """Every operation the carrier knows for the shipment, oldest first."""
        raise UnsupportedFeature(self.name, "tracking")

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the default has none."""


class ManualCourier(Carrier):
    """A courier whose progress is entered by hand (``paper mark``)."""

    name = "courier"
    title = "Courier (status set by hand)"
    tracks = False
    settings_keys: ClassVar[frozenset[str] | None] = frozenset()

    def check_tracking(self, number: str) -> str:
        return check_free_form(number)


class CarrierRegistry(PluginRegistry[Carrier]):
    """Carrier adapters by name: entry points plus private registrations."""

    group = CARRIERS_GROUP
    noun = "carrier"

    def __init__(self, *, use_entry_points: bool = True) -> None:
        super().__init__(Carrier, use_entry_points=use_entry_points)
        self.register(ManualCourier.name, ManualCourier)


default_carriers = CarrierRegistry()

__all__ = [
    "CARRIERS_GROUP",
    "Carrier",
    "CarrierContext",
    "CarrierRegistry",
    "ManualCourier",
    "ShipmentStatus",
    "TrackingRecord",
    "default_carriers",
]
