"""The editorial back office, one module per area (imported here so admin autodiscovery
registers them all)."""

from . import comments as comments  # noqa: F401
from . import core  # noqa: F401
from .importing import import_digest_view  # noqa: F401
