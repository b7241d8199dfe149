"""Masking secrets in JSON-like values and text before they are logged, recorded or shown.

It lives in the core so adapters' error mappers, the recorder of the fakes and the CLI
share one rule without importing the fake servers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_SECRET_KEY_RE = re.compile(
    r"pass(word)?|secret|token|ddauth|authorization|пароль|session|cookie|api[_-]?key",
    re.IGNORECASE,
)
_SECRET_TEXT_RE = re.compile(
    r"((?:pass(?:word)?|secret|token|ddauth_token|client_secret|refresh_token|пароль)"
    r'["\']?\s*[:=]\s*["\']?)([^"\'&,\s}]+)',
    re.IGNORECASE,
)
MASK = "***"


def mask_secrets(value: Any) -> Any:
    """A copy of a JSON-like value with secret-looking fields masked."""
    if isinstance(value, Mapping):
        return {
            k: (MASK if _SECRET_KEY_RE.search(str(k)) else mask_secrets(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    if isinstance(value, str):
        return _SECRET_TEXT_RE.sub(lambda m: m.group(1) + MASK, value)
    return value
