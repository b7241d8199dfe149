"""Diadoc bodies held against the proto model (:mod:`.proto`), in two readings.

* :func:`differences` is strict (unknown fields, missing required fields, wrong types,
  misspelled enums): the fake builds its answers through :func:`build`, and the
  recorded-run test holds every body against it;
* :func:`require` is the client's tolerant check: unknown fields and enum values
  newer than the model are accepted, a missing required field is an error naming it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from edi_bridge.errors import ProviderError

from . import proto_docflow, proto_revocation
from .proto import ENUMS as _CORE_ENUMS
from .proto import MODELS as _CORE

MODELS = {**_CORE, **proto_revocation.MODELS, **proto_docflow.MODELS}
ENUMS = {**_CORE_ENUMS, **proto_docflow.ENUMS}


def _scalar_ok(kind: str, value: Any) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind in ("int32", "int64"):
        # A 64-bit number may travel as a JSON string (the usual JSON mapping).
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and value.lstrip("-").isdigit()
        )
    return isinstance(value, str)  # string, and bytes as base64 text


def differences(value: Any, type_name: str, path: str = "", *, strict: bool = True) -> list[str]:
    """Every way ``value`` departs from the model of ``type_name`` (empty: none).

    ``strict=False`` skips unknown fields and enum names (newer than this model).
    """
    where = path or type_name
    model = MODELS[type_name]
    if not isinstance(value, Mapping):
        return [f"{where}: expected a {type_name} object"]
    found: list[str] = []
    for name in value:
        if name not in model.fields and strict:
            found.append(f"{where}.{name}: not a field of {type_name}")
    for field in model.fields.values():
        at = f"{where}.{field.name}"
        if field.name not in value or value[field.name] is None:
            if field.required:
                found.append(f"{at}: required field of {type_name} is missing")
            continue
        items = value[field.name]
        if field.repeated:
            if not isinstance(items, list):
                found.append(f"{at}: expected a list")
                continue
            pairs = [(f"{at}[{i}]", item) for i, item in enumerate(items)]
        else:
            pairs = [(at, items)]
        for item_at, item in pairs:
            found += _value_differences(item, field.type, item_at, strict)
    return found


def _value_differences(value: Any, kind: str, at: str, strict: bool) -> list[str]:
    if kind in MODELS:
        return differences(value, kind, at, strict=strict)
    if kind in ENUMS:
        if not isinstance(value, str):
            return [f"{at}: enum {kind} must be a name, got {value!r}"]
        if strict and value not in ENUMS[kind]:
            return [f"{at}: {value!r} is not a value of {kind}"]
        return []
    if not _scalar_ok(kind, value):
        return [f"{at}: expected {kind}, got {type(value).__name__}"]
    return []


def build(type_name: str, **fields: Any) -> dict[str, Any]:
    """A ``type_name`` body from ``fields``; refuses anything the model does not allow."""
    body = {k: v for k, v in fields.items() if v is not None}
    found = differences(body, type_name)
    if found:
        raise ValueError("; ".join(found))
    return body


Check = Callable[[Any], bool]
_TEXT = "text"  # a field whose every value is a JSON string: string, bytes (base64), enum
_INT = "int"  # int32, int64: a JSON number, or a string of digits


def _fits(value: Any, type_name: str) -> bool:
    """``not differences(value, type_name, strict=False)``, without building any path text.

    A feed page holds hundreds of events; naming every field's path for a check that
    almost always passes cost more than reading the page. Each message type's check is
    compiled once (:func:`_checker`): only the fields present are read (an unknown one is
    tolerated), then the required ones are looked for. On a failure :func:`require` runs
    :func:`differences` for the names.
    """
    return _checker(type_name)(value)


_CHECKS: dict[str, Check] = {}


def _checker(type_name: str) -> Check:
    """The compiled check of ``type_name``: per field what its value must be, decided once
    (a text field only asks ``type(value) is str``, a message field calls its own check)."""
    found = _CHECKS.get(type_name)
    if found is not None:
        return found
    table: dict[str, Any] = {}
    required = tuple(f.name for f in MODELS[type_name].fields.values() if f.required)

    def check(value: Any) -> bool:
        if type(value) is not dict and not isinstance(value, Mapping):
            return False
        for name, item in value.items():
            kind = table.get(name)
            if kind is None or item is None:
                continue  # unknown (newer than the model) or absent
            if kind is _TEXT:
                if type(item) is not str and not isinstance(item, str):
                    return False
            elif kind is _INT:
                if type(item) is not int and not _scalar_ok("int64", item):
                    return False
            elif not kind(item):
                return False
        for name in required:  # noqa: SIM110  (a loop: no generator per object)
            if value.get(name) is None:
                return False
        return True

    _CHECKS[type_name] = check  # before the fields: a message may hold its own type
    for field in MODELS[type_name].fields.values():
        kind = _kind_check(field.type)
        table[field.name] = _repeated(kind) if field.repeated else kind
    return check


def _kind_check(kind: str) -> Any:
    if kind in _TEXT_KINDS or kind in ENUMS:
        return _TEXT  # an enum name newer than the model is accepted (tolerant)
    if kind in ("int32", "int64"):
        return _INT
    if kind in MODELS:
        return _checker(kind)
    return functools.partial(_scalar_ok, kind)


def _repeated(kind: Any) -> Check:
    one: Check = kind
    if kind is _TEXT:
        one = _is_str
    elif kind is _INT:
        one = functools.partial(_scalar_ok, "int64")

    def check(items: Any) -> bool:
        if type(items) is not list:
            return False
        for item in items:  # noqa: SIM110  (a loop: no generator per list)
            if not one(item):
                return False
        return True

    return check


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


_TEXT_KINDS = frozenset({"string", "bytes"})


def require(value: Any, type_name: str, provider: str = "diadoc") -> Mapping[str, Any]:
    """The client's check of an answer: tolerant of extras, strict on required fields."""
    if _fits(value, type_name):
        return value  # type: ignore[no-any-return]
    found = differences(value, type_name, strict=False)
    if found:
        raise ProviderError(
            f"Diadoc answered a {type_name} that does not fit the protocol: "
            + "; ".join(found[:5])
            + (f" (and {len(found) - 5} more)" if len(found) > 5 else ""),
            provider=provider,
            status=None,
        )
    return value  # type: ignore[no-any-return]


__all__ = ["build", "differences", "require"]
