"""Closing documents: the monthly acts, invoices and УПД a provider owes each client.

* :mod:`.model`: the document, its parties, lines and VAT arithmetic;
* :mod:`.upd`: УПД 5.03 XML, written and read safely;
* :mod:`.delivery`: the monthly run, by each client's channel (EDI, e-mail, paper);
* :mod:`.archive`: fetching signed documents back into an archive folder.
"""

from __future__ import annotations

from .model import (
    Basis,
    BatchLine,
    ClosingDocument,
    ClosingKind,
    DocumentSpec,
    Line,
    LineInput,
    Party,
    Seller,
    UpdFunction,
    UpdInput,
    build_document,
    load_upd_input,
    parse_upd_input,
)
from .upd import ReadUpd, UpdFile, build_upd, read_upd

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
