"""A document to send: its kind, number, date, file name and content hash."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import mimetypes
import re
from pathlib import Path
from typing import Annotated, Any

import pydantic
from pydantic import Field, StrictStr

from .errors import ValidationError
from .validation import Text, _as_validation_error, _Strict


class DocumentKind(enum.StrEnum):
    CONTRACT = "contract"
    SUPPLEMENTARY_AGREEMENT = "supplementary_agreement"
    ACT = "act"
    INVOICE = "invoice"
    UPD = "upd"
    OTHER = "other"


_SAFE_NAME_RE = re.compile(r"[^/\\\x00]{1,255}")


def check_file_name(name: str, field: str = "document.file_name") -> str:
    """A bare file name: no directories, no NUL, no '.' or '..'."""
    if not _SAFE_NAME_RE.fullmatch(name) or name in (".", ".."):
        raise ValidationError(field, "must be a bare file name (no '/', '\\', NUL, '.' or '..')")
    return name


class Document(_Strict):
    """One file with its kind, number, date and content hash.

    Build one with :meth:`from_path` or :meth:`from_bytes`; they hash the
    content (streaming from disk) and remember where it lives for the send.
    """

    kind: DocumentKind
    number: Text
    date: dt.date
    file_name: StrictStr
    media_type: StrictStr = "application/octet-stream"
    sha256: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]
    size: Annotated[int, Field(gt=0)]
    price: Annotated[str | None, Field(pattern=r"^\d+(\.\d{1,2})?$")] = None

    _path: Path | None = pydantic.PrivateAttr(default=None)
    _data: bytes | None = pydantic.PrivateAttr(default=None)

    @pydantic.field_validator("file_name")
    @classmethod
    def _file_name(cls, v: str) -> str:
        if not _SAFE_NAME_RE.fullmatch(v) or v in (".", ".."):
            raise ValueError("must be a bare file name (no '/', '\\', NUL, '.' or '..')")
        return v

    @classmethod
    def _build(cls, **fields: Any) -> Document:
        try:
            return cls.model_validate(fields)
        except pydantic.ValidationError as exc:
            raise _as_validation_error(exc, "document") from None

    @classmethod
    def from_path(
        cls,
        path: str | Path,
        *,
        kind: DocumentKind | str = DocumentKind.CONTRACT,
        number: str,
        date: dt.date | str,
        media_type: str | None = None,
        price: str | None = None,
    ) -> Document:
        p = Path(path)
        if not p.is_file():
            raise ValidationError("document", f"no such file: {p}")
        digest = hashlib.sha256()
        size = 0
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
        if size == 0:
            raise ValidationError("document", "file is empty")
        doc = cls._build(
            kind=kind,
            number=number,
            date=date,
            file_name=p.name,
            media_type=media_type or mimetypes.guess_type(p.name)[0] or "application/octet-stream",
            sha256=digest.hexdigest(),
            size=size,
            price=price,
        )
        doc._path = p
        return doc

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        *,
        file_name: str,
        kind: DocumentKind | str = DocumentKind.CONTRACT,
        number: str,
        date: dt.date | str,
        media_type: str | None = None,
        price: str | None = None,
    ) -> Document:
        if not data:
            raise ValidationError("document", "content is empty")
        doc = cls._build(
            kind=kind,
            number=number,
            date=date,
            file_name=file_name,
            media_type=media_type
            or mimetypes.guess_type(file_name)[0]
            or "application/octet-stream",
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            price=price,
        )
        doc._data = data
        return doc

    @property
    def source(self) -> Path | bytes | None:
        """Where the content is, when this object was built from it."""
        return self._path if self._path is not None else self._data


__all__ = ["Document", "DocumentKind", "check_file_name"]
