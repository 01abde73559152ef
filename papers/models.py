"""The digest's domain: papers (facts), digests (issues), entries (a paper inside a digest,
with its critique), section kinds, sections, figures, categories, tags and site settings.

Editorial content belongs to the entry; facts about the paper belong to the paper.
Every public read goes through the ``published()`` queryset methods defined here.
"""

import uuid
from pathlib import PurePath
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase

from papers.arxiv_ids import parse_arxiv_id
from papers.markup import normalise_section_text, render_footer, render_markdown


def split_lines(text: str) -> list[str]:
    """Non-empty stripped lines of ``text`` (authors and affiliations are stored one per line)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ArxivIdField(models.CharField):
    """A versionless arXiv id. Whatever the editor pastes (``2509.22445v2``,
    ``arXiv:2509.22445``, an abs or pdf URL) is normalised when the form is cleaned."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None if self.null else value
        return parse_arxiv_id(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        # A paper without an arXiv id stores NULL, never "": the unique id stays unique.
        return None if self.null and value == "" else value


class Category(models.Model):
    """An arXiv subject category. The full code (``cs.LG``) is stored; the short tag shown
    beside titles (``LG``) is derived from it."""

    code = models.CharField(
        _("code"),
        max_length=20,
        unique=True,
        help_text=_("The full arXiv code, e.g. cs.LG or stat.ML. The short tag (LG) is derived."),
    )
    name = models.CharField(_("English name"), max_length=120)
    name_zh = models.CharField(_("Chinese name"), max_length=120, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return f"{self.code} ({self.name})"

    @property
    def short_code(self) -> str:
        return short_code(self.code)


def short_code(code: str) -> str:
    """The tag a page shows for a category code: cs.LG → LG, econ → econ."""
    return code.split(".", 1)[1] if "." in code else code


class PaperQuerySet(models.QuerySet):
    def published(self):
        """Papers that appear in at least one published digest."""
        return self.filter(
            pk__in=Entry.objects.published().values("paper_id"),
        )


class Paper(models.Model):
    """The facts about one arXiv paper, shared by every digest entry that presents it.
    Filled from arXiv where possible; editors may correct any field.

    An item that is not an arXiv paper (a news item of a mixed daily) is *link-sourced*: no
    arXiv id, its link in ``source_url``, which then identifies it (unique among them)."""

    arxiv_id = ArxivIdField(
        _("arXiv id"),
        unique=True,
        null=True,
        blank=True,
        help_text=_(
            "Paste the id or the arxiv.org link; the version is dropped "
            "(2509.22445v2 is stored as 2509.22445). Old ids such as hep-th/9901001 work too. "
            "Empty for an item that is not on arXiv: give its source link instead."
        ),
    )
    source_url = models.URLField(
        _("source link"),
        max_length=1000,
        blank=True,
        help_text=_(
            "For an item that is not an arXiv paper (news, a blog post): its link, shown as "
            "its source. Leave empty for an arXiv paper."
        ),
    )
    title = models.CharField(_("English title"), max_length=500)
    authors = models.TextField(
        _("authors"),
        blank=True,
        help_text=_("One author per line, in the paper's order."),
    )
    authors_shortened = models.BooleanField(
        _("author list shortened"),
        default=False,
        help_text=_(
            "The digest named only the first authors (“S Wang, Y Shen…”): pages end the list "
            "with “…”. Fetching the paper from arXiv fills in every author and clears this."
        ),
    )
    affiliations = models.TextField(
        _("affiliations"),
        blank=True,
        help_text=_("One institution per line, e.g. Google DeepMind."),
    )
    abstract = models.TextField(_("abstract"), blank=True)
    primary_category = models.ForeignKey(
        Category,
        verbose_name=_("primary category"),
        on_delete=models.PROTECT,
        related_name="primary_papers",
    )
    categories = models.ManyToManyField(
        Category,
        verbose_name=_("cross-list categories"),
        blank=True,
        related_name="cross_listed_papers",
        help_text=_("Other categories the paper is listed in (not the primary one)."),
    )
    published_on = models.DateField(_("first version date"), null=True, blank=True)
    updated_on = models.DateField(_("latest version date"), null=True, blank=True)
    comment = models.CharField(_("arXiv comment"), max_length=500, blank=True)
    journal_ref = models.CharField(_("journal reference"), max_length=500, blank=True)
    doi = models.CharField(_("DOI"), max_length=200, blank=True)
    code_url = models.URLField(
        _("code"), max_length=500, blank=True, help_text=_("The paper's official code.")
    )
    project_url = models.URLField(
        _("project page"), max_length=500, blank=True, help_text=_("The paper's project page.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    arxiv_snapshot = models.JSONField(
        _("last arXiv metadata"),
        default=dict,
        blank=True,
        editable=False,
        help_text=_(
            "What arXiv said at the last fetch. A field that differs from it was corrected by "
            "an editor and is not overwritten without asking."
        ),
    )
    arxiv_fetched_at = models.DateTimeField(
        _("fetched from arXiv"), null=True, blank=True, editable=False
    )

    objects = PaperQuerySet.as_manager()

    class Meta:
        ordering = ["-published_on", "arxiv_id"]
        verbose_name = _("paper")
        verbose_name_plural = _("papers")
        # docs/architecture.md, "Database indexes". The admin's search boxes and the
        # affiliation/author filters get trigram indexes on PostgreSQL (migration 0008).
        indexes = [
            # The admin list's order, its date drill-down (min/max, years) and one category.
            models.Index(fields=["-published_on", "arxiv_id"], name="paper_newest_idx"),
            models.Index(fields=["title"], name="paper_title_idx"),  # the list sorted by title
            models.Index(
                fields=["primary_category", "-published_on", "arxiv_id"],
                name="paper_category_newest_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(arxiv_id__isnull=False) | ~Q(source_url=""),
                name="paper_arxiv_id_or_source_url",
                violation_error_message=_("Give an arXiv id or a source link."),
            ),
            # A link-sourced item is known by its link: importing it again reuses it.
            models.UniqueConstraint(
                fields=["source_url"],
                condition=Q(arxiv_id__isnull=True),
                name="paper_source_url_unique_without_arxiv",
                violation_error_message=_("An item with this source link exists already."),
            ),
        ]

    def __str__(self):
        return f"{self.arxiv_id or self.source_url} {self.title}"

    @property
    def is_link_sourced(self) -> bool:
        """Not an arXiv paper: an item known by its link (``source_url``)."""
        return not self.arxiv_id

    @property
    def url_key(self) -> str:
        """The last part of its entries' addresses: the arXiv id, or ``link-<pk>`` for a
        link-sourced item (its id is as stable as an arXiv id, and survives a backup)."""
        return self.arxiv_id or f"link-{self.pk}"

    @property
    def source_link(self) -> str:
        """Where the item itself is: its arXiv page, or its source link."""
        return self.abs_url or self.source_url

    @property
    def source_label(self) -> str:
        """What the source link says: arXiv:id, or the source's host name."""
        if self.arxiv_id:
            return f"arXiv:{self.arxiv_id}"
        return urlsplit(self.source_url).hostname or self.source_url

    @property
    def author_list(self) -> list[str]:
        return split_lines(self.authors)

    @property
    def authors_line(self) -> str:
        """The authors as one line of text, ending in "…" when the digest shortened the list
        (feeds, exports, mail, the editor: wherever the page's accessible markup cannot go)."""
        line = ", ".join(self.author_list)
        return f"{line}, …" if self.authors_shortened and line else line

    @property
    def affiliation_list(self) -> list[str]:
        return split_lines(self.affiliations)

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else ""

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.arxiv_id}" if self.arxiv_id else ""

    def clean(self):
        self.authors = "\n".join(self.author_list)
        self.affiliations = "\n".join(self.affiliation_list)
        if not self.arxiv_id and not self.source_url:
            raise ValidationError(
                {"arxiv_id": _("Give an arXiv id, or a source link for an item not on arXiv.")}
            )
        if self.arxiv_id and not self.author_list:
            raise ValidationError({"authors": _("Give at least one author.")})


def published_q(prefix: str = "", *, now=None) -> Q:
    """The one definition of "a reader may see this digest", usable through a relation.

    Published and archived digests are readable from their go-live time until their expiry.
    Visibility is decided at read time, so scheduled digests go live without a cron job.
    """
    now = now or timezone.now()
    return (
        Q(**{f"{prefix}status__in": Digest.READABLE_STATES})
        & Q(**{f"{prefix}published_at__lte": now})
        & (Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": now}))
    )


def neighbour_links(model, field: str) -> dict:
    """The published digests just before and after a digest in reading order (issue date,
    then id), as ``previous_link`` and ``next_link`` annotations of a query on ``model``:
    JSON objects of their title, slug and issue date, or None. ``field``: the field of
    ``model`` that holds the digest's id (``Entry, "digest"``; ``Digest, "id"``).

    Hand-written SQL for a measured need: built by the ORM, these two subqueries were a fifth
    of a digest page after a change (docs/performance.md, "Neighbour links"), and here they
    cost nothing to build. The SQL repeats ``published_q``; tests/test_neighbour_links.py
    checks it against ``Digest.objects.published()`` for every state, on both databases.
    Each side walks the (issue_date, id) index from the digest's date and stops at the
    first readable row; on SQLite ``+status`` keeps the planner off the status index, which
    would read every readable digest first.
    """
    vendor = connection.vendor
    quote = connection.ops.quote_name
    table = quote(Digest._meta.db_table)
    outer = f"{quote(model._meta.db_table)}.{quote(model._meta.get_field(field).column)}"
    build = "json_build_object" if vendor == "postgresql" else "json_object"
    status = "+n.status" if vendor == "sqlite" else "n.status"
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sides = {"previous_link": ("<", "DESC"), "next_link": (">", "ASC")}
    links = {}
    for name, (before, order) in sides.items():
        sql = (
            f"SELECT {build}('title', n.title, 'slug', n.slug, 'issue_date', n.issue_date)"
            f" FROM {table} AS n, {table} AS cur"
            f" WHERE cur.id = {outer}"
            f" AND {status} IN (%s, %s) AND n.published_at <= %s"
            " AND (n.expires_at IS NULL OR n.expires_at > %s)"
            f" AND n.issue_date {before}= cur.issue_date"
            f" AND (n.issue_date {before} cur.issue_date"
            f" OR (n.issue_date = cur.issue_date AND n.id {before} cur.id))"
            f" ORDER BY n.issue_date {order}, n.id {order} LIMIT 1"
        )
        params = (*Digest.READABLE_STATES, now, now)
        links[name] = models.expressions.RawSQL(sql, params, output_field=models.TextField())
    return links


def may_preview(user) -> bool:
    """Editorial staff (staff who may view digests in the admin) open drafts as previews."""
    return user.is_authenticated and user.is_staff and user.has_perm("papers.view_digest")


class _Unindexed(models.Func):
    """``+column``: SQLite then leaves the column's indexes alone (its documented hint)."""

    template = "+%(expressions)s"
    output_field = models.CharField()


def digest_address(date, slug) -> dict:
    """The lookup of the digest at ``date``/``slug``: with "not a working copy", which the
    unique index of addresses is limited to, so that index finds it (SQLite, without
    statistics, would otherwise walk every readable digest by status)."""
    return {"issue_date": date, "slug": slug, "working_copy_of__isnull": True}


class DigestQuerySet(models.QuerySet):
    def _status_unindexed(self):
        """(this queryset, the name to test the status by). SQLite keeps no statistics and
        takes the status index whenever the status is tested, reading every readable digest
        where another index would stop at the first row or two: there the status is tested
        as ``+status``, without its index."""
        if connection.vendor != "sqlite":
            return self, "status"
        return self.alias(plain_status=_Unindexed("status")), "plain_status"

    def next_visibility_change(self):
        """The next moment a readable digest goes live or expires, or None: what readers see
        changes then without any save, so nothing may cache a public page past it."""
        now = timezone.now()
        upcoming = Q(published_at__gt=now) | Q(expires_at__gt=now)
        readable, status = self._status_unindexed()
        found = readable.filter(upcoming, **{f"{status}__in": Digest.READABLE_STATES}).aggregate(
            go_live=models.Min("published_at", filter=Q(published_at__gt=now)),
            expiry=models.Min("expires_at", filter=Q(expires_at__gt=now)),
        )
        return min((m for m in found.values() if m is not None), default=None)

    def with_entry_count(self, name: str = "n_entries"):
        """Each digest's number of papers as ``name``: a per-row subquery (an index lookup
        for each row read), not a GROUP BY join that aggregates every entry of the archive
        before a list, a count or a dashboard picks its few rows."""
        entries = (
            Entry.objects.filter(digest=models.OuterRef("pk"))
            .order_by()
            .values("digest")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        counted = models.Subquery(entries, output_field=models.IntegerField())
        return self.annotate(**{name: Coalesce(counted, 0)})

    def published(self):
        """Digests a reader may open (published or archived, live, not expired)."""
        return self.filter(published_q())

    def listed(self):
        """Published digests that belong on the home page and in feeds (not archived)."""
        return self.published().filter(status=Digest.Status.PUBLISHED)

    def visible_to(self, user):
        """What ``user`` may open: editorial staff (who may view digests in the admin) see
        drafts as previews; everyone else, moderators included, only published ones. A
        working copy is at no address (it shares its live digest's): the admin previews it."""
        if may_preview(user):
            return self.filter(working_copy_of__isnull=True)
        return self.published()

    def originals(self):
        """Digests that are not working copies: what a date and slug name."""
        return self.filter(working_copy_of__isnull=True)

    def with_toc(self):
        """Prefetch what a table of contents shows: entries in order, paper, category, and
        each entry's one-line summary (``summary_html``, a subquery: no query of its own)."""
        summary = Section.objects.filter(entry=models.OuterRef("pk"), kind__slug="summary")
        return self.prefetch_related(
            models.Prefetch(
                "entries",
                queryset=Entry.objects.select_related("paper__primary_category")
                .only(
                    "id",
                    "digest_id",
                    "position",
                    "title_zh",
                    "paper__arxiv_id",
                    "paper__title",
                    "paper__primary_category__code",
                )
                .annotate(summary_html=models.Subquery(summary.values("body_html")[:1])),
            )
        )

    def with_content(self):
        """Prefetch everything the digest page renders, in a fixed number of queries."""
        return self.prefetch_related(
            "tags",
            models.Prefetch(
                "entries",
                queryset=Entry.objects.select_related("paper__primary_category").prefetch_related(
                    "tags", SECTIONS_WITH_KIND, "figures"
                ),
            ),
        )


class TaggedDigest(TaggedItemBase):
    """Through model for digest tags (a real foreign key, so joins are plain joins)."""

    content_object = models.ForeignKey("Digest", on_delete=models.CASCADE)

    class Meta:
        verbose_name = _("digest tag")
        verbose_name_plural = _("digest tags")


class Digest(models.Model):
    """One dated issue of the digest, e.g. “AI前沿推介(9.30)”: a summary and ~5 entries."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REVIEW = "review", _("In review")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    READABLE_STATES = (Status.PUBLISHED, Status.ARCHIVED)

    title = models.CharField(
        _("title"), max_length=200, help_text=_("As readers see it, e.g. AI前沿推介(9.30).")
    )
    slug = models.SlugField(
        _("slug"),
        max_length=100,
        help_text=_("Part of the address; unique for the issue date. Latin letters, digits, -."),
    )
    issue_date = models.DateField(_("issue date"), db_index=True)
    summary = models.TextField(
        _("summary"), blank=True, help_text=_("The 摘要 paragraph shown above the papers.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(
        _("go-live time"),
        null=True,
        blank=True,
        help_text=_("When readers first see it. A future time schedules the digest."),
    )
    expires_at = models.DateTimeField(
        _("expiry time"), null=True, blank=True, help_text=_("Optional: hidden from then on.")
    )
    view_count = models.PositiveIntegerField(_("views"), default=0, editable=False)
    tags = TaggableManager(through=TaggedDigest, blank=True, verbose_name=_("tags"))
    working_copy_of = models.OneToOneField(
        "self",
        verbose_name=_("working copy of"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.CASCADE,
        related_name="working_copy",
        help_text=_(
            "Set on the draft of changes to a live digest: readers keep the live one until "
            "an editor publishes these changes into it."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = DigestQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date", "-id"]
        verbose_name = _("digest")
        verbose_name_plural = _("digests")
        permissions = [("publish_digest", _("Can publish, schedule and unpublish digests"))]
        indexes = [
            models.Index(fields=["status", "published_at"], name="digest_status_live_idx"),
            # Newest first with a tie-break: the admin list, previous/next, the API list.
            models.Index(fields=["issue_date", "id"], name="digest_date_id_idx"),
            # The home page: listed digests in its order (a backward scan, stops at a page).
            # expires_at last: the page count is read from the index alone.
            models.Index(
                fields=["issue_date", "published_at", "id", "expires_at"],
                name="digest_listed_order_idx",
                condition=Q(status="published"),
            ),
            # The next go-live of any digest (``next_visibility_change``): with the expiry index,
            # an OR of two index searches instead of a scan of every readable digest.
            models.Index(fields=["published_at"], name="digest_go_live_idx"),
            # Readable digests by go-live time: the dashboard's "recently published", feeds.
            models.Index(
                fields=["published_at"],
                name="digest_readable_live_idx",
                condition=Q(status__in=["published", "archived"]),
            ),
            # The next expiry (a cached page's lifetime ends there): only digests that expire.
            models.Index(
                fields=["expires_at"],
                name="digest_expiry_idx",
                condition=Q(expires_at__isnull=False),
            ),
        ]
        constraints = [
            # A working copy shares its live digest's address (it is never at it).
            models.UniqueConstraint(
                fields=["issue_date", "slug"],
                condition=Q(working_copy_of__isnull=True),
                name="digest_unique_date_slug",
            ),
            models.CheckConstraint(
                condition=Q(working_copy_of__isnull=True) | Q(status__in=["draft", "review"]),
                name="digest_working_copy_is_a_draft",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["published", "archived"]) | Q(published_at__isnull=False),
                name="digest_published_has_time",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True)
                | Q(published_at__isnull=True)
                | Q(expires_at__gt=models.F("published_at")),
                name="digest_expiry_after_go_live",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.issue_date:%Y-%m-%d})"

    def get_absolute_url(self):
        return reverse("reading:digest-detail", kwargs={"date": self.issue_date, "slug": self.slug})

    @property
    def is_published(self) -> bool:
        """True when a reader can open it now."""
        now = timezone.now()
        return (
            self.status in self.READABLE_STATES
            and self.published_at is not None
            and self.published_at <= now
            and (self.expires_at is None or self.expires_at > now)
        )

    @property
    def is_working_copy(self) -> bool:
        """A draft of changes to a live digest (see ``working_copy_of``)."""
        return self.working_copy_of_id is not None

    @property
    def is_scheduled(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at > timezone.now()
        )

    def clean(self):
        if self.expires_at and self.published_at and self.expires_at <= self.published_at:
            raise ValidationError({"expires_at": _("The expiry must come after the go-live time.")})
        if self.working_copy_of_id and self.issue_date and self.slug:
            # The unique address is not a rule for a working copy (it shares its live
            # digest's): check it against the other digests now, not at publishing.
            clash = Digest.objects.originals().filter(issue_date=self.issue_date, slug=self.slug)
            if clash.exclude(pk=self.working_copy_of_id).exists():
                raise ValidationError({"slug": _("Another digest of that date uses this slug.")})


class EntryQuerySet(models.QuerySet):
    def published(self):
        """Entries of digests a reader may open."""
        return self.filter(published_q("digest__"))

    def visible_to(self, user):
        """Entries of the digests ``user`` may open (see ``DigestQuerySet.visible_to``)."""
        if may_preview(user):
            return self.filter(digest__working_copy_of__isnull=True)
        return self.published()


class TaggedEntry(TaggedItemBase):
    """Through model for entry tags."""

    content_object = models.ForeignKey("Entry", on_delete=models.CASCADE)

    class Meta:
        verbose_name = _("entry tag")
        verbose_name_plural = _("entry tags")


class Entry(models.Model):
    """One paper as presented in one digest, at a position: its Chinese title, topic tags,
    critique sections and figures."""

    digest = models.ForeignKey(
        Digest, verbose_name=_("digest"), on_delete=models.CASCADE, related_name="entries"
    )
    paper = models.ForeignKey(
        Paper, verbose_name=_("paper"), on_delete=models.PROTECT, related_name="entries"
    )
    position = models.PositiveSmallIntegerField(
        _("position"), help_text=_("1 for the first paper of the digest, 2 for the next…")
    )
    title_zh = models.CharField(_("Chinese title"), max_length=300, blank=True)
    tags = TaggableManager(through=TaggedEntry, blank=True, verbose_name=_("tags"))
    unplaced_text = models.TextField(
        _("unplaced text"),
        blank=True,
        help_text=_(
            "Text the importer could not place in a section. Move it where it belongs, "
            "then clear this field."
        ),
    )
    view_count = models.PositiveIntegerField(_("views"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["digest", "position"]
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        constraints = [
            models.UniqueConstraint(
                fields=["digest", "position"], name="entry_unique_position_per_digest"
            ),
            models.UniqueConstraint(
                fields=["digest", "paper"], name="entry_unique_paper_per_digest"
            ),
            models.CheckConstraint(condition=Q(position__gte=1), name="entry_position_from_one"),
        ]

    def __str__(self):
        return f"{self.position}. {self.paper.title}"

    def get_absolute_url(self):
        return reverse(
            "reading:entry-detail",
            kwargs={
                "date": self.digest.issue_date,
                "slug": self.digest.slug,
                "arxiv_id": self.paper.url_key,
            },
        )

    @property
    def anchor(self) -> str:
        return f"paper-{self.position}"


class SectionKind(models.Model):
    """A critique heading (要点, 主旨, …): its names, order, and whether it is a bullet list or
    prose. The importer recognises a heading by its names and aliases."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=40, unique=True)
    name_en = models.CharField(_("English name"), max_length=80)
    order = models.PositiveSmallIntegerField(
        _("order"), help_text=_("Sections are shown in ascending order.")
    )
    is_list = models.BooleanField(
        _("bullet list"),
        default=True,
        help_text=_("Bullet list (each line a bullet) rather than prose paragraphs."),
    )
    aliases = models.CharField(
        _("aliases"),
        max_length=300,
        blank=True,
        help_text=_("Other headings the importer maps to this kind, separated by commas."),
    )

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("section kind")
        verbose_name_plural = _("section kinds")

    def __str__(self):
        return f"{self.name_zh} / {self.name_en}"

    @property
    def alias_list(self) -> list[str]:
        return [a.strip() for a in self.aliases.replace("，", ",").split(",") if a.strip()]


class Section(models.Model):
    """One critique section of an entry. The body is Markdown; its HTML is rendered and
    sanitised on save, so pages never render Markdown."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="sections")
    kind = models.ForeignKey(SectionKind, on_delete=models.PROTECT, related_name="sections")
    body = models.TextField(_("text"), help_text=_("Markdown. For bullet lists, one line each."))
    body_html = models.TextField(editable=False)

    class Meta:
        ordering = ["kind__order", "kind_id"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        # Every section of one kind (/sections/<kind>/): read from the index alone.
        indexes = [models.Index(fields=["kind", "entry"], name="section_kind_entry_idx")]
        constraints = [
            models.UniqueConstraint(fields=["entry", "kind"], name="section_one_per_kind"),
        ]

    def __str__(self):
        return f"{self.kind.name_zh}: {self.body[:40]}"

    def save(self, *args, **kwargs):
        self.render()
        super().save(*args, **kwargs)

    def render(self) -> None:
        """Normalise the text as its kind asks (list or prose) and render its sanitised
        HTML: done by ``save()``, and by writers that store sections in bulk."""
        self.body = normalise_section_text(self.body, as_list=self.kind.is_list)
        self.body_html = render_markdown(self.body)


def figure_upload_to(instance, filename):
    """Uploaded figures get generated names; the editor's file name is never used."""
    suffix = PurePath(filename).suffix.lower()[:6] or ".png"
    return f"figures/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Figure(models.Model):
    """An image of an entry with caption, source and licence. A figure without an image is
    a placeholder the importer made: an image still to upload."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="figures")
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    image = models.ImageField(
        _("image"),
        upload_to=figure_upload_to,
        blank=True,
        width_field="width",
        height_field="height",
        help_text=_("PNG, JPEG, GIF or WebP."),
    )
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    caption = models.CharField(_("caption"), max_length=500, blank=True)
    alt_text = models.CharField(
        _("alt text"),
        max_length=500,
        blank=True,
        help_text=_("What the image shows, for readers who cannot see it."),
    )
    source_url = models.URLField(
        _("source"), blank=True, help_text=_("Where the image comes from.")
    )
    licence = models.CharField(
        _("licence"), max_length=120, blank=True, help_text=_("e.g. CC BY 4.0, or arXiv licence.")
    )
    placeholder = models.CharField(
        _("placeholder"),
        max_length=300,
        blank=True,
        help_text=_("The importer's note of the image to upload (e.g. “Image on …”)."),
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("figure")
        verbose_name_plural = _("figures")

    def __str__(self):
        return self.caption or self.placeholder or f"Figure {self.position}"

    def save(self, *args, **kwargs):
        # A new figure given its image with ``image.save(save=False)`` (as the demo does)
        # reaches here without its size: store it, so that pages need not open the file to
        # write width and height (the papers' blocks). A missing file stays sizeless.
        if self.image and self.width is None:
            try:
                self._meta.get_field("image").update_dimension_fields(self, force=True)
            except OSError:
                pass
        super().save(*args, **kwargs)

    @property
    def needs_upload(self) -> bool:
        return not self.image


def site_image_upload_to(instance, filename):
    """The footer's image gets a generated name too (as figures do)."""
    suffix = PurePath(filename).suffix.lower()[:6] or ".png"
    return f"site/{uuid.uuid4().hex}{suffix}"


class SiteSettings(models.Model):
    """Site-wide texts editors can change: the site name, tagline and the footer. The
    footer is light Markdown, rendered and sanitised once at save, like a section's body."""

    site_name = models.CharField(_("site name"), max_length=100, default="AI前沿推介")
    tagline = models.CharField(
        _("tagline"), max_length=200, blank=True, default="每日精选 AI 论文，中文解读"
    )
    footer_text = models.TextField(
        _("footer and contact text"),
        blank=True,
        help_text=_(
            "Shown at the bottom of every page. Light Markdown: line breaks are kept, "
            "**bold**, and links such as [京ICP备12345678号](https://beian.miit.gov.cn/) "
            "or [mail us](mailto:team@example.com). HTML is shown as text."
        ),
    )
    footer_html = models.TextField(editable=False, blank=True, default="")
    footer_image = models.ImageField(
        _("footer image"),
        upload_to=site_image_upload_to,
        blank=True,
        width_field="footer_image_width",
        height_field="footer_image_height",
        help_text=_("An image beside the footer text, e.g. the QR code of the WeChat account."),
    )
    footer_image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    footer_image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    footer_image_alt = models.CharField(
        _("footer image text"),
        max_length=200,
        blank=True,
        help_text=_("What the image is, for readers who cannot see it, e.g. “WeChat QR code”."),
    )

    class Meta:
        verbose_name = _("site settings")
        verbose_name_plural = _("site settings")

    def __str__(self):
        return str(_("Site settings"))

    def save(self, *args, **kwargs):
        self.pk = 1
        self.footer_html = render_footer(self.footer_text)
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "SiteSettings":
        """The one settings row, created with defaults the first time."""
        return cls.objects.get_or_create(pk=1)[0]


# An entry's sections with their kinds in one query (they are always shown together).
SECTIONS_WITH_KIND = models.Prefetch("sections", queryset=Section.objects.select_related("kind"))
