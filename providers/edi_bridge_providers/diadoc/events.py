"""Former name of :mod:`.feed` (the event feed), kept so existing imports keep working."""

from .feed import *  # noqa: F403
from .feed import __all__  # noqa: F401
