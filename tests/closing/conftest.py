from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from edi_bridge.closing.model import UpdInput, parse_upd_input

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "closing"
# The official schema lives beside the repository as reference data; it is read, never copied.
FNS = REPO.parent / "shared" / "fns"
XSD_PATH = FNS / "ON_NSCHFDOPPR_1_997_01_05_03_05.xsd"


@pytest.fixture(scope="session")
def upd_schema() -> etree.XMLSchema:
    assert XSD_PATH.is_file(), f"the FNS УПД 5.03 schema is expected at {XSD_PATH}"
    return etree.XMLSchema(etree.parse(str(XSD_PATH)))


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture
def vat_input() -> UpdInput:
    return parse_upd_input(example("upd-vat.json"))


@pytest.fixture
def novat_input() -> UpdInput:
    return parse_upd_input(example("upd-novat.json"))
