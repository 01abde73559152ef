"""sitemap.xml: an index of one sitemap per kind (digests, entries, tags, categories, lists),
published content only, each URL with its last modification.

The index asks every section for its latest modification and its number of pages. Django's
defaults load every item of the section for the first (all 20,000 digests) and count them
for the second; here one aggregate answers both, so the index costs one query per section
whatever the number of items."""

from functools import cached_property

from django.contrib.sitemaps import Sitemap
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.db.models.functions import Greatest
from django.urls import reverse

from papers.models import Digest, Entry
from reading.views.lists import published_categories, published_tags


class SummarisedSitemap(Sitemap):
    """A section whose latest modification and item count come from one aggregate.

    5,000 URLs a page rather than the protocol's 50,000: a page of 50,000 entries took
    11-15 s to render at 100,000 papers, long enough for a crawler to give up (and a cold
    page-cache miss to tie up a worker); crawlers follow the index to every page."""

    limit = 5000

    def summary(self) -> dict:
        """``{"count": …, "latest": …}`` for the section's items."""
        raise NotImplementedError

    @cached_property
    def _summary(self) -> dict:
        return self.summary()

    def get_latest_lastmod(self):
        return self._summary["latest"]

    @property
    def paginator(self):
        pages = Paginator(self._items(), self.limit)
        if "_summary" in self.__dict__:  # counted with the latest modification (the index)
            pages.count = self._summary["count"]
        return pages


class DigestSitemap(SummarisedSitemap):
    changefreq = "weekly"
    priority = 0.8

    def summary(self):
        return Digest.objects.published().aggregate(count=Count("id"), latest=Max("updated_at"))

    def items(self):
        return Digest.objects.published().only("id", "slug", "issue_date", "updated_at")

    def lastmod(self, item):
        return item.updated_at


class EntrySitemap(SummarisedSitemap):
    changefreq = "monthly"
    priority = 0.6

    def summary(self):
        return Entry.objects.published().aggregate(
            count=Count("id"), latest=Max(Greatest("updated_at", "digest__updated_at"))
        )

    def items(self):
        return (
            Entry.objects.published()
            .select_related("digest", "paper")
            .only(
                "id",
                "updated_at",
                "digest__issue_date",
                "digest__slug",
                "digest__updated_at",
                "paper__arxiv_id",
            )
            .order_by("pk")
        )

    def lastmod(self, item):
        return max(item.updated_at, item.digest.updated_at)


class TagSitemap(SummarisedSitemap):
    changefreq = "daily"
    priority = 0.4

    def items(self):
        return published_tags().annotate(
            lastmod=Max("papers_taggedentry_items__content_object__digest__published_at")
        )

    def summary(self):
        return self.items().aggregate(count=Count("id"), latest=Max("lastmod"))

    def location(self, item):
        return reverse("reading:tag-entries", kwargs={"slug": item.slug})

    def lastmod(self, item):
        return item.lastmod


class CategorySitemap(SummarisedSitemap):
    changefreq = "daily"
    priority = 0.4

    def items(self):
        return published_categories().annotate(
            lastmod=Max("primary_papers__entries__digest__published_at")
        )

    def summary(self):
        return self.items().aggregate(count=Count("id"), latest=Max("lastmod"))

    def location(self, item):
        return reverse("reading:category-entries", kwargs={"code": item.code})

    def lastmod(self, item):
        return item.lastmod


class PagesSitemap(Sitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self):
        return ["reading:home", "reading:entry-list", "reading:tag-list", "reading:category-list"]

    def location(self, item):
        return reverse(item)

    @cached_property
    def _latest(self):
        return Digest.objects.listed().aggregate(latest=Max("published_at"))["latest"]

    def lastmod(self, item):
        return self._latest  # the same for every page: one query, not one per page

    def get_latest_lastmod(self):
        return self._latest


SITEMAPS = {
    "pages": PagesSitemap,
    "digests": DigestSitemap,
    "entries": EntrySitemap,
    "tags": TagSitemap,
    "categories": CategorySitemap,
}
