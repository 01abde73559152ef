"""The editorial back office, one module per area (imported here so admin autodiscovery
registers them all)."""

from . import core  # noqa: F401
