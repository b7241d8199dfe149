"""Closing documents: the monthly acts, invoices and УПД a provider owes each client.

* :mod:`.model`: the document, its parties, lines and VAT arithmetic;
* :mod:`.upd`: УПД 5.03 XML, written and read safely;
* :mod:`.delivery`: the monthly run, by each client's channel (EDI, e-mail, paper);
* :mod:`.archive`: fetching signed documents back into an archive folder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .inputs import (
        BatchLine,
        DocumentSpec,
        UpdInput,
        build_document,
        load_upd_input,
        parse_upd_input,
    )
    from .model import (
        Basis,
        ClosingDocument,
        ClosingKind,
        Line,
        LineInput,
        Party,
        Seller,
        UpdFunction,
    )
    from .upd import ReadUpd, UpdFile, build_upd, read_upd

# Names load with their module on first use: the workflow reads closing options on
# every send and should not pay for the models, and the УПД module needs lxml.
_INPUTS = frozenset(
    {"BatchLine", "DocumentSpec", "UpdInput", "build_document", "load_upd_input", "parse_upd_input"}
)
_MODEL = frozenset(
    {
        "Basis",
        "ClosingDocument",
        "ClosingKind",
        "Line",
        "LineInput",
        "Party",
        "Seller",
        "UpdFunction",
    }
)
_UPD = frozenset({"ReadUpd", "UpdFile", "build_upd", "read_upd"})


def __getattr__(name: str) -> Any:
    if name in _INPUTS:
        from . import inputs

        return getattr(inputs, name)
    if name in _MODEL:
        from . import model

        return getattr(model, name)
    if name in _UPD:
        from . import upd

        return getattr(upd, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Basis",
    "BatchLine",
    "ClosingDocument",
    "ClosingKind",
    "DocumentSpec",
    "Line",
    "LineInput",
    "Party",
    "ReadUpd",
    "Seller",
    "UpdFile",
    "UpdFunction",
    "UpdInput",
    "build_document",
    "build_upd",
    "load_upd_input",
    "parse_upd_input",
    "read_upd",
]
