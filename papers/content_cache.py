"""Server-side caching of public responses that is never stale.

Every cached response is keyed by the *content version*, a token that changes whenever
anything a reader can see changes (the signal receivers below bump it), and it lives no
longer than the next scheduled go-live or expiry (``workflow.cache_seconds``). A publish,
unpublish, edit, rename or scheduled change therefore shows on the very next request, on
every app server sharing the cache (Redis), without anyone having to find and delete keys.
"""

import hashlib
import uuid

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import get_language

VERSION_KEY = "papers:content-version"


def content_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(VERSION_KEY, version, timeout=None):
            version = cache.get(VERSION_KEY) or version
    return version


def bump_content_version(**kwargs) -> None:
    """Signal receiver (derived data only): whatever readers saw before is out of date."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def cached_response(request, render, *, prefix: str, limit: int):
    """``render()``'s response for this URL and language, from the cache when the content
    has not changed since. Only 200 responses are stored."""
    from .workflow import cache_seconds

    path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    key = f"{prefix}:{content_version()}:{get_language()}:{path}"
    response = cache.get(key)
    if response is None:
        response = render()
        if response.status_code == 200:
            timeout = cache_seconds(limit)
            if timeout > 0:
                cache.set(key, response, timeout)
    return response


def connect_receivers() -> None:
    """Called from ``PapersConfig.ready``: every model whose rows readers can see."""
    from taggit.models import Tag

    from .models import (
        Category,
        Digest,
        Entry,
        EntrySearch,
        Figure,
        Paper,
        Section,
        SectionKind,
        SiteSettings,
        TaggedDigest,
        TaggedEntry,
    )

    visible = (Category, Digest, Entry, EntrySearch, Figure, Paper, Section, SectionKind)
    for model in (*visible, SiteSettings, TaggedDigest, TaggedEntry, Tag):
        uid = f"content-version-{model._meta.label_lower}"
        post_save.connect(bump_content_version, sender=model, dispatch_uid=uid + "-save")
        post_delete.connect(bump_content_version, sender=model, dispatch_uid=uid + "-delete")
    for through in (Paper.categories.through, TaggedDigest, TaggedEntry):
        m2m_changed.connect(
            bump_content_version,
            sender=through,
            dispatch_uid=f"content-version-m2m-{through._meta.label_lower}",
        )
