"""What the paper route accepts as files, checked by content before anything is stored.

- The client's scan (``paper scan-received --file``, :meth:`PaperDesk.scan_received`):
  a PDF, JPEG, PNG or TIFF by its first bytes (not by its name), a PDF also readable,
  between :data:`SCAN_MIN_BYTES` and the ``scan`` limit of :mod:`edi_bridge.files`.
  Anything smaller is no scan of a signed page (a real one is tens of kilobytes).
- A contract that goes on paper: a readable PDF, since the print pack prints it.

A PDF is read with pypdf (the ``paper`` extra); without it only its header and its
end marker are checked, and the print pack says what to install.
"""

from __future__ import annotations

import io

from ..errors import ValidationError
from ..files import limit_for

SCAN_MIN_BYTES = 4 * 1024
SCAN_MAX_BYTES = limit_for("scan")
# First bytes of each accepted scan format.
_MAGIC = (
    (b"%PDF-", "PDF"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


def scan_format(content: bytes, field: str = "file") -> str:
    """The scan's format (``PDF``, ``JPEG``, ``PNG``, ``TIFF``); ValidationError naming
    ``field`` when it is none of them, unreadable, or of an implausible size."""
    size = len(content)
    if size < SCAN_MIN_BYTES:
        raise ValidationError(
            field, f"is {size} bytes: a scan of a signed page is at least {SCAN_MIN_BYTES} bytes"
        )
    if size > SCAN_MAX_BYTES:
        raise ValidationError(field, f"is {size} bytes, over the {SCAN_MAX_BYTES}-byte limit")
    for magic, name in _MAGIC:
        if content.startswith(magic):
            if name == "PDF":
                check_pdf(content, field)
            return name
    raise ValidationError(field, "must be a PDF, JPEG, PNG or TIFF scan (by its content)")


def check_pdf(content: bytes, field: str = "document") -> None:
    """ValidationError naming ``field`` unless ``content`` is a readable PDF with pages."""
    if not content.startswith(b"%PDF-"):
        raise ValidationError(field, "must be a PDF (it does not start with %PDF-)")
    try:
        import pypdf
    except ImportError:
        if b"%%EOF" not in content[-2048:]:
            raise ValidationError(field, "is not a readable PDF (no end-of-file marker)") from None
        return
    try:
        pages = len(pypdf.PdfReader(io.BytesIO(content)).pages)
    except Exception as exc:  # pypdf raises many kinds on a damaged file
        raise ValidationError(field, f"is not a readable PDF ({type(exc).__name__})") from None
    if pages == 0:
        raise ValidationError(field, "is a PDF without pages")


__all__ = ["SCAN_MAX_BYTES", "SCAN_MIN_BYTES", "check_pdf", "scan_format"]
