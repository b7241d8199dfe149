"""The human text in a counterparty's answer: the reason of a rejection or a revocation
request (FNS XML, read with the safe parser, or plain text), and a UniversalMessage's code."""

from __future__ import annotations

from typing import Any

from lxml import etree

from edi_bridge.errors import UnsafeInput
from edi_bridge.safexml import parse_untrusted

# Elements that carry the human text in the FNS formats (rejection, revocation).
REASON_ELEMENTS = ("ТекстУведУточ", "ТекстПредАн", "ТекстПредАнн", "Текст", "Comment", "Reason")
_MAX_XML = 5 * 1024 * 1024


def _xml_root(data: bytes) -> Any:
    if len(data) > _MAX_XML or not data.lstrip().startswith(b"<"):
        return None
    try:
        return parse_untrusted(data, limit=_MAX_XML, what="reason XML")
    except UnsafeInput:
        return None  # not the FNS XML: the caller takes the text as it is


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def reason_text(data: bytes | None) -> str | None:
    """The reason a counterparty gave: from the FNS XML, or the plain text itself."""
    if not data:
        return None
    root = _xml_root(data)
    if root is None:
        if data.lstrip().startswith(b"<"):
            return None  # XML the safe parser refused (a DTD, entities): nothing is taken
        text = data.decode("utf-8", "replace").strip()
        return text or None
    for name in REASON_ELEMENTS:
        for element in root.iter():
            if _local(element.tag) == name and (element.text or "").strip():
                return " ".join(str(element.text).split())
            value = element.attrib.get(name) if _local(element.tag) else None
            if value and value.strip():
                return " ".join(value.split())
    return None


def universal_code(data: bytes | None) -> str | None:
    """The message code of a UniversalMessage (*unconfirmed* layout: any
    element or attribute whose name contains ``Код`` or ``Code`` holding 1999/2999/3999)."""
    root = _xml_root(data) if data else None
    if root is None:
        return None
    for element in root.iter():
        name = _local(element.tag)
        candidates = [(name, element.text or ""), *element.attrib.items()]
        for key, value in candidates:
            text = str(value).strip()
            if ("Код" in str(key) or "Code" in str(key)) and text in ("1999", "2999", "3999"):
                return text
    return None


__all__ = ["REASON_ELEMENTS", "reason_text", "universal_code"]
