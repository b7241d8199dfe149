"""What every command shares: the Bridge it opens, exit codes and how failures print.

Exit codes (the README has the same table):

====  ==========================================================================
0     done
1     refused or failed (``verify``: the signature is invalid)
2     bad usage: unknown option, bad value, unreadable input file
3     partly done: some exchanges or feeds failed, others went through
      (``verify``: signer mismatch)
4     ``verify`` only: valid, but the certificate chain was not checked
5     recorded but not sent yet: queued, the next ``poll`` or worker retries it
130   interrupted (Ctrl-C); what was done so far is printed
141   the reader of the output went away (``| head``); nothing is printed
====  ==========================================================================
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import EdiBridgeError
from .failure import (
    EXIT_FAILED,
    EXIT_NOT_SENT,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    Failure,
    fail,
)

if TYPE_CHECKING:
    from ..workflow import Bridge

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_LOCK_WAIT = 30.0


class Obj:
    """Global options, handed to each command, and what the command did so far."""

    def __init__(self, db: str | None = None, lock_wait: float = DEFAULT_LOCK_WAIT) -> None:
        self.db = db
        self.lock_wait = lock_wait
        self.done: list[str] = []  # lines for the Ctrl-C summary, added as work completes
        self._start_seq: int | None = None
        self._started = dt.datetime.now(dt.UTC)

    @contextmanager
    def bridge(self, *, watch_locks: bool = True, **kwargs: Any) -> Iterator[Bridge]:
        """The Bridge on ``--db``; says so when it waits for another process's lock.

        ``watch_locks=False`` for the worker: its logs are JSON lines, and waiting for
        other workers is its normal life.
        """
        from ..workflow import Bridge
        from .dberrors import LockWatch, last_seq, unreadable_schema, wait_for_lock, where

        if watch_locks:
            wait_for_lock(self.db, self.lock_wait)
        try:
            opened = Bridge.open(self.db, **kwargs)
        except ValueError as exc:
            if isinstance(exc, EdiBridgeError):
                raise
            # The store reads its schema version as a number; anything else lands here.
            fail(unreadable_schema(exc, self.db))
        watch = LockWatch(opened.store.engine, where(self.db), enabled=watch_locks)
        with opened as bridge, watch:
            if self._start_seq is None:
                self._start_seq = last_seq(bridge)
            yield bridge

    def interrupt_summary(self) -> list[str]:
        """What this run recorded before Ctrl-C: its own lines, then the event log's."""
        lines = list(self.done)
        if self._start_seq is not None:
            from ..workflow import Bridge

            with Bridge.open(self.db) as bridge:
                events = bridge.events(after=self._start_seq, limit=50)
                # A new exchange is recorded queued without an event: find those by time.
                queued = [e for e in bridge.list(status="queued") if e.created_at >= self._started]
            lines += [f"{e.exchange_id or '-'}  {e.kind}" for e in events]
            lines += [f"{e.id}  queued: recorded; a later poll or worker sends it" for e in queued]
        if not lines:
            lines.append("nothing was recorded")
        return lines


pass_obj = click.make_pass_decorator(Obj, ensure=True)


def one_line(text: str, fallback: str) -> str:
    text = text.strip()
    return text.splitlines()[0] if text else fallback


def handle_errors(fn: F) -> F:
    """Every error a user can cause or meet becomes one line on stderr, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (KeyboardInterrupt, BrokenPipeError, click.exceptions.Exit, click.ClickException):
            raise  # the root group handles these (quiet 130 / 141; click's own)
        except EdiBridgeError as exc:
            from .dberrors import hide_passwords

            fail(hide_passwords(one_line(str(exc), type(exc).__name__), _db()))
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            fail(f"{exc.strerror or exc}{where}")
        except Exception as exc:
            from .dberrors import database_message

            message = database_message(exc, _db())
            if message is None:
                raise
            fail(message)

    return wrapper  # type: ignore[return-value]


def _db() -> str | None:
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(Obj) if ctx is not None else None
    return obj.db if obj is not None else None


__all__ = [
    "EXIT_FAILED",
    "EXIT_NOT_SENT",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "Failure",
    "Obj",
    "fail",
    "handle_errors",
    "one_line",
    "pass_obj",
]
