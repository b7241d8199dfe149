"""Reading an МЧД (FNS EMCHD_1) from untrusted bytes.

:func:`read_power_of_attorney` parses with :func:`edi_bridge.safexml.parse_untrusted`
(no DTD, no entities, no network, bounded size), refuses anything that is not
an EMCHD_1 document by name (format 002 included: it is never misread as the
new one), validates against the official XSD when one is configured, and then
applies the business rules of :mod:`edi_bridge.mchd.rules`. Every refusal is an
:class:`InvalidPowerOfAttorney` whose one-line message names the element.

The XSD is the one FNS publishes (``ON_EMCHD_1_928_00_01_01_01.xsd``); it is
not shipped. Point at it (the file or a directory holding it) with the
``mchd.schema`` setting or ``EDI_BRIDGE_MCHD_SCHEMA``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lxml import etree

from .. import config
from ..errors import UnsafeInput
from ..safexml import parse_untrusted
from .model import FORMAT_VERSION, NAMESPACE, InvalidPowerOfAttorney, PowerOfAttorney
from .parse import (
    attr,
    child,
    children,
    delegation,
    opt_child,
    powers,
    principal,
    registration,
    representative,
)
from .rules import check_document, refuse

MAX_MCHD_BYTES = 2 * 1024 * 1024
"""Real documents are a few kilobytes; notarial ones with scanned signatures stay far below this."""
ROOT = "Доверенность"
SCHEMA_GLOB = "ON_EMCHD_1_*.xsd"
_OLD_FORMATS = {"002": "format 002 (ON_DOVEL/ON_DOVBB, before EMCHD_1)"}


def configured_schema(
    settings: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The XSD named by ``mchd.schema`` / ``EDI_BRIDGE_MCHD_SCHEMA`` (file or directory)."""
    value = config.MCHD.read(settings, environ).get("schema", "").strip()
    return Path(value) if value else None


@functools.lru_cache(maxsize=4)
def load_schema(path: Path) -> etree.XMLSchema:
    """The EMCHD_1 XSD at ``path`` (the file, or a directory holding ``ON_EMCHD_1_*.xsd``)."""
    from ..errors import ConfigurationError

    where = path
    if path.is_dir():
        found = sorted(path.glob(SCHEMA_GLOB))
        if not found:
            raise ConfigurationError(f"mchd.schema: no {SCHEMA_GLOB} in {path.name}")
        where = found[-1]
    try:
        # The XSD is trusted configuration, but it is read with the same safe parser.
        return etree.XMLSchema(parse_untrusted(where.read_bytes(), what="МЧД schema"))
    except (OSError, UnsafeInput, etree.XMLSchemaParseError) as exc:
        raise ConfigurationError(f"mchd.schema {where.name}: {exc}") from None


def read_power_of_attorney(
    data: bytes | Path,
    *,
    schema: Path | str | None = None,
    settings: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> PowerOfAttorney:
    """The МЧД in ``data`` (bytes or a file), or InvalidPowerOfAttorney naming the element.

    ``schema``: the XSD to validate against; by default the configured one, if any.
    """
    if isinstance(data, Path):
        size = data.stat().st_size
        if size > MAX_MCHD_BYTES:
            raise refuse("document", f"{size} bytes; an МЧД may be at most {MAX_MCHD_BYTES}")
        data = data.read_bytes()
    try:
        root = parse_untrusted(data, limit=MAX_MCHD_BYTES, what="МЧД")
    except UnsafeInput as exc:
        raise refuse("document", str(exc)) from None
    _check_root(root)
    xsd = Path(schema) if schema is not None else configured_schema(settings, environ)
    if xsd is not None:
        _validate(root, load_schema(xsd))
    return _build(root)


def _check_root(root: Any) -> None:
    name = etree.QName(root)
    version = root.get("ВерсФорм")
    if name.localname != ROOT:
        raise refuse(name.localname[:60], f"not a power of attorney (the root must be {ROOT})")
    if version in _OLD_FORMATS:
        raise refuse(
            f"{ROOT}/@ВерсФорм",
            f"{_OLD_FORMATS[version]} is not read; ask for the EMCHD_1 document",
        )
    if name.namespace != NAMESPACE:
        raise refuse(ROOT, f"namespace {name.namespace or '(none)'!r} is not {NAMESPACE!r}")
    if version != FORMAT_VERSION:
        raise refuse(f"{ROOT}/@ВерсФорм", f"version {version!r} is not {FORMAT_VERSION}")


_NS_RE = re.compile(r"\{[^}]*\}")
_ELEMENT_RE = re.compile(r"Element '([^']+)'(?:, attribute '([^']+)')?")


def _validate(root: Any, schema: etree.XMLSchema) -> None:
    if schema.validate(root):
        return
    log: Any = schema.error_log  # the stubs do not type the log as a sequence
    error = log[0]
    message = _NS_RE.sub("", error.message)
    m = _ELEMENT_RE.match(message)
    where = ROOT
    if m:
        where = m.group(1) + (f"/@{m.group(2)}" if m.group(2) else "")
        message = message[m.end() :].lstrip(": ")
    raise InvalidPowerOfAttorney(where, f"XSD (line {error.line}): {message}")


def _build(root: Any) -> PowerOfAttorney:
    doc = child(root, "Документ", ROOT)
    direct = opt_child(doc, "Довер")
    redel = opt_child(doc, "Передов")
    if (direct is None) == (redel is None):
        raise refuse("Документ", "must hold exactly one of Довер and Передов")
    if direct is not None:
        base = "Довер"
        info = registration(child(direct, "СвДов", base), f"{base}/СвДов")
        principals = tuple(
            principal(
                child(el, "Доверит", f"{base}/СвДоверит[{n}]"), f"{base}/СвДоверит[{n}]/Доверит"
            )
            for n, el in enumerate(children(direct, "СвДоверит"), 1)
        )
        if not principals:
            raise refuse(f"{base}/СвДоверит", "missing: the МЧД names no principal")
        reps_name, body, redelegated = "СвУпПред", direct, None
        regpath = f"{base}/СвДов"
    else:
        base = "Передов"
        regpath = f"{base}/СвПереДовер"
        info = registration(child(redel, "СвПереДовер", base), regpath)
        redelegated = delegation(redel, base)
        principals = redelegated.original_principals
        reps_name, body = "СвПолучПолн", redel
    representatives = tuple(
        representative(el, f"{base}/{reps_name}[{n}]")
        for n, el in enumerate(children(body, reps_name), 1)
    )
    if not representatives:
        raise refuse(f"{base}/{reps_name}", "missing: the МЧД names no representative")
    poa = PowerOfAttorney(
        **info,
        principals=principals,
        representatives=representatives,
        powers=powers(child(body, "СвПолн", base), f"{base}/СвПолн"),
        file_id=attr(root, "ИдФайл", ROOT),
        delegation=redelegated,
    )
    check_document(poa, regpath)
    return poa


__all__ = [
    "MAX_MCHD_BYTES",
    "configured_schema",
    "load_schema",
    "read_power_of_attorney",
]
