"""The one door between a change readers can see and the caches.

Whatever writes content (editorial services, the admin, the importer, arXiv updates, comment
moderation, management commands) calls ``content_changed()`` once per change; after the
commit, every cached page is out of date (a new page-cache generation). Papers' blocks and
list rows are template fragments keyed by what they show (ids and update times, readable in
the templates), so they need no invalidation, except for names many of them show at once:
a category, section kind or tag renamed passes ``names=True``, which replaces
``names_version()``, a token in those fragment keys. A rolled-back change announces nothing.

Data derived from the content in the background (reading's related papers) follows it the
same way: an app registers a follower (``follow_changes``) that each change calls, inside the
change's transaction, to enqueue its work on commit. The work, once written, announces itself
with ``derived=True``, which invalidates the caches and calls no follower again.
"""

import uuid
from collections.abc import Callable

from django.db import transaction

from pagecache import store as pages

NAMES_KEY = "papers:names-version"

_followers: list[Callable[[], None]] = []


def follow_changes(follower: Callable[[], None]) -> None:
    """Call ``follower()`` on every ``content_changed()`` but the derived ones (an app's
    ``ready()``: the callables are code, registered once, never data)."""
    if follower not in _followers:
        _followers.append(follower)


def content_changed(*, names: bool = False, derived: bool = False) -> None:
    """Announce a change readers can see; takes effect after the current transaction commits
    (at once outside one). ``derived``: the change is to data a follower derived from the
    content (related papers), so no follower is called."""
    transaction.on_commit(lambda: _invalidate(names=names), robust=True)
    if not derived:
        for follower in _followers:
            follower()


def _invalidate(*, names: bool) -> None:
    if names:
        pages.safely(
            lambda: pages.store().set(NAMES_KEY, uuid.uuid4().hex, None), what="names version"
        )
    pages.invalidate()


def names_version() -> str:
    """The token in the fragment keys of papers' blocks and list rows that changes when a
    name many of them show is renamed (a fresh one per request while the store cannot be
    read: blocks are then rendered afresh, never served under an older name)."""
    value = pages.safely(lambda: pages.store().get(NAMES_KEY), what="names version")
    if value is None:
        value = uuid.uuid4().hex
        if not pages.safely(lambda: pages.store().add(NAMES_KEY, value, None), what="names"):
            value = pages.safely(lambda: pages.store().get(NAMES_KEY), what="names") or value
    return value
