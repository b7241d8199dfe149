"""Diadoc bodies held against the proto model (:mod:`.proto`), in two readings.

* :func:`differences` is strict (unknown fields, missing required fields, wrong types,
  misspelled enums): the fake builds its answers through :func:`build`, and the
  recorded-run test holds every body against it;
* :func:`require` is the client's tolerant check: unknown fields and enum values
  newer than the model are accepted, a missing required field is an error naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def _fits(value: Any, type_name: str) -> bool:
    """``not differences(value, type_name, strict=False)``, without building any path text.

    A feed page holds hundreds of events; naming every field's path for a check that
    almost always passes cost more than reading the page. Only the fields present are
    read (an unknown one is tolerated), then the required ones are looked for. On a
    failure :func:`require` runs :func:`differences` for the names.
    """
    if type(value) is not dict and not isinstance(value, Mapping):
        return False
    fields, required = _plan(type_name)
    for name, item in value.items():
        field = fields.get(name)
        if field is None or item is None:
            continue
        kind, repeated = field
        if repeated:
            if type(item) is not list or not all(_value_fits(i, kind) for i in item):
                return False
        elif not _value_fits(item, kind):
            return False
    return all(value.get(name) is not None for name in required)


_PLANS: dict[str, tuple[dict[str, tuple[str, bool]], tuple[str, ...]]] = {}


def _plan(type_name: str) -> tuple[dict[str, tuple[str, bool]], tuple[str, ...]]:
    plan = _PLANS.get(type_name)
    if plan is None:
        fields = MODELS[type_name].fields.values()
        plan = _PLANS[type_name] = (
            {f.name: (f.type, f.repeated) for f in fields},
            tuple(f.name for f in fields if f.required),
        )
    return plan


def _value_fits(value: Any, kind: str) -> bool:
    if type(value) is str and (kind in _TEXT or kind in ENUMS):
        return True  # the common case first; a newer enum name is accepted (tolerant)
    if kind in MODELS:
        return _fits(value, kind)
    if kind in ENUMS:
        return isinstance(value, str)
    return _scalar_ok(kind, value)


_TEXT = frozenset({"string", "bytes"})


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
