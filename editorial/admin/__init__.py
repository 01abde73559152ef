"""The editorial back office, one module per area (imported here so admin autodiscovery
registers them all)."""

from editorial.admin import core  # noqa: F401
from editorial.admin.importing import import_digest_view  # noqa: F401
