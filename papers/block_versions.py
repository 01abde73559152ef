"""The versions in the cache keys of the papers' blocks (papers/fragments.py) and list rows
(papers/views/reading.py).

A block is cached under its entry's ``block_version``, a counter raised with one
``UPDATE … SET block_version = block_version + 1`` by every change the block shows: the
entry's own fields, its sections, figures and tags, its paper (and the paper's cross-lists),
its digest's date, slug (in the links) and title (in list rows). The UPDATE runs in the
transaction of the change, after it, so a reader who sees the new counter also sees the
new rows, and one who rendered the old rows stored them under the old counter. An edit
therefore re-renders that one block; the other papers of the digest stay cached.

What many blocks show at once and rarely changes (a category, a section kind or a tag
renamed) replaces one token instead, ``content_cache.blocks_version()``, kept in the page
store beside the content version: every block is rendered again. So does a row loaded raw
(``loaddata``, ``import_site``): it carries counters from another database, which may be
lower than ones already used here.

The digest's own tag names, cached with the blocks, have ``Digest.tags_version``.

Receivers only maintain these counters (derived data); ``.update()`` sends no signal, so
they never call each other. Writes that send no signal (``bulk_create``, ``bulk_update``,
``QuerySet.update``) call ``bump_entries`` themselves where they change a shown row of an
existing entry. Site settings are not in any block.
"""

from django.db.models import F, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save

from .content_cache import bump_blocks_version

# The fields whose saves change what a block shows (a save naming only other fields, such
# as a paper's arXiv snapshot or a digest's status, leaves the blocks alone; the preview
# state is a flag of the key).
ENTRY_SHOWN = frozenset({"digest", "digest_id", "paper", "paper_id", "position", "title_zh"})
PAPER_SHOWN = frozenset(
    {
        "arxiv_id",
        "title",
        "authors",
        "affiliations",
        "abstract",
        "primary_category",
        "primary_category_id",
    }
)
# The links, and the title (list rows name their digest: papers/views/reading.py).
DIGEST_SHOWN = frozenset({"issue_date", "slug", "title"})


def bump_entries(entries) -> None:
    """Raise the block counter of ``entries`` (a queryset of entries, or ids) in one
    UPDATE, in the current transaction."""
    from .models import Entry

    if not isinstance(entries, QuerySet):
        ids = list(entries)
        if not ids:
            return
        entries = Entry.objects.filter(pk__in=ids)
    entries.update(block_version=F("block_version") + 1)


def bump_digest_tags(digest_ids) -> None:
    from .models import Digest

    ids = list(digest_ids)
    if ids:
        Digest.objects.filter(pk__in=ids).update(tags_version=F("tags_version") + 1)


def _shows(update_fields, shown) -> bool:
    return update_fields is None or bool(shown & set(update_fields))


def _entry_saved(sender, instance, created=False, raw=False, update_fields=None, **kwargs):
    if raw:
        bump_blocks_version()
    elif not created and _shows(update_fields, ENTRY_SHOWN):
        bump_entries([instance.pk])


def _part_changed(sender, instance, raw=False, **kwargs):
    """A section or figure saved or deleted."""
    if raw:
        bump_blocks_version()
    else:
        bump_entries([instance.entry_id])


def _entry_tag_changed(sender, instance, raw=False, **kwargs):
    if raw:
        bump_blocks_version()
    else:
        bump_entries([instance.content_object_id])


def _tags_m2m(model_name: str, bump):
    """A receiver of taggit's add()/remove()/set()/clear() on an entry's or a digest's tags
    (their through rows send their own post_save/post_delete too; this also covers deletes
    that skip them): ``bump`` the owners' counters."""

    def receiver(sender, instance, action, pk_set=None, **kwargs):
        if action not in ("post_add", "post_remove", "post_clear"):
            return
        if type(instance).__name__ == model_name:
            bump([instance.pk])
        elif pk_set:  # tag.<items>.add(...): the owners are pk_set
            bump(pk_set)
        else:  # a tag's items cleared: which owners had it is gone
            bump_blocks_version()

    return receiver


# Module-level: signals keep weak references to their receivers.
_entry_tags_m2m = _tags_m2m("Entry", bump_entries)
_digest_tags_m2m = _tags_m2m("Digest", bump_digest_tags)


def _paper_saved(sender, instance, created=False, raw=False, update_fields=None, **kwargs):
    from .models import Entry

    if raw:
        bump_blocks_version()
    elif not created and _shows(update_fields, PAPER_SHOWN):
        bump_entries(Entry.objects.filter(paper_id=instance.pk))


def _paper_categories_m2m(sender, instance, action, reverse=False, pk_set=None, **kwargs):
    """Cross-lists (on the entry page's block)."""
    from .models import Entry

    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        bump_entries(Entry.objects.filter(paper_id=instance.pk))
    elif pk_set:  # category.cross_listed_papers.add(...)
        bump_entries(Entry.objects.filter(paper_id__in=list(pk_set)))
    else:  # a category's cross-lists cleared: which papers had them is gone
        bump_blocks_version()


def _digest_saved(sender, instance, created=False, raw=False, update_fields=None, **kwargs):
    from .models import Entry

    if raw:
        bump_blocks_version()
    elif not created and _shows(update_fields, DIGEST_SHOWN):
        bump_entries(Entry.objects.filter(digest_id=instance.pk))


def _digest_tag_changed(sender, instance, raw=False, **kwargs):
    if raw:
        bump_blocks_version()
    else:
        bump_digest_tags([instance.content_object_id])


def _shared_row_changed(sender, instance=None, created=False, **kwargs):
    """A category, section kind or tag renamed or deleted: its name is in many blocks. A
    new one is in none yet."""
    if not created:
        bump_blocks_version()


def connect_receivers() -> None:
    """Called from ``PapersConfig.ready``."""
    from taggit.models import Tag

    from .models import (
        Category,
        Digest,
        Entry,
        Figure,
        Paper,
        Section,
        SectionKind,
        TaggedDigest,
        TaggedEntry,
    )

    def connect(signal, receiver, sender, name):
        uid = f"block-version-{name}-{sender._meta.label_lower}"
        signal.connect(receiver, sender=sender, dispatch_uid=uid)

    connect(post_save, _entry_saved, Entry, "save")
    connect(post_save, _paper_saved, Paper, "save")
    connect(post_save, _digest_saved, Digest, "save")
    for signal, name in ((post_save, "save"), (post_delete, "delete")):
        for model in (Section, Figure):
            connect(signal, _part_changed, model, name)
        connect(signal, _entry_tag_changed, TaggedEntry, name)
        connect(signal, _digest_tag_changed, TaggedDigest, name)
        for model in (Category, SectionKind, Tag):
            connect(signal, _shared_row_changed, model, name)
    connect(m2m_changed, _entry_tags_m2m, TaggedEntry, "m2m")
    connect(m2m_changed, _digest_tags_m2m, TaggedDigest, "m2m")
    connect(m2m_changed, _paper_categories_m2m, Paper.categories.through, "m2m")
