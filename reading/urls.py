from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path

from reading import (
    converters,  # noqa: F401 (registers the path converters)
    feeds,
)
from reading.sitemaps import SITEMAPS
from reading.views import lists as reading
from reading.views import pages as views

app_name = "reading"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path(
        "digests/<isodate:date>/<slug:slug>/",
        views.DigestDetailView.as_view(),
        name="digest-detail",
    ),
    path(
        "digests/<isodate:date>/<slug:slug>/<arxiv:arxiv_id>/",
        views.EntryDetailView.as_view(),
        name="entry-detail",
    ),
]

urlpatterns += [
    # Reading: lists with filter presets, search, feeds, sitemap, sections, comparison, API.
    path("papers/", reading.EntryListView.as_view(), name="entry-list"),
    path("search/", reading.SearchView.as_view(), name="search"),
    path("tags/", reading.BrowseView.as_view(kind="tags"), name="tag-list"),
    path("tags/<name:slug>/", reading.TagEntryListView.as_view(), name="tag-entries"),
    path("tags/<name:slug>/feed/atom/", feeds.TagFeed(), name="tag-feed-atom"),
    path("tags/<name:slug>/feed/rss/", feeds.rss(feeds.TagFeed)(), name="tag-feed-rss"),
    path("categories/", reading.BrowseView.as_view(kind="categories"), name="category-list"),
    path(
        "categories/<name:code>/", reading.CategoryEntryListView.as_view(), name="category-entries"
    ),
    path("categories/<name:code>/feed/atom/", feeds.CategoryFeed(), name="category-feed-atom"),
    path(
        "categories/<name:code>/feed/rss/",
        feeds.rss(feeds.CategoryFeed)(),
        name="category-feed-rss",
    ),
    # Affiliation names may contain "/", so the name is a path and the feeds come first.
    path(
        "affiliations/<namepath:name>/feed/atom/",
        feeds.AffiliationFeed(),
        name="affiliation-feed-atom",
    ),
    path(
        "affiliations/<namepath:name>/feed/rss/",
        feeds.rss(feeds.AffiliationFeed)(),
        name="affiliation-feed-rss",
    ),
    path(
        "affiliations/<namepath:name>/",
        reading.AffiliationEntryListView.as_view(),
        name="affiliation-entries",
    ),
    path("archive/", reading.BrowseView.as_view(kind="months"), name="archive"),
    path(
        "archive/<int:year>/<int:month>/",
        reading.MonthEntryListView.as_view(),
        name="month-entries",
    ),
    path("archive/<int:year>/<int:month>/feed/atom/", feeds.MonthFeed(), name="month-feed-atom"),
    path(
        "archive/<int:year>/<int:month>/feed/rss/",
        feeds.rss(feeds.MonthFeed)(),
        name="month-feed-rss",
    ),
    path("sections/<slug:kind>/", reading.SectionListView.as_view(), name="section-list"),
    path("compare/", reading.CompareView.as_view(), name="compare"),
    path("privacy/", reading.PrivacyView.as_view(), name="privacy"),
    path("feeds/atom/", feeds.DigestFeed(), name="feed-atom"),
    path("feeds/rss/", feeds.DigestRssFeed(), name="feed-rss"),
    path("robots.txt", reading.robots_txt, name="robots-txt"),
    path(
        "sitemap.xml",
        sitemap_views.index,
        {"sitemaps": SITEMAPS, "sitemap_url_name": "reading:sitemap-section"},
        name="sitemap-index",
    ),
    path(
        "sitemap-<section>.xml",
        sitemap_views.sitemap,
        {"sitemaps": SITEMAPS},
        name="sitemap-section",
    ),
    path("api/v1/", include("reading.api")),
]
