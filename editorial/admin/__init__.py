"""The editorial back office, one module per area (imported here so admin autodiscovery
registers them all)."""

import axes.admin  # noqa: F401  (axes comes after editorial in INSTALLED_APPS: registered now)
from django.contrib import admin

from editorial.admin import core  # noqa: F401
from editorial.admin.importing import import_digest_view  # noqa: F401
from editorial.admin.lookups import guard_every_admin

# Last: every list of the site, ours, the comments' and the libraries', refuses bad lookups.
guard_every_admin(admin.site)
