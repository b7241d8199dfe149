"""The paper route: carriers, tracking numbers, the paper lifecycle
(:class:`PaperDesk`, reached as ``bridge.paper``) and the print pack. The routing
policy lives in :mod:`edi_bridge.routing` and is re-exported here."""

from ..routing import PAPER, RouteDecision, RoutingPolicy
from .carrier import (
    CARRIERS_GROUP,
    Carrier,
    CarrierContext,
    CarrierRegistry,
    ManualCourier,
    ShipmentStatus,
    TrackingRecord,
    default_carriers,
)
from .desk import MANUAL_STATUSES, PaperDesk
from .tracking import (
    check_cdek,
    check_free_form,
    check_russian_post,
    domestic_check_digit,
    russian_post_rule,
    s10_check_digit,
)

__all__ = [
    "CARRIERS_GROUP",
    "MANUAL_STATUSES",
    "PAPER",
    "Carrier",
    "CarrierContext",
    "CarrierRegistry",
    "ManualCourier",
    "PaperDesk",
    "RouteDecision",
    "RoutingPolicy",
    "ShipmentStatus",
    "TrackingRecord",
    "check_cdek",
    "check_free_form",
    "check_russian_post",
    "default_carriers",
    "domestic_check_digit",
    "russian_post_rule",
    "s10_check_digit",
]
