"""What a send says about a closing document beyond its file: whether it is a
formalized УПД, and which function and format version it has.

The workflow derives it from the stored document on every send (also after a
crash, in another process), so nothing extra has to be stored: a formalized
УПД is recognised by ``Document.kind == "upd"``, an ``.xml`` file name and its
own XML (the function read from ``Документ/@Функция``). How an operator names
these on the wire is its adapter's business.
"""

from __future__ import annotations

from ..errors import EdiBridgeError
from ..models import Document, DocumentKind
from ..provider import ContentSource, Formalized

UPD_FORMAT_VERSION = "5.03"
CLOSING_KINDS = frozenset({DocumentKind.ACT, DocumentKind.INVOICE, DocumentKind.UPD})


def formalized(document: Document, content: ContentSource) -> Formalized | None:
    """The УПД's function and format version; None for any other document."""
    if document.kind != DocumentKind.UPD or not document.file_name.endswith(".xml"):
        return None
    # Only a УПД pays for the XML reader (lxml): a plain import stays lean.
    from .upd import read_upd

    try:
        function = read_upd(content.read_all()).document.function.value
    except EdiBridgeError:
        return None
    return Formalized(kind="upd", function=function, format_version=UPD_FORMAT_VERSION)


__all__ = ["CLOSING_KINDS", "UPD_FORMAT_VERSION", "formalized"]
