"""Contracts from templates: DOCX with merge fields, PDF through LibreOffice.

``render_contract(template, counterparty, number=..., date=..., out=...)`` merges the
counterparty's requisites and the call's number, date and price into a DOCX template;
the signatory's name and position come declined for "в лице …" wording. See
``docs/contracts.md``. docxtpl, pytrovich and pymorphy3 (the ``intake`` extra) are
imported on first use. Versions of a draft (agreed, compared, carried by an
exchange) are kept by :class:`Drafts`.
"""

from .declension import genitive_name, genitive_position, nominative_signatory
from .render import Rendered, contract_fields, find_converter, render_contract, render_docx
from .versions import Drafts, FieldChange, Version

__all__ = [
    "Drafts",
    "FieldChange",
    "Rendered",
    "Version",
    "contract_fields",
    "find_converter",
    "genitive_name",
    "genitive_position",
    "nominative_signatory",
    "render_contract",
    "render_docx",
]
