"""Daily readership figures: compact rows the worker writes from the counters in the cache.

Nothing here identifies a reader: a row holds a page (or a referring domain, or a search) and
a day, with numbers. Rows older than ``READERSHIP_RETENTION_DAYS`` are pruned.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from papers.models import Digest, Entry


class DigestDay(models.Model):
    """How a digest's page was read on one day: views (page loads by people) and readers
    (distinct readers that day; each adds one to the digest's 人气)."""

    # The unique (digest, day) index serves the foreign key's lookups: no index of its own.
    digest = models.ForeignKey(
        Digest,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("digest"),
        db_index=False,
    )
    day = models.DateField(_("day"))
    views = models.PositiveIntegerField(_("views"), default=0)
    readers = models.PositiveIntegerField(_("readers"), default=0)

    class Meta:
        verbose_name = _("digest day")
        verbose_name_plural = _("digest days")
        constraints = [
            models.UniqueConstraint(fields=["digest", "day"], name="digestday_unique"),
        ]
        indexes = [models.Index(fields=["day"], name="digestday_day_idx")]
        permissions = [("view_analytics", "Can see the readership analytics")]

    def __str__(self):
        return f"{self.digest_id} {self.day}"


class EntryDay(models.Model):
    """How one paper's page in a digest was read on one day."""

    entry = models.ForeignKey(
        Entry, on_delete=models.CASCADE, related_name="+", verbose_name=_("entry"), db_index=False
    )
    day = models.DateField(_("day"))
    views = models.PositiveIntegerField(_("views"), default=0)
    readers = models.PositiveIntegerField(_("readers"), default=0)

    class Meta:
        verbose_name = _("entry day")
        verbose_name_plural = _("entry days")
        constraints = [
            models.UniqueConstraint(fields=["entry", "day"], name="entryday_unique"),
        ]
        indexes = [models.Index(fields=["day"], name="entryday_day_idx")]

    def __str__(self):
        return f"{self.entry_id} {self.day}"


class ReferrerDay(models.Model):
    """Readers who came from another site on one day, by that site's domain (never the
    address of the page they came from)."""

    day = models.DateField(_("day"))
    domain = models.CharField(_("domain"), max_length=253)
    readers = models.PositiveIntegerField(_("readers"), default=0)

    class Meta:
        verbose_name = _("referrer day")
        verbose_name_plural = _("referrer days")
        constraints = [
            models.UniqueConstraint(fields=["day", "domain"], name="referrerday_unique"),
        ]

    def __str__(self):
        return f"{self.domain} {self.day}"


class SearchDay(models.Model):
    """What readers searched for on one day (the words, lower-cased and trimmed), how many
    readers searched it, and how many results the last search found."""

    day = models.DateField(_("day"))
    terms = models.CharField(_("search terms"), max_length=100)
    searches = models.PositiveIntegerField(_("searches"), default=0)
    results = models.PositiveIntegerField(_("results"), default=0)

    class Meta:
        verbose_name = _("search day")
        verbose_name_plural = _("search days")
        constraints = [
            models.UniqueConstraint(fields=["day", "terms"], name="searchday_unique"),
        ]

    def __str__(self):
        return f"{self.terms} {self.day}"


class WrittenBatch(models.Model):
    """The last batch of counters the worker wrote (one row): written in the same transaction
    as the figures, so a batch is never counted twice, whatever crashes."""

    batch = models.BigIntegerField(_("batch"), default=0)

    class Meta:
        verbose_name = _("written batch")

    def __str__(self):
        return str(self.batch)


# Roll-ups: the daily rows added up, so a long period reads a few rows per page instead of one
# per page and day. The worker keeps them equal to the daily rows they sum (readership/
# rollups.py), in the transaction that writes those; `build_readership_rollups` rebuilds them.


class SiteDay(models.Model):
    """Every digest and paper page of one day added up: the views-over-time chart."""

    day = models.DateField(_("day"), unique=True)
    views = models.PositiveIntegerField(_("views"), default=0)
    readers = models.PositiveIntegerField(_("readers"), default=0)

    class Meta:
        verbose_name = _("site day")
        verbose_name_plural = _("site days")

    def __str__(self):
        return str(self.day)


class DigestMonth(models.Model):
    """A digest's daily rows of one month (``month``: its first day) added up."""

    digest = models.ForeignKey(
        Digest,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("digest"),
        db_index=False,
    )
    month = models.DateField(_("month"))
    views = models.PositiveIntegerField(_("views"), default=0)
    readers = models.PositiveIntegerField(_("readers"), default=0)

    class Meta:
        verbose_name = _("digest month")
        verbose_name_plural = _("digest months")
        constraints = [
            models.UniqueConstraint(fields=["digest", "month"], name="digestmonth_unique"),
        ]
        # The analytics page reads a period's months whole from this index alone.
        indexes = [
            models.Index(
                fields=["month", "digest", "views", "readers"], name="digestmonth_month_idx"
            )
        ]

    def __str__(self):
        return f"{self.digest_id} {self.month:%Y-%m}"


class EntryMonth(models.Model):
    """A paper page's daily rows of one month added up."""

    entry = models.ForeignKey(
        Entry, on_delete=models.CASCADE, related_name="+", verbose_name=_("entry"), db_index=False
    )
    month = models.DateField(_("month"))
    views = models.PositiveIntegerField(_("views"), default=0)
    readers = models.PositiveIntegerField(_("readers"), default=0)

    class Meta:
        verbose_name = _("entry month")
        verbose_name_plural = _("entry months")
        constraints = [
            models.UniqueConstraint(fields=["entry", "month"], name="entrymonth_unique"),
        ]
        # The analytics page reads a period's months whole from this index alone.
        indexes = [
            models.Index(fields=["month", "entry", "views", "readers"], name="entrymonth_month_idx")
        ]

    def __str__(self):
        return f"{self.entry_id} {self.month:%Y-%m}"


class ReferrerMonth(models.Model):
    """A referring domain's daily rows of one month added up."""

    month = models.DateField(_("month"))
    domain = models.CharField(_("domain"), max_length=253)
    readers = models.PositiveIntegerField(_("readers"), default=0)

    class Meta:
        verbose_name = _("referrer month")
        verbose_name_plural = _("referrer months")
        constraints = [
            models.UniqueConstraint(fields=["month", "domain"], name="referrermonth_unique"),
        ]

    def __str__(self):
        return f"{self.domain} {self.month:%Y-%m}"


class SearchMonth(models.Model):
    """A search's daily rows of one month: searches added up, and the most results any of
    its days found (what the report shows for a period)."""

    month = models.DateField(_("month"))
    terms = models.CharField(_("search terms"), max_length=100)
    searches = models.PositiveIntegerField(_("searches"), default=0)
    results = models.PositiveIntegerField(_("results"), default=0)

    class Meta:
        verbose_name = _("search month")
        verbose_name_plural = _("search months")
        constraints = [
            models.UniqueConstraint(fields=["month", "terms"], name="searchmonth_unique"),
        ]

    def __str__(self):
        return f"{self.terms} {self.month:%Y-%m}"
