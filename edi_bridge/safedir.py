"""Archive folders written safely, for ``fetch`` and ``closing fetch`` alike.

Names from documents and operators are cleaned (no directories, no control or
ANSI escape characters) and numbered when they would collide with each other or
with a reserved name (``manifest.json``, ``provider``). A folder is built in a
fresh temporary folder beside its target and renamed into place only when
complete: a fetch that fails leaves the previous complete archive (or nothing),
and nothing already at the target, a symlink included, is written through.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .document import check_file_name
from .errors import ValidationError

MANIFEST = "manifest.json"
# ESC sequences (CSI, OSC, two-character) first, so their printable tails go too.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_name(name: str, field: str) -> str:
    """A bare file name without control or ANSI escape characters.

    Names that climb out (``/``, ``\\``, ``..``) or hold NUL are refused naming ``field``.
    """
    check_file_name(name, field)
    cleaned = _CONTROL.sub("", _ANSI.sub("", name)).strip()
    return cleaned if cleaned not in ("", ".", "..") else "file"


def printable(text: str) -> str:
    """``text`` for a terminal: control characters shown escaped, never interpreted."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def folder_name(value: str) -> str:
    """A safe single path component for a document number such as ``УПД-2026/03``.

    When cleaning changed the value, a short hash of the original is appended, so
    ``A/1`` and ``A 1`` get folders of their own instead of sharing ``A_1``.
    """
    cleaned = re.sub(r"[^\w.\-]+", "_", value).strip("._")[:80] or "document"
    if cleaned == value and cleaned.casefold() != MANIFEST:
        return cleaned
    return f"{cleaned}-{hashlib.sha256(value.encode()).hexdigest()[:8]}"


class Names:
    """Gives each file of one folder its own name; a repeat or a reserved name is numbered.

    Names compare case-insensitively (the archive may be copied to such a file system).
    """

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._taken = {r.casefold() for r in reserved}

    def take(self, name: str) -> str:
        stem, dot, ext = name.partition(".")
        candidate, n = name, 1
        while candidate.casefold() in self._taken:
            n += 1
            candidate = f"{stem}-{n}{dot}{ext}"
        self._taken.add(candidate.casefold())
        return candidate


def real_directory(path: Path, root: Path, field: str) -> Path:
    """Create ``path`` below ``root``, refusing any part of it that is a symlink."""
    current = root
    current.mkdir(parents=True, exist_ok=True)
    for part in path.relative_to(root).parts:
        current = current / part
        if current.is_symlink():
            raise ValidationError(
                field, f"{current} is a symbolic link; refusing to write through it"
            )
        current.mkdir(exist_ok=True)
    return current


def _replaceable(target: Path, field: str) -> None:
    """Only nothing, an empty folder or an earlier archive is replaced."""
    if target.is_symlink():
        raise ValidationError(field, f"{target} is a symbolic link; refusing to write through it")
    if not target.exists():
        return
    if not target.is_dir():
        raise ValidationError(field, f"{target} exists and is not a folder")
    manifest = target / MANIFEST
    if manifest.is_symlink() or manifest.exists() or not any(target.iterdir()):
        return
    raise ValidationError(
        field, f"{target} holds other files and no {MANIFEST}; choose a new or empty folder"
    )


def swap_into_place(staging: Path, folder: Path) -> None:
    """Replace ``folder`` by ``staging``; the old one goes only once the new one is there."""
    old: Path | None = None
    if folder.is_symlink() or folder.exists():
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        os.rename(folder, old)  # renames a symlink itself, never its target
    os.rename(staging, folder)
    if old is not None:
        if old.is_symlink() or not old.is_dir():
            old.unlink()
        else:
            shutil.rmtree(old)


@contextlib.contextmanager
def building(target: Path, field: str, root: Path | None = None) -> Iterator[Path]:
    """A fresh folder beside ``target`` to build in; renamed over ``target`` on success.

    ``root``: the parts between it and ``target`` are created and must not be symlinks.
    On any failure the temporary folder is removed and ``target`` is left as it was.
    """
    if root is not None:
        parent = real_directory(target.parent, root, field)
    else:
        parent = target.parent
        parent.mkdir(parents=True, exist_ok=True)
        _replaceable(target, field)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    try:
        yield staging
        swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


__all__ = [
    "MANIFEST",
    "Names",
    "building",
    "clean_name",
    "folder_name",
    "printable",
    "real_directory",
    "swap_into_place",
]
