"""Exit codes and the one-line failure every command raises (the table is in :mod:`.common`).

Kept apart from :mod:`.common` so the database-error helpers can raise a failure
without importing the module that imports them.
"""

from __future__ import annotations

from typing import Any, NoReturn

import click

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_NOT_SENT = 5


class Failure(click.ClickException):
    """A one-line failure: ``edi-bridge: MESSAGE`` on stderr and ``exit_code``."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        vars(self)["exit_code"] = code  # click declares exit_code a class variable

    def show(self, file: Any = None) -> None:
        click.echo(f"edi-bridge: {self.format_message()}", err=True)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    raise Failure(message, code)


__all__ = [
    "EXIT_FAILED",
    "EXIT_NOT_SENT",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "Failure",
    "fail",
]
