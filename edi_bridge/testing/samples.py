"""Valid sample requisites and documents, for the demo, examples and tests."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import zlib
from typing import Any

from ..models import Counterparty, Document, DocumentKind, parse_counterparty
from ..requisites import complete_inn, complete_ogrn


def sample_counterparty_data(seed: str = "romashka", **overrides: Any) -> dict[str, Any]:
    """Requisites of a legal entity whose INN and OGRN are derived from ``seed``,
    reachable through the mock provider.

    Different seeds give different (valid) INNs, so tests can make many
    distinct counterparties.
    """
    digits = str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))
    inn = complete_inn("77" + digits[:7])
    ogrn = complete_ogrn("1027700" + digits[7:12])
    data: dict[str, Any] = {
        "name": "ООО «Ромашка»",
        "inn": inn,
        "kpp": "770101001",
        "ogrn": ogrn,
        "vat_payer": True,
        "signatory": {"full_name": "Иванова Мария Петровна", "position": "Генеральный директор"},
        "username": seed,
        "contract_postal_address": "125009, г. Москва, ул. Тверская, д. 1",
        "contact": {
            "name": "Пётр Сидоров",
            "phone": "+7 495 123-45-67",
            "email": "office@example.ru",
        },
        "closing_documents": {
            "email": "accounting@example.ru",
            "postal_address": "125009, г. Москва, ул. Тверская, д. 1",
        },
        # The mock is an EDI operator like any other: its route makes the
        # sample go through it. Pass edi=[] for a client without EDI (paper).
        "edi": [{"operator": "mock", "participant_id": f"MOCK-{inn}"}],
    }
    data.update(overrides)
    return data


def sample_counterparty(seed: str = "romashka", **overrides: Any) -> Counterparty:
    return parse_counterparty(sample_counterparty_data(seed, **overrides))


def sample_pdf(title: str = "Договор") -> bytes:
    """A small, valid one-page PDF (ASCII text; enough for viewers and hashing)."""
    text = title.encode("ascii", "replace")
    stream = b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def sample_scan(seed: str = "scan", size: int = 80) -> bytes:
    """A valid PNG of ``size`` x ``size`` noisy grey pixels (about ``size**2`` bytes,
    over the paper route's minimum scan size at the default): a scan for tests."""
    pixels = hashlib.shake_256(seed.encode()).digest(size * size)
    rows = b"".join(b"\x00" + pixels[i * size : (i + 1) * size] for i in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def sample_contract(number: str = "Д-2026/001", date: dt.date | None = None) -> Document:
    """A contract document with sample PDF content."""
    return Document.from_bytes(
        sample_pdf(f"Contract {number}"),
        kind=DocumentKind.CONTRACT,
        number=number,
        date=date or dt.date(2026, 11, 24),
        file_name=f"contract-{number.replace('/', '-')}.pdf",
    )


__all__ = [
    "sample_contract",
    "sample_counterparty",
    "sample_counterparty_data",
    "sample_pdf",
    "sample_scan",
]
