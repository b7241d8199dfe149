"""Where the public reference data (FNS schemas, Russian Post WSDL) is found.

It is read in place, never copied into the project: from the directory named by
``EDI_BRIDGE_REFERENCE_DIR``, else from a ``shared/`` directory beside the
checkout or beside any folder above it. Tests that need it skip, saying where they
looked, when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def reference_dir(name: str) -> Path | None:
    candidates = []
    if os.environ.get("EDI_BRIDGE_REFERENCE_DIR"):
        candidates.append(Path(os.environ["EDI_BRIDGE_REFERENCE_DIR"]) / name)
    candidates += [folder / "shared" / name for folder in REPO.parents]
    return next((c for c in candidates if c.is_dir()), None)


def require_reference(name: str) -> Path:
    found = reference_dir(name)
    if found is None:
        pytest.skip(
            f"reference data '{name}' not found: set EDI_BRIDGE_REFERENCE_DIR to the "
            "directory that holds it (the shared/ folder beside the checkout)"
        )
    return found
