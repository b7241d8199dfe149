"""Closing documents: the monthly acts, invoices and УПД a provider owes each client.

* :mod:`.model`: the document, its parties, lines and VAT arithmetic;
* :mod:`.upd`: УПД 5.03 XML, written; :mod:`.upd_read` reads it back (and 5.01 / 5.02
  from archives, read-only); :mod:`.upd_buyer` reads buyer's titles;
* :mod:`.delivery`: the monthly run, by each client's channel (EDI, e-mail, paper);
* :mod:`.archive`: fetching signed documents back into an archive folder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .inputs import (
    BatchLine,
    DocumentSpec,
    UpdInput,
    build_document,
    load_upd_input,
    parse_upd_input,
)
from .model import Basis, ClosingDocument, ClosingKind, Line, LineInput, Party, Seller, UpdFunction

if TYPE_CHECKING:
    from .upd import UpdFile, build_upd
    from .upd_buyer import BuyerTitle, read_buyer_title, read_closing_xml
    from .upd_read import ReadUpd, read_upd

# The XML modules load lxml; they are imported when first used, so that importing
# the package (which the Bridge does for its send options) does not load it.
_XML_NAMES = {
    "UpdFile": "upd",
    "build_upd": "upd",
    "BuyerTitle": "upd_buyer",
    "read_buyer_title": "upd_buyer",
    "read_closing_xml": "upd_buyer",
    "ReadUpd": "upd_read",
    "read_upd": "upd_read",
}


def __getattr__(name: str) -> Any:
    module = _XML_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{module}", __name__), name)


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
