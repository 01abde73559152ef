from django.core.cache import cache

from papers.changes import names_version
from papers.models import SiteSettings


def site(request):
    """The site settings on every page, kept in the cache until a change of names (a save of
    the settings announces one: papers/changes.py)."""
    key = f"papers:site-settings:{names_version()}"
    row = cache.get(key)
    if row is None:
        row = SiteSettings.load()
        cache.set(key, row, 3600)
    return {"site": row}
