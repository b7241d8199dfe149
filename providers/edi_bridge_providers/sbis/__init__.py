"""SBIS (Saby, operator 2BE) over its JSON-RPC API, with a loopback fake."""

from .adapter import SbisProvider, SbisRoute
from .client import SbisClient
from .settings import SbisSettings

__all__ = ["SbisClient", "SbisProvider", "SbisRoute", "SbisSettings"]
