"""The store's length and character rules, enforced in one place before a write.

PostgreSQL refuses a string longer than its column and any NUL byte (SQLite
accepts both), so values are fitted here and both backends keep the same thing:
our derived names are shortened keeping their extension and a short hash (they
stay unique), operators' text loses control characters and is cut with a
marker, operators' over-long ids become a stable hash-derived id, and an operator's
cursor that a backend cannot keep as it is is stored in a reversible encoding.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

NAME_LIMIT = 255
"""``edi_signatures.file_name`` and the other file-name columns."""
EVENT_ID_LIMIT = 256
"""Provider ids: ``edi_applied_events.event_id``, ``edi_early_events.event_id``/``document_id``."""
EVENT_KEY_LIMIT = 300
"""``edi_events.key`` and ``closing_deliveries.key``."""
DOCUMENT_ID_LIMIT = 256
"""``edi_exchanges.provider_document_id``: the operator's id of what we sent."""
PROVIDER_LIMIT = 64
"""``provider`` columns (adapter and carrier names)."""
CLOSING_NUMBER_LIMIT = 100
"""``closing_deliveries.number``."""
TEXT_LIMIT = 4000
"""Operators' free text kept in ``Text`` columns (reasons, errors)."""
CUT_MARKER = "…[cut]"
CURSOR_ENCODED = "edi-bridge:base64:"
"""Prefix of an ``edi_cursors.value`` stored encoded (see :func:`stored_cursor`)."""

# C0 controls (NUL among them), DEL and C1 controls; tab and newline are text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_HASHED_PREFIX = "sha256:"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def has_control(value: str) -> bool:
    """Whether ``value`` holds a character the store refuses or cleans (NUL among them)."""
    return bool(_CONTROL.search(value))


def fit_id(value: str, limit: int = EVENT_ID_LIMIT) -> str:
    """An id that fits ``limit``: unchanged when it fits and is clean, else a stable hash.

    Applying it twice gives the same id, so a lookup fits the id the same way.
    """
    # isprintable() clears most ids at once (a control character is never printable);
    # an id with another unprintable character (a no-break space) goes to the pattern.
    if len(value) <= limit and (value.isprintable() or not _CONTROL.search(value)):
        return value
    return (_HASHED_PREFIX + _digest(value))[:limit]


def fit_name(name: str, limit: int = NAME_LIMIT) -> str:
    """A derived file name that fits ``limit``, keeping its extension(s) and a short hash."""
    if len(name) <= limit:
        return name
    _, dot, rest = name.partition(".")
    suffix = ""
    if dot:
        # The longest trailing run of extensions that stays short (".counterparty.sig").
        parts = rest.split(".")
        for i in range(len(parts)):
            candidate = "." + ".".join(parts[i:])
            if len(candidate) <= 32:
                suffix = candidate
                break
    tag = "~" + _digest(name)[:10]
    return name[: limit - len(tag) - len(suffix)] + tag + suffix


def clean_text(text: str | None, limit: int = TEXT_LIMIT) -> str | None:
    """Operators' text without control characters, cut with a marker past ``limit``."""
    if text is None:
        return None
    if not text.isprintable():  # most text has nothing to clean (see fit_id)
        text = _CONTROL.sub("", text)
    if len(text) > limit:
        text = text[: limit - len(CUT_MARKER)] + CUT_MARKER
    return text


def stored_cursor(cursor: str | None) -> str | None:
    """An operator's cursor as ``edi_cursors.value`` keeps it on both backends.

    A cursor is opaque and cannot be cut or cleaned (the feed would resume elsewhere),
    and refusing it would stop the feed for good. So one with a control character
    (PostgreSQL refuses NUL) or that is not UTF-8 text (a lone surrogate from JSON) is
    stored as base64 of its UTF-8 bytes behind :data:`CURSOR_ENCODED`, and given back
    exactly by :func:`loaded_cursor`; so is one that starts with that prefix. The
    column is ``Text``: no length to fit.
    """
    if cursor is None:
        return None
    try:
        cursor.encode("utf-8")
        plain = not has_control(cursor) and not cursor.startswith(CURSOR_ENCODED)
    except UnicodeEncodeError:
        plain = False
    if plain:
        return cursor
    data = cursor.encode("utf-8", "surrogatepass")
    return CURSOR_ENCODED + base64.b64encode(data).decode("ascii")


def loaded_cursor(stored: str | None) -> str | None:
    """The operator's cursor that :func:`stored_cursor` stored as ``stored``."""
    if stored is None or not stored.startswith(CURSOR_ENCODED):
        return stored
    try:
        data = base64.b64decode(stored[len(CURSOR_ENCODED) :], validate=True)
        return data.decode("utf-8", "surrogatepass")
    except (binascii.Error, UnicodeDecodeError):
        return stored  # not ours: stored plain by an earlier release


__all__ = [
    "CLOSING_NUMBER_LIMIT",
    "CURSOR_ENCODED",
    "CUT_MARKER",
    "DOCUMENT_ID_LIMIT",
    "EVENT_ID_LIMIT",
    "EVENT_KEY_LIMIT",
    "NAME_LIMIT",
    "PROVIDER_LIMIT",
    "TEXT_LIMIT",
    "clean_text",
    "fit_id",
    "fit_name",
    "has_control",
    "loaded_cursor",
    "stored_cursor",
]
