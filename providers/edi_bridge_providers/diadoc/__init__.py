"""Kontur.Diadoc: the adapter over the Diadoc HTTP API (JSON), and its fake.

Configuration keys (section ``diadoc``, env ``EDI_BRIDGE_DIADOC_*``) are read by
:class:`DiadocSettings`; the fake operator lives in :mod:`.fake`.
"""

import sys

from . import feed, wire
from .adapter import DiadocProvider
from .auth import OidcAuth, PasswordAuth
from .client import DiadocClient
from .errors import map_error
from .settings import HOSTS, DiadocSettings
from .wire import custom_document_id, operation_id

# The former names of the feed and wire modules keep working for existing imports.
sys.modules[f"{__name__}.events"] = feed
sys.modules[f"{__name__}.messages"] = wire

__all__ = [
    "HOSTS",
    "DiadocClient",
    "DiadocProvider",
    "DiadocSettings",
    "OidcAuth",
    "PasswordAuth",
    "custom_document_id",
    "map_error",
    "operation_id",
]
