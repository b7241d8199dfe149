from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from reference import require_reference

from edi_bridge.closing.inputs import UpdInput, parse_upd_input

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "closing"
XSD_NAME = "ON_NSCHFDOPPR_1_997_01_05_03_05.xsd"


@pytest.fixture(scope="session")
def fns_dir() -> Path:
    """The official FNS files, read in place (never copied into the project)."""
    return require_reference("fns")


@pytest.fixture(scope="session")
def upd_schema(fns_dir: Path) -> etree.XMLSchema:
    xsd = fns_dir / XSD_NAME
    assert xsd.is_file(), f"the FNS УПД 5.03 schema is expected at {xsd}"
    return etree.XMLSchema(etree.parse(str(xsd)))


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture
def vat_input() -> UpdInput:
    return parse_upd_input(example("upd-vat.json"))


@pytest.fixture
def novat_input() -> UpdInput:
    return parse_upd_input(example("upd-novat.json"))
