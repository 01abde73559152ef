"""Reading the site: the derived search row of each entry (kept current by
reading/signals.py). Everything here can be rebuilt from the editorial data
(``manage.py rebuild_search``); nothing here is edited by hand."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from papers.models import Entry


class EntrySearch(models.Model):
    """The searchable text of one entry, in term form (see reading/search.py): title terms
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
    # What the facet counts of a list show, read with its capped count (reading/facets.py):
    # one line per value, tab-separated: ``t12, slug, name`` per tag, ``c7, code`` per
    # category, ``a, name`` per affiliation. Copied to ``EntryFacets`` on PostgreSQL.
    facet_names = models.TextField(blank=True, default="", editable=False)
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
        db_table = "papers_entrysearch"
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
    (``EntryFilter.count_rows`` in reading/filters.py decides)."""

    entry = models.OneToOneField(
        Entry, on_delete=models.DO_NOTHING, primary_key=True, related_name="+", db_constraint=False
    )
    issue_date = models.DateField(null=True)
    digest_pk = models.BigIntegerField(null=True)
    status = models.CharField(max_length=16)
    published_at = models.DateTimeField(null=True)
    expires_at = models.DateTimeField(null=True)
    facet_names = models.TextField(blank=True, default="")

    class Meta:
        db_table = "papers_entryfacets"
        managed = False

    def __str__(self):
        return f"facets of entry {self.entry_id}"


class RelatedEntry(models.Model):
    """One paper in another's list of related papers (``kind`` empty: by the whole entry;
    else by that critique section, "similar 不足"), at ``rank`` 1, 2, … Derived data,
    computed in the background by reading/related.py from the entries of published and
    archived digests (scheduled and expired ones too: pages test visibility when they read
    the list, so a digest going live or expiring needs no recomputation). A few more than
    pages show are kept, so that an entry hidden later leaves its place to the next one."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="related_rows")
    related = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="+")
    kind = models.ForeignKey(
        "papers.SectionKind", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    score = models.FloatField()
    rank = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name = _("related paper")
        verbose_name_plural = _("related papers")
        indexes = [
            # A page reads one entry's list of one kind (the entry page, a section row).
            models.Index(fields=["entry", "kind", "rank"], name="related_entry_kind_idx"),
            # Rows that point at an entry (its deletion cascades through them).
            models.Index(fields=["related"], name="related_related_idx"),
        ]

    def __str__(self):
        return f"{self.entry_id} → {self.related_id} ({self.kind_id or '-'}, {self.rank})"


class RelatedCorpus(models.Model):
    """The one row saying from what content the related lists were last computed: a
    fingerprint of the archive (reading/related.py), so that a change of something else
    (a comment approved) costs the background task one query and no recomputation."""

    fingerprint = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    documents = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    # The base an incremental refresh builds on: bumped by every write, so a refresh that
    # read an older base computes again (reading/related.py, ``refresh``).
    generation = models.PositiveIntegerField(default=0)
    # What the stored documents were computed with (version, section kinds, sizes): another
    # computation needs a full recomputation.
    computation = models.CharField(max_length=64, blank=True)
    # Document frequencies, JSON: {"" or section kind id: {"n": documents, "df": {term: n}}}.
    frequencies = models.TextField(blank=True)
    full_at = models.DateTimeField(null=True)
    full_documents = models.PositiveIntegerField(default=0)  # the corpus at the last full run
    changed_since_full = models.PositiveIntegerField(default=0)  # entries tokenised or removed

    class Meta:
        verbose_name = _("related papers' corpus")
        verbose_name_plural = _("related papers' corpus")

    def __str__(self):
        return f"related papers of {self.documents} entries ({self.finished_at})"


class RelatedDocument(models.Model):
    """One indexed entry as the last related-papers computation saw it, so that the next
    one tokenises only the entries that changed: the ``stamp`` of what it was made from
    (its entry's, paper's and digest's ``updated_at`` and its tags), its terms' counts and
    its weighted vectors (JSON: {"" for the whole entry, or a section kind id: {term: n or
    weight}}). Derived data, written by reading/related.py."""

    # Ids, not foreign keys: a deleted entry's document stays until the next refresh, which
    # takes its terms out of the document frequencies before it deletes it.
    entry_id = models.BigIntegerField(primary_key=True)
    paper_id = models.BigIntegerField()
    stamp = models.CharField(max_length=32)
    counts = models.TextField()
    vectors = models.TextField()

    class Meta:
        verbose_name = _("related papers' document")
        verbose_name_plural = _("related papers' documents")

    def __str__(self):
        return f"document of entry {self.entry_id}"
