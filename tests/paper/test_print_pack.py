"""The print pack is one PDF whose text carries the client's Cyrillic address."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest

from edi_bridge import Bridge, Document
from edi_bridge.errors import ValidationError
from edi_bridge.paper.printpack import postal_index
from edi_bridge.testing import sample_counterparty

from .conftest import open_bridge, paper_exchange


def _text(path: Path) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return [page.extract_text() for page in reader.pages]


def test_pack_has_letter_label_and_two_copies_with_cyrillic_text(
    tmp_path: Path, bridge: Bridge
) -> None:
    exchange = paper_exchange(bridge)
    out = bridge.paper.print_pack(exchange.id, tmp_path / "pack.pdf")
    pages = _text(out)
    # Cover letter, label, then the one-page sample contract twice.
    assert len(pages) == 4
    letter, label = pages[0], pages[1]
    assert "ООО «Ромашка»" in letter
    assert "125009, г. Москва, ул. Тверская, д. 1" in letter
    assert "Пётр Сидоров" in letter
    assert "Подпишите оба экземпляра" in letter.replace("\n", " ")
    assert "ул. Тверская" in label
    assert "125009" in label
    assert pages[2] == pages[3]
    assert "Contract" in pages[2]
    assert any("print pack made (4 pages)" in h.cause for h in bridge.history(exchange.id))


def test_sender_settings_appear_on_letter_and_label(tmp_path: Path) -> None:
    settings = {
        "paper.sender_name": "ООО «Связь»",
        "paper.sender_address": "190000, г. Санкт-Петербург, Невский пр., д. 2",
        "paper.scan_email": "contracts@example.ru",
    }
    with open_bridge(tmp_path, **settings) as bridge:
        exchange = paper_exchange(bridge)
        pages = _text(bridge.paper.print_pack(exchange.id, tmp_path / "pack.pdf"))
    assert "contracts@example.ru" in pages[0]
    assert "Невский пр., д. 2" in pages[0].replace("\n", " ")
    assert "ООО «Связь»" in pages[1]


def test_non_pdf_document_is_not_appended_and_the_letter_says_so(
    tmp_path: Path, bridge: Bridge
) -> None:
    document = Document.from_bytes(
        b"plain text contract", file_name="contract.docx", number="D-1", date="2026-11-24"
    )
    # Only a fallback from EDI brings a document that is no PDF on paper: a send is refused.
    exchange = bridge.paper.prepare(
        sample_counterparty("docx", edi=[]),
        document,
        idempotency_key="fallback-docx",
        reason="the EDI send failed; falling back to paper",
        check_content=False,
    )
    pages = _text(bridge.paper.print_pack(exchange.id, tmp_path / "pack.pdf"))
    assert len(pages) == 2
    assert "contract.docx" in pages[0]


def test_broken_pdf_is_refused_at_send_and_at_print(tmp_path: Path, bridge: Bridge) -> None:
    document = Document.from_bytes(
        b"%PDF-1.4 not really", file_name="broken.pdf", number="D-2", date="2026-11-24"
    )
    with pytest.raises(ValidationError) as refused:
        bridge.send(sample_counterparty("broken", edi=[]), document)
    assert refused.value.field == "document"
    exchange = bridge.paper.prepare(
        sample_counterparty("broken", edi=[]),
        document,
        idempotency_key="fallback-broken",
        reason="the EDI send failed; falling back to paper",
        check_content=False,
    )
    with pytest.raises(ValidationError) as err:
        bridge.paper.print_pack(exchange.id, tmp_path / "pack.pdf")
    assert err.value.field == "document"


def test_postal_index_is_read_from_the_address() -> None:
    assert postal_index("125009, г. Москва") == "125009"
    assert postal_index("г. Москва, 125009") is None
