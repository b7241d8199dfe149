"""Who holds a lease: this process's host, pid and start time, and whether a
holder named in a lease is still alive.

A lease that names a process on our own host can be checked at once: if that
pid is gone, or now belongs to a process started at another time (the pid was
reused), the holder is dead and its lease is taken over without waiting for it
to run out. A holder on another host, or one we cannot inspect, is trusted
until its lease expires.

"Host" is the host name plus the PID namespace where the system shows it
(``/proc/self/ns/pid`` on Linux), so containers that share a host name but not
a process table never judge each other's pids.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import socket
from pathlib import Path

HOST_LENGTH = 128  # the column's size
STARTED_LENGTH = 32


@dataclasses.dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    started: str  # opaque; "" where the system does not tell


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name, or None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after its last ")".
    return raw.rpartition(")")[2].split()


def process_started(pid: int) -> str:
    """When ``pid`` started (clock ticks since boot, Linux), or "" when unknown."""
    fields = _proc_stat(pid)
    # Field 22 of stat is starttime; counted after the name, it is the 20th.
    return f"t{fields[19]}" if fields is not None and len(fields) > 19 else ""


@functools.cache
def _host() -> str:
    name = socket.gethostname()
    with contextlib.suppress(OSError):
        name += "/" + os.readlink("/proc/self/ns/pid")
    return name[:HOST_LENGTH]


@functools.cache
def _started(pid: int) -> str:
    return process_started(pid)[:STARTED_LENGTH]


def this_process() -> Holder:
    pid = os.getpid()  # read each time: a forked child is another holder
    return Holder(_host(), pid, _started(pid))


def is_dead(host: str | None, pid: int | None, started: str | None) -> bool:
    """True only when the holder is certainly gone: same host, and its pid is
    free, a zombie, or another process's (another start time)."""
    if os.name != "posix" or not host or not pid or host != _host():
        return False  # another machine, or nothing to check: trust the lease's time
    me = this_process()
    if pid == me.pid:
        return bool(started) and bool(me.started) and started != me.started
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the pid exists
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # exists, owned by another user
    except OSError:
        return False
    fields = _proc_stat(pid)
    if fields is not None and fields and fields[0] in ("Z", "X"):
        return True  # killed, not yet reaped by its parent
    now = process_started(pid)
    return bool(started) and bool(now) and now != started


__all__ = ["Holder", "is_dead", "process_started", "this_process"]
