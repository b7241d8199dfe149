"""What every command shares: the Bridge it opens and how failures print."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import click

from ..errors import EdiBridgeError
from ..workflow import Bridge

F = TypeVar("F", bound=Callable[..., Any])


class Obj:
    """Global options, handed to each command."""

    def __init__(self, db: str | None) -> None:
        self.db = db

    @contextmanager
    def bridge(self) -> Iterator[Bridge]:
        with Bridge.open(self.db) as bridge:
            yield bridge


pass_obj = click.make_pass_decorator(Obj, ensure=True)


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"edi-bridge: {message}", err=True)
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """Library errors become one line on stderr and exit code 1, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EdiBridgeError as exc:
            text = str(exc).strip()
            fail(text.splitlines()[0] if text else type(exc).__name__)
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            fail(f"{exc.strerror or exc}{where}")

    return wrapper  # type: ignore[return-value]


__all__ = ["Obj", "fail", "handle_errors", "pass_obj"]
