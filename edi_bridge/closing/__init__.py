"""Closing documents: the monthly acts, invoices and УПД a provider owes each client.

* :mod:`.model`: the document, its parties, lines and VAT arithmetic;
* :mod:`.upd`: УПД 5.03 XML, written and read safely;
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
    from .upd import ReadUpd, UpdFile, build_upd, read_upd

# The УПД module needs lxml: it is loaded when one of its names is first used, so
# that the core (which reads closing options on every send) stays lean.
_UPD_NAMES = frozenset({"ReadUpd", "UpdFile", "build_upd", "read_upd"})


def __getattr__(name: str) -> Any:
    if name in _UPD_NAMES:
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
