"""The published JSON Schemas match the models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edi_bridge.schemas import SCHEMAS, render
from edi_bridge.testing.samples import sample_counterparty_data

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_published_schema_matches_the_model(name: str) -> None:
    published = (SCHEMA_DIR / name).read_text(encoding="utf-8")
    assert published == render(SCHEMAS[name]), (
        f"schemas/{name} is stale: run python -m edi_bridge.schemas schemas"
    )


def test_counterparty_schema_lists_exactly_the_documented_fields() -> None:
    schema = json.loads((SCHEMA_DIR / "counterparty.schema.json").read_text(encoding="utf-8"))
    assert set(schema["properties"]) == set(sample_counterparty_data())
    assert schema["additionalProperties"] is False
