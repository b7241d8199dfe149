"""Company cards ("карточка предприятия") as rows of cells, whatever the format.

A DOCX card gives its paragraphs and table rows in document order, an XLSX card its
sheet rows, a PDF card the lines of its text layer, a text card its lines. DOCX and
XLSX are zip packages: they are inspected before parsing and refused when they could
be zip bombs or carry macros. The format libraries are imported on use only.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import PurePath

from ..errors import UnsafeInput, ValidationError
from .message import Attachment, Limits

Row = list[str]

_MACRO_TYPES = ("macroenabled", "vbaproject", "activex")
_STREAM_RE = re.compile(rb"stream\r?\n(.*?)endstream", re.DOTALL)
_MAX_ROWS = 2000

DOCX = "docx"
XLSX = "xlsx"
PDF = "pdf"
TEXT = "text"


def card_format(att: Attachment) -> str | None:
    """The card format of an attachment, or None when it is not a card we read."""
    suffix = PurePath(att.file_name.lower()).suffix
    head = att.data[:5]
    if suffix in (".docm", ".xlsm", ".dotm", ".xltm"):
        raise UnsafeInput(f"attachment {att.file_name}: macro-enabled documents are refused")
    if suffix == ".docx" or "wordprocessingml" in att.media_type:
        return DOCX
    if suffix == ".xlsx" or "spreadsheetml" in att.media_type:
        return XLSX
    if suffix == ".pdf" or att.media_type == "application/pdf" or head == b"%PDF-":
        return PDF
    if suffix in (".txt", ".csv") or att.media_type.startswith("text/"):
        return TEXT
    return None


def check_package(att: Attachment, limits: Limits) -> None:
    """Refuse a zip package that is a bomb, is encrypted or carries macros.

    The sizes checked are the declared ones; zipfile never inflates a member past its
    declared size (a lie ends in a CRC error), so they bound what the parsers read.
    """
    name = att.file_name
    try:
        archive = zipfile.ZipFile(io.BytesIO(att.data))
    except zipfile.BadZipFile:
        raise ValidationError(f"attachment {name}", "is not a valid DOCX/XLSX package") from None
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_zip_members:
            raise UnsafeInput(f"attachment {name}: more than {limits.max_zip_members} members")
        total = 0
        for info in members:
            lowered = info.filename.lower()
            if any(mark in lowered for mark in _MACRO_TYPES):
                raise UnsafeInput(f"attachment {name}: carries macros ({info.filename})")
            if info.flag_bits & 0x1:
                raise UnsafeInput(f"attachment {name}: encrypted members are refused")
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_compression_ratio and info.file_size > 1024 * 1024:
                raise UnsafeInput(
                    f"attachment {name}: {info.filename} expands {ratio:.0f}-fold (zip bomb)"
                )
        if total > limits.max_unpacked_bytes:
            raise UnsafeInput(
                f"attachment {name}: unpacks to more than {limits.max_unpacked_bytes} bytes"
            )
        try:
            types = archive.read("[Content_Types].xml").lower()
        except KeyError:
            raise ValidationError(f"attachment {name}", "has no [Content_Types].xml") from None
        if any(mark.encode() in types for mark in _MACRO_TYPES):
            raise UnsafeInput(f"attachment {name}: its content types declare macros")


def check_pdf(att: Attachment, limits: Limits) -> None:
    """Refuse a PDF whose compressed streams inflate past the unpacked-size bound."""
    budget = limits.max_unpacked_bytes
    for match in _STREAM_RE.finditer(att.data):
        inflater = zlib.decompressobj()
        data = match.group(1)
        try:
            # Inflate in bounded steps: a bomb is stopped at the budget, not in memory.
            out = inflater.decompress(data, budget + 1)
            while len(out) <= budget and inflater.unconsumed_tail:
                budget -= len(out)
                out = inflater.decompress(inflater.unconsumed_tail, budget + 1)
        except zlib.error:
            continue  # not Flate (or damaged): pdfminer decides
        budget -= len(out)
        if budget < 0:
            raise UnsafeInput(
                f"attachment {att.file_name}: streams inflate past "
                f"{limits.max_unpacked_bytes} bytes (a decompression bomb)"
            )


def _dedupe(cells: list[str]) -> Row:
    # Merged cells repeat their text in every grid cell they span.
    row: Row = []
    for cell in cells:
        text = " ".join(cell.split())
        if text and (not row or row[-1] != text):
            row.append(text)
    return row


def _docx_rows(data: bytes) -> Iterator[Row]:
    import docx  # python-docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(data))
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            yield [block.text]
        elif isinstance(block, Table):
            for tr in block.rows:
                yield _dedupe([cell.text for cell in tr.cells])


def _xlsx_rows(data: bytes) -> Iterator[Row]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for sheet in book.worksheets:
            for values in sheet.iter_rows(values_only=True, max_row=_MAX_ROWS):
                yield _dedupe(["" if v is None else str(v) for v in values])
    finally:
        book.close()


def _pdf_rows(data: bytes, name: str, limits: Limits) -> Iterator[Row]:
    import pdfplumber

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception:  # pdfminer raises many types for a broken file
        raise ValidationError(f"attachment {name}", "is not a readable PDF") from None
    with pdf:
        if len(pdf.pages) > limits.max_pdf_pages:
            raise UnsafeInput(f"attachment {name}: more than {limits.max_pdf_pages} pages")
        found = False
        for page in pdf.pages:
            for line in (page.extract_text() or "").splitlines():
                found = found or bool(line.strip())
                yield [line]
        if not found:
            raise ValidationError(f"attachment {name}", "PDF has no text layer (a scan?)")


def text_rows(text: str) -> list[Row]:
    """Rows of a plain text: one per line; tab-separated cells stay separate."""
    return [_dedupe(line.split("\t")) for line in text.splitlines()[:_MAX_ROWS]]


def decode_text(data: bytes) -> str:
    for charset in ("utf-8-sig", "cp1251"):
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def read_card(att: Attachment, limits: Limits | None = None) -> list[Row] | None:
    """The rows of a company card, or None when the attachment is not a card format."""
    limits = limits or Limits()
    kind = card_format(att)
    if kind is None:
        return None
    if kind in (DOCX, XLSX):
        check_package(att, limits)
        try:
            rows = list(_docx_rows(att.data) if kind == DOCX else _xlsx_rows(att.data))
        except (KeyError, ValueError, zipfile.BadZipFile, OSError) as exc:
            raise ValidationError(
                f"attachment {att.file_name}", f"cannot be read as {kind.upper()} ({exc})"
            ) from None
        return rows[:_MAX_ROWS]
    if kind == PDF:
        check_pdf(att, limits)
        return list(_pdf_rows(att.data, att.file_name, limits))[:_MAX_ROWS]
    return text_rows(decode_text(att.data))


__all__ = ["Row", "card_format", "check_package", "decode_text", "read_card", "text_rows"]
