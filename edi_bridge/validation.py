"""Shared pieces of the public models: strict bases, text types, and turning
pydantic's errors into :class:`~edi_bridge.errors.ValidationError` naming the
field and the rule."""

from __future__ import annotations

from typing import Annotated

import pydantic
from pydantic import BaseModel, ConfigDict, StrictStr

from .errors import ValidationError


def _nonblank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


Text = Annotated[StrictStr, pydantic.AfterValidator(_nonblank)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


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


__all__ = ["Text"]
