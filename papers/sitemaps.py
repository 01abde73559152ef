"""sitemap.xml: an index of one sitemap per kind (digests, entries, tags, categories, lists),
published content only, each URL with its last modification."""

from django.contrib.sitemaps import Sitemap
from django.db.models import Max
from django.urls import reverse

from .models import Digest, Entry
from .views.reading import published_categories, published_tags


class DigestSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8

    def items(self):
        return Digest.objects.published().only("id", "slug", "issue_date", "updated_at")

    def lastmod(self, item):
        return item.updated_at


class EntrySitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.6

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


class TagSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.4

    def items(self):
        return published_tags().annotate(
            lastmod=Max("papers_taggedentry_items__content_object__digest__published_at")
        )

    def location(self, item):
        return reverse("papers:tag-entries", kwargs={"slug": item.slug})

    def lastmod(self, item):
        return item.lastmod


class CategorySitemap(Sitemap):
    changefreq = "daily"
    priority = 0.4

    def items(self):
        return published_categories().annotate(
            lastmod=Max("primary_papers__entries__digest__published_at")
        )

    def location(self, item):
        return reverse("papers:category-entries", kwargs={"code": item.code})

    def lastmod(self, item):
        return item.lastmod


class PagesSitemap(Sitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self):
        return ["papers:home", "papers:entry-list", "papers:tag-list", "papers:category-list"]

    def location(self, item):
        return reverse(item)

    def lastmod(self, item):
        latest = Digest.objects.listed().aggregate(latest=Max("published_at"))["latest"]
        return latest


SITEMAPS = {
    "pages": PagesSitemap,
    "digests": DigestSitemap,
    "entries": EntrySitemap,
    "tags": TagSitemap,
    "categories": CategorySitemap,
}
