"""Parsing untrusted XML: no DTD, no entities, no network, bounded size.

lxml is told not to resolve entities, not to load a DTD and not to touch the
network; on top of that a document that *declares* a DTD at all is refused,
because no document we read (УПД, МЧД, operator XML) needs one and internal entity definitions
("billion laughs") live there.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from .errors import UnsafeInput

MAX_XML_BYTES = 20 * 1024 * 1024
"""Larger than any real УПД (even with thousands of lines) and small enough to parse in memory."""


def parse_untrusted(
    data: bytes, *, limit: int = MAX_XML_BYTES, what: str = "XML"
) -> etree._Element:
    """The root element of ``data``; raises UnsafeInput for anything hostile or malformed."""
    if len(data) > limit:
        raise UnsafeInput(f"{what} is {len(data)} bytes; the limit is {limit}")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        tree = etree.fromstring(data, parser).getroottree()
    except etree.XMLSyntaxError as exc:
        raise UnsafeInput(f"{what} is not well-formed: {exc.msg}") from None
    docinfo: Any = tree.docinfo  # the stubs lack ``doctype``
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnsafeInput(f"{what} declares a DTD; DTDs and entities are refused")
    root = tree.getroot()
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise UnsafeInput(f"{what} uses an entity reference; entities are refused")
    return root


__all__ = ["MAX_XML_BYTES", "parse_untrusted"]
