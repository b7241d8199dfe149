"""How the carrier fakes play a shipment, the same for every carrier.

=========================  ==================================================
``delivered`` (default)    accepted, in transit and delivered by the 1st query
``delivered-after:N``      accepted and in transit; delivered at the N-th query
``returned``               a failed delivery attempt, then returned to sender
``lost``                   accepted, in transit, then lost
=========================  ==================================================

Queries are counted per tracking number. ``sign`` (the default of the EDI
fakes' shared option) means ``delivered``.
"""

from __future__ import annotations

import dataclasses

from ..errors import ValidationError
from .carrier import ShipmentStatus

SHIPMENT_SCENARIO_HELP = "delivered, delivered-after:N, returned or lost"
_SS = ShipmentStatus


@dataclasses.dataclass(frozen=True)
class ShipmentScenario:
    name: str
    after: int = 1

    def __str__(self) -> str:
        return f"{self.name}:{self.after}" if self.name == "delivered-after" else self.name

    def visible(self, query: int) -> list[ShipmentStatus]:
        """The shipment's operations the carrier shows at its ``query``-th query."""
        if query < 1:
            return []
        steps = [_SS.ACCEPTED, _SS.IN_TRANSIT]
        if self.name == "returned":
            return [*steps, _SS.DELIVERY_FAILED, _SS.RETURNED]
        if self.name == "lost":
            return [*steps, _SS.LOST]
        if query >= self.after:
            steps.append(_SS.DELIVERED)
        return steps


def parse_shipment_scenario(text: str | None) -> ShipmentScenario:
    value = (text or "delivered").strip()
    if value in ("delivered", "sign"):
        return ShipmentScenario("delivered")
    if value in ("returned", "lost"):
        return ShipmentScenario(value)
    name, _, arg = value.partition(":")
    if name == "delivered-after":
        if not arg.isdigit() or int(arg) < 1:
            raise ValidationError("scenario", "delivered-after needs a whole number: N >= 1")
        return ShipmentScenario(name, int(arg))
    raise ValidationError(
        "scenario", f"unknown shipment scenario {value!r}; expected {SHIPMENT_SCENARIO_HELP}"
    )


__all__ = ["SHIPMENT_SCENARIO_HELP", "ShipmentScenario", "parse_shipment_scenario"]
