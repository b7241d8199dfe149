"""Shared pieces of the public models: strict bases, text types, and turning
pydantic's errors into :class:`~edi_bridge.errors.ValidationError` naming the
field and the rule."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import pydantic
from pydantic import BaseModel, ConfigDict, StrictStr

from .errors import ValidationError
from .files import read_bounded


def _nonblank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


Text = Annotated[StrictStr, pydantic.AfterValidator(_nonblank)]


# C0 control characters other than tab, line feed and carriage return: XML cannot carry
# them, PostgreSQL refuses NUL, and a terminal would act on escapes.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def no_control_characters(value: Any) -> Any:
    """A field validator: text with control characters is refused naming the field."""
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @pydantic.field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return no_control_characters(value)


class _FieldError(ValueError):
    """Raised inside model validators to point at a field other than the model."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


def _as_validation_error(exc: pydantic.ValidationError, root: str = "") -> ValidationError:
    problems: list[tuple[str, str]] = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _FieldError):
            loc.append(ctx_error.field)
            rule = ctx_error.rule
        else:
            rule = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                rule = "unknown field"
            elif err["type"] == "missing":
                rule = "required"
        field = ".".join(([root] if root else []) + loc) or root or "input"
        problems.append((field, rule))
    return ValidationError(problems[0][0], problems[0][1], problems=problems)


def load_json_object(data: Mapping[str, Any] | str | bytes, what: str) -> dict[str, Any]:
    """A JSON object from text, or a mapping as it is; ValidationError naming ``what``."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise ValidationError(what, f"not valid JSON ({exc})") from None
    if not isinstance(data, Mapping):
        raise ValidationError(what, "must be a JSON object")
    return dict(data)


def read_input(path: str | Path, what: str, *, kind: str | None = None) -> bytes:
    """An input file's bytes; ValidationError naming ``what`` when it cannot be read,
    is not a regular file or is over its kind's limit (:mod:`edi_bridge.files`)."""
    return read_bounded(path, what, kind=kind)


__all__ = ["CONTROL_CHARACTERS", "Text", "load_json_object", "no_control_characters", "read_input"]
