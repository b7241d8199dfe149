"""Machine-readable powers of attorney (МЧД), FNS format EMCHD_1.

* :func:`read_power_of_attorney` — a safe reader producing a :class:`PowerOfAttorney`,
  or :class:`InvalidPowerOfAttorney` naming the element and the rule;
* :func:`build_power_of_attorney`, :func:`build_redelegation` — synthetic documents
  for tests and fakes (invented people only).

The model imports no XML library; the reader and the builder (lxml) are loaded
only when one of their names is used, so the signature core can take an МЧД
without ``import edi_bridge`` loading lxml.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .model import (
    FORMAT_VERSION,
    NAMESPACE,
    Delegation,
    InvalidPowerOfAttorney,
    Organisation,
    Person,
    Power,
    PowerOfAttorney,
    Powers,
    Principal,
    PrincipalKind,
    Redelegation,
    Representative,
    RepresentativeKind,
    Restriction,
    organisation_of,
)

if TYPE_CHECKING:
    from .reader import MAX_MCHD_BYTES, configured_schema, read_power_of_attorney
    from .synthetic import (
        Original,
        build_power_of_attorney,
        build_redelegation,
        synthetic_organisation,
        synthetic_person,
    )

_LAZY = {
    "MAX_MCHD_BYTES": ".reader",
    "configured_schema": ".reader",
    "read_power_of_attorney": ".reader",
    "Original": ".synthetic",
    "build_power_of_attorney": ".synthetic",
    "build_redelegation": ".synthetic",
    "synthetic_organisation": ".synthetic",
    "synthetic_person": ".synthetic",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FORMAT_VERSION",
    "MAX_MCHD_BYTES",
    "NAMESPACE",
    "Delegation",
    "InvalidPowerOfAttorney",
    "Organisation",
    "Original",
    "Person",
    "Power",
    "PowerOfAttorney",
    "Powers",
    "Principal",
    "PrincipalKind",
    "Redelegation",
    "Representative",
    "RepresentativeKind",
    "Restriction",
    "build_power_of_attorney",
    "build_redelegation",
    "configured_schema",
    "organisation_of",
    "read_power_of_attorney",
    "synthetic_organisation",
    "synthetic_person",
]
