"""JSON Schemas of the documents edi-bridge reads and writes.

``schemas/`` in the repository holds the generated files, for backends in
other languages; ``python -m edi_bridge.schemas schemas`` regenerates them and a
test fails when they drift from the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .closing.inputs import BatchLine, UpdInput
from .closing.model import Seller
from .models import Counterparty, Document, Event

SCHEMAS: dict[str, type[BaseModel]] = {
    "counterparty.schema.json": Counterparty,
    "document.schema.json": Document,
    "event.schema.json": Event,
    "closing-upd.schema.json": UpdInput,
    "closing-batch-line.schema.json": BatchLine,
    "closing-seller.schema.json": Seller,
}


def render(model: type[BaseModel]) -> str:
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **model.model_json_schema(mode="validation"),
    }
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in SCHEMAS.items():
        path = directory / name
        path.write_text(render(model), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")):
        print(path)
