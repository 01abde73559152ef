"""The editorial back office, one module per area (imported here so admin autodiscovery
registers them all)."""

from . import (
    comments,  # noqa: F401
    core,  # noqa: F401
)
