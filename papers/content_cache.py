"""The content version: a token replaced whenever anything a reader can see changes.

The page cache (papers/page_cache.py) puts it in every key, so a publish, unpublish, edit,
rename or settings change shows on the very next request, on every app server sharing the
cache (Redis), without anyone having to find and delete keys. The signal receivers below
replace it; comment threads have their own per-target version (``page_cache.bump_comments``)
so that moderating one thread re-renders only the pages showing it.
"""

import hashlib
import time
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

STORE = "pages"


def _database_tag() -> str:
    """Which database the versions describe. Every cached page, count, row and block is keyed
    by a version, so with this in the versions' own keys nothing rendered from one database
    is ever served for another sharing the store (the development server and the
    benchmark's databases share var/; so may two sites sharing one Redis)."""
    db = connection.settings_dict
    where = f"{connection.vendor}:{db.get('HOST') or ''}:{db.get('PORT') or ''}:{db['NAME']}"
    return hashlib.sha256(where.encode()).hexdigest()[:12]


def version_key() -> str:
    return f"papers:content-version:{_database_tag()}"


def blocks_version_key() -> str:
    # The papers' cached blocks (papers/fragments.py) have a per-entry counter of their own;
    # this token only changes with what many blocks show at once (papers/block_versions.py).
    return f"papers:blocks-version:{_database_tag()}"


def store():
    """The cache holding pages and versions. It must be shared by every process serving the
    site, or one process would keep serving what another has invalidated: Redis when
    REDIS_URL is set (the default cache), else a file cache under VAR_DIR (the ``pages``
    alias; the settings define it); a single-process setup (tests) may use the default."""
    return caches[STORE] if STORE in settings.CACHES else caches["default"]


def _new_version() -> str:
    # The token, then when it was made: the page cache's Last-Modified starts there.
    return f"{uuid.uuid4().hex}:{time.time():.6f}"


def content_version_info(known: str | None = None) -> tuple[str, float]:
    """(the content version, the time it was made). ``known``: the stored value, when the
    caller has already read ``version_key()`` (with other keys, in one round trip)."""
    version = known if known is not None else store().get(version_key())
    if version is None:
        version = _new_version()
        if not store().add(version_key(), version, timeout=None):
            version = store().get(version_key()) or version
    _token, _sep, made = version.partition(":")
    try:
        return version, float(made)
    except ValueError:  # a token of an older format
        return version, 0.0


def content_version() -> str:
    return content_version_info()[0]


def _set_new_version() -> None:
    store().set(version_key(), _new_version(), timeout=None)


def bump_content_version(**kwargs) -> None:
    """Signal receiver (derived data only): whatever readers saw before is out of date.

    The version changes at once *and again after the commit*: a reader who rendered the
    page between the save and the commit saw the old rows, and must not have stored them
    under the version that follows the change."""
    _set_new_version()
    transaction.on_commit(_set_new_version)


def _token(key: str) -> str:
    """The random token stored under ``key``, made by the first reader that finds none
    (``add``: two racing readers agree on one)."""
    version = store().get(key)
    if version is None:
        version = uuid.uuid4().hex
        if not store().add(key, version, timeout=None):
            version = store().get(key) or version
    return version


def blocks_version() -> str:
    """The token of every paper block's cache key: replaced only by a change many blocks
    show (a category, section kind or tag renamed, rows loaded raw), see
    papers/block_versions.py. Read it *before* loading the entries whose blocks it keys."""
    return _token(blocks_version_key())


def _replace_token(key: str) -> None:
    store().set(key, uuid.uuid4().hex, timeout=None)


def _set_new_blocks_version() -> None:
    _replace_token(blocks_version_key())


def bump_blocks_version() -> None:
    """Every cached block is out of date: now and again after the commit, for the reason
    given in ``bump_content_version``."""
    _now_and_after_commit(_set_new_blocks_version)


def digests_version_key() -> str:
    # What the digests' own rows say (title, slug, date, state, schedule): the neighbour
    # links of each digest page are keyed by it (papers/views/core.py: ``neighbours``), so
    # an edit of an entry, a section or a tag, which replaces the content version, does not
    # make every digest page look its neighbours up again.
    return f"papers:digests-version:{_database_tag()}"


def digests_version() -> str:
    return _token(digests_version_key())


def _set_new_digests_version() -> None:
    _replace_token(digests_version_key())


def bump_digests_version(**kwargs) -> None:
    """Signal receiver: a digest was saved or deleted (now and after the commit, for the
    reason given in ``bump_content_version``)."""
    _now_and_after_commit(_set_new_digests_version)


def _now_and_after_commit(action) -> None:
    # At once, for this transaction's own later reads; again after the commit, for readers
    # who rendered the committed (old) rows in between.
    action()
    transaction.on_commit(action)


def _thread(comment) -> str:
    if comment.entry_id:
        return f"entry:{comment.entry_id}"
    return f"digest:{comment.digest_id}"


def _comment_saved(sender, instance, created, **kwargs) -> None:
    """Any change readers may see re-renders the pages of its thread; a new comment that
    waits for moderation changes nothing they see (a spam flood flushes nothing)."""
    from .page_cache import bump_comments

    if created and instance.status == "pending":
        return
    target = _thread(instance)
    _now_and_after_commit(lambda: bump_comments(target))


def _comment_deleted(sender, instance, **kwargs) -> None:
    from .page_cache import bump_comments

    if instance.status == "approved":
        target = _thread(instance)
        _now_and_after_commit(lambda: bump_comments(target))


def _closure_changed(sender, instance, **kwargs) -> None:
    """Closing or reopening comments changes the form on the digest and its papers."""
    from .models import Entry
    from .page_cache import bump_comments

    digest_id = instance.digest_id
    entries = list(Entry.objects.filter(digest_id=digest_id).values_list("pk", flat=True))
    targets = [f"digest:{digest_id}", *(f"entry:{pk}" for pk in entries)]

    def bump():
        for target in targets:
            bump_comments(target)

    _now_and_after_commit(bump)


def connect_receivers() -> None:
    """Called from ``PapersConfig.ready``: every model whose rows readers can see."""
    from taggit.models import Tag

    from .models import (
        Category,
        Comment,
        CommentClosure,
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
    post_save.connect(bump_digests_version, sender=Digest, dispatch_uid="digests-version-save")
    post_delete.connect(bump_digests_version, sender=Digest, dispatch_uid="digests-version-delete")
    post_save.connect(_comment_saved, sender=Comment, dispatch_uid="pagecache-comment-save")
    post_delete.connect(_comment_deleted, sender=Comment, dispatch_uid="pagecache-comment-delete")
    for signal in (post_save, post_delete):
        signal.connect(
            _closure_changed,
            sender=CommentClosure,
            dispatch_uid=f"pagecache-closure-{signal is post_save}",
        )
