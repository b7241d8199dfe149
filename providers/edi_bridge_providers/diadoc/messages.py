"""Former name of :mod:`.wire` (request bodies), kept so existing imports keep working."""

from .wire import *  # noqa: F403
from .wire import __all__  # noqa: F401
