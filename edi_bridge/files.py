"""Reading an input file safely: a regular file, of bounded size, refused naming the argument.

Every file the CLI or the library reads on a person's behalf goes through
:func:`read_bounded`, so ``/dev/zero`` or a huge file never exhausts memory and
a FIFO never hangs the process. The limit depends on what the file is:

=====================  ==========  ==================================================
Kind                   Limit       Why this much
=====================  ==========  ==================================================
``counterparty``       1 MiB       requisites and routes: a few kilobytes
``signature``          8 MiB       a detached CMS with its certificates
``certificate``        1 MiB       a certificate (or a short chain) in DER or PEM
``power_of_attorney``  8 MiB       an МЧД XML with its signature
``upd``                32 MiB      a УПД XML or a closing input; the XML reader's own bound
``seller``             1 MiB       the seller's requisites
``scan``               64 MiB      a scan of a paper original (PDF, JPEG)
(any other)            32 MiB      ``DEFAULT_LIMIT``
=====================  ==========  ==================================================
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import ValidationError

MIB = 1024 * 1024
DEFAULT_LIMIT = 32 * MIB
LIMITS: dict[str, int] = {
    "counterparty": 1 * MIB,
    "signature": 8 * MIB,
    "certificate": 1 * MIB,
    "power_of_attorney": 8 * MIB,
    "upd": 32 * MIB,
    "seller": 1 * MIB,
    "scan": 64 * MIB,
}


def limit_for(kind: str) -> int:
    return LIMITS.get(kind, DEFAULT_LIMIT)


def read_bounded(path: str | Path, what: str, *, kind: str | None = None) -> bytes:
    """The bytes of ``path``; ValidationError naming ``what`` unless it is a regular
    file within the limit of ``kind`` (``what`` when not given)."""
    p = Path(path)
    limit = limit_for(kind or what)
    try:
        # Non-blocking: opening a FIFO does not wait for a writer; fstat then refuses it.
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ValidationError(what, f"cannot read {p}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValidationError(what, f"{p} is not a regular file")
        if info.st_size > limit:
            raise ValidationError(what, f"{p} is larger than the {limit} bytes allowed")
        data = fh.read(limit + 1)  # the file may have grown since fstat
    if len(data) > limit:
        raise ValidationError(what, f"{p} is larger than the {limit} bytes allowed")
    return data


__all__ = ["DEFAULT_LIMIT", "LIMITS", "limit_for", "read_bounded"]
