"""Closing documents: the monthly acts, invoices and УПД a provider owes each client.

* :mod:`.model`: the document, its parties, lines and VAT arithmetic; :mod:`.inputs`: what a
  user writes (batch lines, the seller, a УПД input);
* :mod:`.upd`: УПД 5.03 XML, written; :mod:`.upd_read` reads it back (and 5.01 / 5.02
  from archives, read-only); :mod:`.upd_buyer` reads buyer's titles;
* :mod:`.delivery`: the monthly run, by each client's channel (EDI, e-mail, paper);
* :mod:`.archive`: fetching signed documents back into an archive folder.
"""

from __future__ import annotations

import importlib
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
    from .upd import UpdFile, build_upd
    from .upd_buyer import BuyerTitle, read_buyer_title, read_closing_xml
    from .upd_read import ReadUpd, read_upd

# Names load with their module on first use: the workflow reads closing options on
# every send and should not pay for the models, and the XML modules need lxml.
_HOMES = {
    "BatchLine": "inputs",
    "DocumentSpec": "inputs",
    "UpdInput": "inputs",
    "build_document": "inputs",
    "load_upd_input": "inputs",
    "parse_upd_input": "inputs",
    "Basis": "model",
    "ClosingDocument": "model",
    "ClosingKind": "model",
    "Line": "model",
    "LineInput": "model",
    "Party": "model",
    "Seller": "model",
    "UpdFunction": "model",
    "UpdFile": "upd",
    "build_upd": "upd",
    "BuyerTitle": "upd_buyer",
    "read_buyer_title": "upd_buyer",
    "read_closing_xml": "upd_buyer",
    "ReadUpd": "upd_read",
    "read_upd": "upd_read",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{home}", __name__), name)


__all__ = [
    "Basis",
    "BatchLine",
    "BuyerTitle",
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
    "read_buyer_title",
    "read_closing_xml",
    "read_upd",
]
