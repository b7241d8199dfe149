"""The client's tolerant check answers exactly as the full reading of the model does."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from edi_bridge_providers.diadoc.conformance import _fits, differences, require

from edi_bridge.errors import ProviderError

from .test_wire_fidelity import BODIES, recorded_run


def _variants(body: Any) -> Iterator[Any]:
    """The body, then each field of each object in it removed or given a wrong type."""
    yield body
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append((node, key))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(body)
    for node, key in paths:
        original = node[key]
        for replacement in (None, 12.5, [], {"x": 1}, "text", True):
            node[key] = replacement
            yield copy.deepcopy(body)
        node[key] = original


def test_fast_check_agrees_with_the_model_on_recorded_and_broken_bodies(tmp_path: Path) -> None:
    checked = 0
    for line in recorded_run(tmp_path):
        _request_model, answer_model = BODIES.get((line["method"], line["path"]), (None, None))
        if not answer_model or line["status"] != 200:
            continue
        for body in _variants(copy.deepcopy(line["response"])):
            expected = not differences(body, answer_model, strict=False)
            assert _fits(body, answer_model) is expected, (answer_model, body)
            checked += 1
    assert checked > 100


def test_a_broken_answer_still_names_the_field() -> None:
    with pytest.raises(ProviderError, match=r"Events\[1\]\.EventId: required"):
        require(
            {"Events": [{"EventId": "a"}, {"IndexKey": "k"}], "TotalCountType": "Equal"},
            "BoxEventList",
        )
