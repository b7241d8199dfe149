"""What an EDI adapter needs to know about a closing document, as ``SendRequest.options``.

The Bridge fills the options from the stored document on every send (also
after a crash, in another process), so nothing extra has to be stored: a
formalized УПД is recognised by ``Document.kind == "upd"`` and its own XML
(function read from ``Документ/@Функция``). Keys (all strings):

========================== ==================================================
``document_type``          ``upd``, ``act`` or ``invoice``
``formalized``             ``true`` for УПД XML, ``false`` for files (PDF …)
``type_named_id``          Diadoc ``TypeNamedId``: ``UniversalTransferDocument``
                           for a УПД, ``Nonformalized`` otherwise
``function``               УПД function: ``СЧФДОП`` or ``ДОП`` (УПД only)
``version``                Diadoc document version ``utd970_05_03_01`` (УПД only)
``format_version``         ``5.03`` (УПД only)
``need_recipient_signature`` ``true``: the buyer's title / signature is requested
========================== ==================================================
"""

from __future__ import annotations

from ..errors import EdiBridgeError
from ..models import Document, DocumentKind
from ..provider import ContentSource

UPD_TYPE_NAMED_ID = "UniversalTransferDocument"
UPD_VERSION = "utd970_05_03_01"
NONFORMALIZED = "Nonformalized"
CLOSING_KINDS = frozenset({DocumentKind.ACT, DocumentKind.INVOICE, DocumentKind.UPD})


def send_options(document: Document, content: ContentSource) -> dict[str, str]:
    """Options for a closing document; ``{}`` for other kinds (contracts keep their own)."""
    if document.kind not in CLOSING_KINDS:
        return {}
    options = {
        "document_type": str(document.kind),
        "need_recipient_signature": "true",
    }
    if document.kind == DocumentKind.UPD and document.file_name.endswith(".xml"):
        from .upd import read_upd

        try:
            function = read_upd(content.read_all()).document.function.value
        except EdiBridgeError:
            function = None
        if function is not None:
            return options | {
                "formalized": "true",
                "type_named_id": UPD_TYPE_NAMED_ID,
                "function": function,
                "version": UPD_VERSION,
                "format_version": "5.03",
            }
    return options | {"formalized": "false", "type_named_id": NONFORMALIZED}


__all__ = ["UPD_TYPE_NAMED_ID", "UPD_VERSION", "send_options"]
