"""Feeds (parsed by feedparser), sitemap.xml and robots.txt."""

import datetime
import re
from xml.etree import ElementTree

import feedparser
import pytest
from django.utils import timezone
from taggit.models import Tag

from papers.changes import content_changed
from papers.models import Category, Digest
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def published():
    digest = factories.digest(entries=2, title="AI前沿推介(9.30)", summary="本期摘要")
    digest.tags.add("推荐")
    entry = digest.entries.get(position=1)
    entry.tags.add("强化学习")
    draft = factories.digest(entries=1, status="draft", title="草稿一期")
    draft.entries.get().tags.add("强化学习")
    return digest


def _parse(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    feed = feedparser.parse(response.content)
    assert not feed.bozo, (url, feed.get("bozo_exception"))
    return response, feed


def test_site_atom_feed_carries_full_digests_with_dates_categories_and_stable_ids(
    client, published
):
    response, feed = _parse(client, "/feeds/atom/")
    assert response["Content-Type"].startswith("application/atom+xml")
    assert feed.version == "atom10"
    assert [item.title for item in feed.entries] == ["AI前沿推介(9.30)"]
    item = feed.entries[0]
    assert item.link.endswith(published.get_absolute_url())
    assert item.id.startswith("tag:testserver,2025:digest/")
    assert item.published_parsed[:3] == published.published_at.utctimetuple()[:3]
    content = item.content[0].value
    for entry in published.entries.all():
        assert entry.paper.title in content
        for section in entry.sections.all():
            assert section.body_html in content
    terms = {tag.term for tag in item.tags}
    assert {"推荐", "强化学习", "cs.LG"} <= terms
    assert feed.feed.author == "AI前沿推介"
    # The id does not change when the digest is renamed.
    published.title = "改名之后"
    published.save()
    _response, again = _parse(client, "/feeds/atom/")
    assert again.entries[0].id == item.id


def test_site_rss_feed_parses_with_full_content(client, published):
    _response, feed = _parse(client, "/feeds/rss/")
    assert feed.version == "rss20"
    assert "本期摘要" in feed.entries[0].summary
    assert "要点" in feed.entries[0].content[0].value


@pytest.mark.parametrize(
    "url",
    [
        "/tags/强化学习/feed/atom/",
        "/tags/强化学习/feed/rss/",
        "/categories/cs.LG/feed/atom/",
        "/categories/LG/feed/rss/",
        "/affiliations/Analytical Engine Lab/feed/atom/",
        "/archive/{month}/feed/rss/",
    ],
)
def test_list_feeds_hold_published_entries_only(client, published, url):
    url = url.format(month=published.issue_date.strftime("%Y/%m").replace("/0", "/"))
    _response, feed = _parse(client, url)
    titles = [item.title for item in feed.entries]
    assert titles, url
    assert all(title.startswith("[LG] ") for title in titles)
    body = "".join(item.content[0].value for item in feed.entries)
    assert "草稿一期" not in body
    ids = {item.id for item in feed.entries}
    assert all(i.startswith("tag:testserver,2025:entry/") for i in ids)
    if "/tags/" in url:
        assert len(titles) == 1  # the draft's tagged entry is not there


TAG_URI = re.compile(r"^tag:[A-Za-z0-9.-]+,\d{4}(-\d\d(-\d\d)?)?:[\x21-\x7e]+$")
ATOM_ID = "{http://www.w3.org/2005/Atom}id"


def _ids(response):
    """Every <id> of an Atom document: the feed's first, then each entry's."""
    root = ElementTree.fromstring(response.content)
    entries = root.findall("{http://www.w3.org/2005/Atom}entry")
    return [root.findtext(ATOM_ID)] + [entry.findtext(ATOM_ID) for entry in entries]


def _check_ids(response, feed_id):
    ids = _ids(response)
    assert ids[0] == feed_id
    assert all(TAG_URI.match(i) for i in ids), ids
    assert len(set(ids)) == len(ids), ids  # the feed's and every entry's id: all different
    return ids


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/feeds/atom/", "feed/site"),
        ("/tags/强化学习/feed/atom/", "feed/tag/{tag}"),
        ("/categories/cs.LG/feed/atom/", "feed/category/{category}"),
        ("/categories/LG/feed/atom/", "feed/category/{category}"),
        (
            "/affiliations/Analytical Engine Lab/feed/atom/",
            "feed/affiliation/Analytical%20Engine%20Lab",
        ),
        (
            "/affiliations/Université de Montréal/清华大学/feed/atom/",
            "feed/affiliation/Universit%C3%A9%20de%20Montr%C3%A9al%2F%E6%B8%85%E5%8D%8E%E5%A4%A7%E5%AD%A6",
        ),
        ("/archive/{year}/{month}/feed/atom/", "feed/month/{year}-{month:02d}"),
    ],
)
def test_each_feed_has_its_own_valid_tag_uri_id(client, published, url, expected):
    factories.entry(
        digest=published,
        position=3,
        paper=factories.paper(affiliations="Université de Montréal/清华大学"),
    )
    names = {
        "tag": Tag.objects.get(name="强化学习").pk,
        "category": Category.objects.get(code="cs.LG").pk,
        "year": published.issue_date.year,
        "month": published.issue_date.month,
    }
    _response, feed = _parse(client, url.format(**names))
    assert feed.entries
    feed_id = "tag:testserver,2025:" + expected.format(**names)
    assert feed.feed.id == feed_id
    ids = _check_ids(_response, feed_id)
    # The items' ids are as they always were.
    if url == "/feeds/atom/":
        assert ids[1:] == [f"tag:testserver,2025:digest/{published.pk}"]
    else:
        assert all(re.fullmatch(r"tag:testserver,2025:entry/\d+", i) for i in ids[1:]), ids


def test_the_rss_twins_still_parse_with_the_same_item_guids(client, published):
    for atom in ("/feeds/atom/", "/tags/强化学习/feed/atom/", "/categories/cs.LG/feed/atom/"):
        _response, atom_feed = _parse(client, atom)
        _response, rss_feed = _parse(client, atom.replace("/atom/", "/rss/"))
        assert [item.id for item in rss_feed.entries] == [item.id for item in atom_feed.entries]
        assert [item.guidislink for item in rss_feed.entries] == [False] * len(rss_feed.entries)


def test_a_short_code_of_several_archives_names_them_all_in_its_feed_id(client):
    numerical = factories.category("cs.NA", "Numerical Analysis")
    maths = factories.category("math.NA", "Numerical Analysis")
    digest = factories.digest()
    factories.entry(digest=digest, paper=factories.paper(primary_category=numerical))
    factories.entry(digest=digest, position=2, paper=factories.paper(primary_category=maths))
    response, feed = _parse(client, "/categories/NA/feed/atom/")
    assert len(feed.entries) == 2
    _check_ids(response, f"tag:testserver,2025:feed/category/{numerical.pk},{maths.pk}")
    response, feed = _parse(client, "/categories/math.NA/feed/atom/")
    assert len(feed.entries) == 1
    _check_ids(response, f"tag:testserver,2025:feed/category/{maths.pk}")


def test_feed_ids_do_not_change_when_the_tag_or_category_is_renamed(client, published):
    tag = Tag.objects.get(name="强化学习")
    category = Category.objects.get(code="cs.LG")
    before = {
        "/tags/强化学习/feed/atom/": _ids(_parse(client, "/tags/强化学习/feed/atom/")[0]),
        "/categories/cs.LG/feed/atom/": _ids(_parse(client, "/categories/cs.LG/feed/atom/")[0]),
    }
    entry = published.entries.get(position=1)
    assert before["/tags/强化学习/feed/atom/"] == [
        f"tag:testserver,2025:feed/tag/{tag.pk}",
        f"tag:testserver,2025:entry/{entry.pk}",
    ]
    tag.name, tag.slug = "深度强化学习", "deep-rl"
    tag.save()
    category.name, category.name_zh = "Learning", "机器学习"
    category.save()
    content_changed(names=True)  # as the tag and category admins announce a rename
    for url in ("/tags/深度强化学习/feed/atom/", "/tags/deep-rl/feed/atom/"):
        response, feed = _parse(client, url)
        assert "深度强化学习" in feed.feed.title  # a fresh document, not a cached one
        assert _ids(response) == before["/tags/强化学习/feed/atom/"]
    assert client.get("/tags/强化学习/feed/atom/").status_code == 404
    response, feed = _parse(client, "/categories/cs.LG/feed/atom/")
    assert "机器学习" in feed.feed.title
    assert _ids(response) == before["/categories/cs.LG/feed/atom/"]


def test_feeds_of_unknown_tags_categories_and_months_are_404(client, published):
    for url in ("/tags/nope/feed/atom/", "/categories/XX/feed/rss/", "/archive/2025/13/feed/atom/"):
        assert client.get(url).status_code == 404


def test_feed_dates_follow_go_live_not_creation(client):
    live = timezone.now() - datetime.timedelta(days=3)
    factories.digest(entries=1, published_at=live)
    _response, feed = _parse(client, "/feeds/atom/")
    assert feed.entries[0].published_parsed[:3] == live.utctimetuple()[:3]


def test_sitemap_lists_published_digests_entries_tags_and_categories_with_lastmod(
    client, published
):
    index = client.get("/sitemap.xml").content.decode()
    sections = re.findall(r"<loc>http://testserver(/sitemap-[a-z]+\.xml)</loc>", index)
    assert set(sections) == {
        "/sitemap-pages.xml",
        "/sitemap-digests.xml",
        "/sitemap-entries.xml",
        "/sitemap-tags.xml",
        "/sitemap-categories.xml",
    }
    everything = "".join(client.get(section).content.decode() for section in sections)
    assert published.get_absolute_url() in everything
    for entry in published.entries.all():
        assert entry.get_absolute_url() in everything
    assert (
        "/tags/%E5%BC%BA%E5%8C%96%E5%AD%A6%E4%B9%A0/" in everything
        or "/tags/强化学习/" in everything
    )
    assert "/categories/cs.LG/" in everything
    assert "草稿" not in everything
    draft_urls = [e.get_absolute_url() for e in Digest.objects.get(status="draft").entries.all()]
    assert all(url not in everything for url in draft_urls)
    assert everything.count("<lastmod>") >= 5


def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in text
    assert "Disallow: /admin/" in text


def test_a_large_sitemap_section_is_split_into_pages_the_index_lists(client, monkeypatch):
    from reading.sitemaps import EntrySitemap

    monkeypatch.setattr(EntrySitemap, "limit", 2)
    digest = factories.digest(entries=5)
    index = client.get("/sitemap.xml").content.decode()
    pages = re.findall(r"<loc>http://testserver(/sitemap-entries\.xml(?:\?p=\d)?)</loc>", index)
    assert pages == [
        "/sitemap-entries.xml",
        "/sitemap-entries.xml?p=2",
        "/sitemap-entries.xml?p=3",
    ]
    listed = "".join(client.get(page).content.decode() for page in pages)
    for entry in digest.entries.all():
        assert listed.count(entry.get_absolute_url() + "<") == 1
    assert client.get("/sitemap-entries.xml?p=4").status_code == 404
