"""Reading the site: the derived search row of each entry, and the signals that keep it
current. Everything here can be rebuilt from the editorial data
(``manage.py rebuild_search``); nothing here is edited by hand."""

from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from taggit.models import Tag

from .core import Category, Digest, Entry, Paper, Section, TaggedEntry


class EntrySearch(models.Model):
    """The searchable text of one entry, in term form (see papers/search.py): title terms
    (English and Chinese titles, one-line summary) rank above body terms (critique, abstract,
    authors, affiliations, tags, categories). ``facets`` lists the entry's tags and categories
    as terms, so tag and category filters run on an index too. On PostgreSQL generated,
    GIN-indexed ``search_vector`` and ``facet_vector`` columns (migration 0003) are computed
    from them."""

    entry = models.OneToOneField(
        Entry, on_delete=models.CASCADE, primary_key=True, related_name="search"
    )
    title_terms = models.TextField(blank=True)
    body_terms = models.TextField(blank=True)
    summary = models.TextField(
        blank=True, help_text=_("The one-line summary as plain text (lists, descriptions).")
    )
    plain = models.TextField(blank=True, help_text=_("Plain critique and abstract, for snippets."))
    facets = models.TextField(
        blank=True, help_text=_("Facet terms: t<id> per tag, c<id> per category (primary, cross).")
    )
    # Copies, so that a list or search page reads this one narrow table: the sort key (the
    # digest's issue date, the digest, the entry's position) and the digest's publication
    # state. Visibility itself is still decided at read time (``visible_q``): a scheduled
    # digest goes live, and an expired one disappears, without anything being written.
    issue_date = models.DateField(null=True, editable=False)
    digest_pk = models.BigIntegerField(null=True, editable=False)
    position = models.PositiveSmallIntegerField(default=0, editable=False)
    status = models.CharField(max_length=16, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, editable=False)
    expires_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        verbose_name = _("entry search text")
        verbose_name_plural = _("entry search texts")
        indexes = [
            # The lists' order: a page is one walk of this index (newest first).
            models.Index(
                fields=["-issue_date", "-digest_pk", "position"], name="entrysearch_sort_idx"
            ),
        ]

    def __str__(self):
        return f"search text of entry {self.entry_id}"


class EntryFacets(models.Model):
    """PostgreSQL only: a narrow copy of each search row's facets and publication state,
    kept by a trigger on the search table (migration 0014), so that the capped count of a
    list filtered by tags or categories reads ~120 rows per page instead of ~6.

    The search table is wide (1.3 KB a row: titles, summary, the title vector inline), so
    the 1,001 rows a capped count must visit for a common tag lie on 440–660 pages, and
    the GIN bitmap of a tag on a third of 100,000 entries spans 17,000 pages: 7–9 ms. On
    this table the same count takes 2–4 ms. Unmanaged: the migration creates it (with its
    GIN index and trigger) on PostgreSQL only, and nothing writes to it from Python. On
    SQLite the table does not exist and the count uses the FTS5 index
    (``EntryFilter.count_rows`` in papers/filters.py decides)."""

    entry = models.OneToOneField(
        Entry, on_delete=models.DO_NOTHING, primary_key=True, related_name="+", db_constraint=False
    )
    issue_date = models.DateField(null=True)
    digest_pk = models.BigIntegerField(null=True)
    status = models.CharField(max_length=16)
    published_at = models.DateTimeField(null=True)
    expires_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = "papers_entryfacets"

    def __str__(self):
        return f"facets of entry {self.entry_id}"


# Signals only maintain this derived row; they make no editorial decision.


def _refresh(entry_ids):
    from ..search import refresh_entries

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
_TAG_SEARCHED = ("name",)


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


# The digest fields copied into the search rows of its entries (papers/search.py).
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
    from ..search import sync_entry_state

    sync_entry_state(digest_ids=[instance.pk])
