"""Receivers that keep the search rows (derived data) in step with the content they copy.
They make no editorial decision and touch no cache."""

from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from taggit.models import Tag

from papers.models import Category, Digest, Entry, Paper, Section, TaggedEntry
from reading.models import EntrySearch
from reading.search import refresh_entries, sync_entry_state


def _refresh(entry_ids):
    refresh_entries(entry_ids)


@receiver(post_save, sender=Entry, dispatch_uid="reading-entry-saved")
def _entry_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _refresh([instance.pk])


@receiver(post_delete, sender=Entry, dispatch_uid="reading-entry-deleted")
def _entry_deleted(sender, instance, **kwargs):
    # Deleting an entry cascades to its sections first, and each section's post_delete
    # rebuilds the entry's search row while the entry still exists; remove that row again
    # once the entry itself is gone (the database would otherwise keep a dangling key).
    EntrySearch.objects.filter(entry_id=instance.pk).delete()


@receiver(post_save, sender=Section, dispatch_uid="reading-section-saved")
@receiver(post_delete, sender=Section, dispatch_uid="reading-section-deleted")
def _section_changed(sender, instance, raw=False, **kwargs):
    if not raw and Entry.objects.filter(pk=instance.entry_id).exists():
        _refresh([instance.entry_id])


@receiver(post_save, sender=Paper, dispatch_uid="reading-paper-saved")
def _paper_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _refresh(instance.entries.values_list("pk", flat=True))


@receiver(m2m_changed, sender=Paper.categories.through, dispatch_uid="reading-paper-cats")
def _paper_categories_changed(sender, instance, action, pk_set=None, reverse=False, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if reverse:  # category.cross_listed_papers.add(...)
        papers = Paper.objects.filter(pk__in=pk_set or ())
    else:
        papers = [instance]
    _refresh(Entry.objects.filter(paper__in=papers).values_list("pk", flat=True))


@receiver(m2m_changed, sender=TaggedEntry, dispatch_uid="reading-entry-tags-m2m")
def _entry_tags_m2m(sender, instance, action, **kwargs):
    # taggit's set()/add()/remove() on an entry; clear() deletes through rows in bulk.
    if action in ("post_add", "post_remove", "post_clear") and isinstance(instance, Entry):
        _refresh([instance.pk])


def _tagged_entry_ids(tag) -> list[int]:
    return list(TaggedEntry.objects.filter(tag=tag).values_list("content_object_id", flat=True))


def _origin_model(origin):
    """The model a deletion started from (Django's ``origin``: an instance or a queryset)."""
    return getattr(origin, "model", None) or type(origin)


@receiver(post_delete, sender=TaggedEntry, dispatch_uid="reading-entry-tag-deleted")
def _entry_tag_deleted(sender, instance, origin=None, **kwargs):
    # A through row deleted by itself (the admin, a queryset's delete()). Deleting its tag
    # refreshes every entry of the tag at once (``_tag_deleted``), and an entry or digest
    # being deleted takes its search rows with it.
    if _origin_model(origin) is TaggedEntry:
        _refresh([instance.content_object_id])


# Renaming or deleting a tag or a category refreshes all its entries, in chunks
# (``refresh_entries`` runs five queries a chunk, with a parameter per id).
_REFRESH_CHUNK = 500


def _refresh_all(ids) -> None:
    ids = list(ids)
    for start in range(0, len(ids), _REFRESH_CHUNK):
        _refresh(ids[start : start + _REFRESH_CHUNK])


def _remember_searched(instance, fields) -> None:
    """pre_save: the searched fields of the row as stored, so that post_save refreshes the
    entries only when one of them changed (the admin saves unchanged rows too)."""
    if instance.pk is None:
        instance._reading_before = None
        return
    row = type(instance).objects.filter(pk=instance.pk).values(*fields).first()
    instance._reading_before = row


def _changed(instance, fields) -> set[str]:
    before = getattr(instance, "_reading_before", None)
    if before is None:
        return set(fields)
    return {name for name in fields if before[name] != getattr(instance, name)}


# The tag's name is in its entries' search text (its facet is its primary key).
_TAG_SEARCHED = ("name", "slug")  # the name is searched; both are in the facet names


@receiver(pre_save, sender=Tag, dispatch_uid="reading-tag-saving")
def _tag_saving(sender, instance, raw=False, **kwargs):
    if not raw:
        _remember_searched(instance, _TAG_SEARCHED)


@receiver(post_save, sender=Tag, dispatch_uid="reading-tag-renamed")
def _tag_saved(sender, instance, created=False, raw=False, **kwargs):
    if not raw and not created and _changed(instance, _TAG_SEARCHED):
        _refresh_all(_tagged_entry_ids(instance))


# A tag's deletion takes its through rows with it (a cascade): its entries, read before,
# lose its name and facet after.


@receiver(pre_delete, sender=Tag, dispatch_uid="reading-tag-deleting")
def _tag_deleting(sender, instance, **kwargs):
    instance._reading_entry_ids = _tagged_entry_ids(instance)


@receiver(post_delete, sender=Tag, dispatch_uid="reading-tag-deleted")
def _tag_deleted(sender, instance, **kwargs):
    _refresh_all(getattr(instance, "_reading_entry_ids", []))


# The search text holds the primary category's code and name and the cross-lists' codes
# (``document_for``).
_CATEGORY_SEARCHED = ("code", "name")


@receiver(pre_save, sender=Category, dispatch_uid="reading-category-saving")
def _category_saving(sender, instance, raw=False, **kwargs):
    if not raw:
        _remember_searched(instance, _CATEGORY_SEARCHED)


@receiver(post_save, sender=Category, dispatch_uid="reading-category-renamed")
def _category_saved(sender, instance, created=False, raw=False, **kwargs):
    if raw or created:
        return
    changed = _changed(instance, _CATEGORY_SEARCHED)
    if not changed:
        return
    shown = models.Q(paper__primary_category=instance)
    if "code" in changed:
        shown |= models.Q(paper__categories=instance)
    _refresh_all(Entry.objects.filter(shown).values_list("pk", flat=True).distinct())


# The digest fields copied into the search rows of its entries (reading/search.py).
_DIGEST_COPIED_FIELDS = frozenset({"issue_date", "status", "published_at", "expires_at"})


@receiver(post_save, sender=Digest, dispatch_uid="reading-digest-saved")
def _digest_saved(sender, instance, created=False, raw=False, update_fields=None, **kwargs):
    # Publish, unpublish, schedule, archive, restore, a new issue date: one UPDATE copies
    # the digest's state into its entries' search rows. A new digest has no entries yet;
    # a save that names only other fields (a view count, the summary) changes no copy.
    if raw or created:
        return
    if update_fields is not None and not _DIGEST_COPIED_FIELDS & set(update_fields):
        return
    sync_entry_state(digest_ids=[instance.pk])
