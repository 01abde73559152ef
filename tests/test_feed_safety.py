"""Feeds carry no markup the pages do not (issue 22, item 1): every field of every feed is
text, or the sanitised HTML the page shows. An editor who types markup into a summary, the
tagline, a name or a section reaches no feed reader as markup, however naive the reader.

The feeds are read by feedparser as a reader that does not sanitise would read them
(``sanitize_html=False``): a field it takes as HTML must hold no element or handler that came
from an editor's text, and text must come out showing the editor's characters as typed."""

from html.parser import HTMLParser

import feedparser
import pytest
from django.urls import reverse
from django.utils.html import escape
from taggit.models import Tag

from papers.models import Section, SiteSettings
from reading import urls as reading_urls
from tests import factories

pytestmark = pytest.mark.django_db

# What an author might type anywhere: an image with a handler, a script, an ampersand.
HOSTILE = "<img src=x onerror=alert(1)> & <script>alert(1)</script>"

# Every feed the site serves, found in reading/urls.py: a new one fails until ``_feed_url``
# knows its address.
FEED_NAMES = sorted(
    f"reading:{pattern.name}"
    for pattern in reading_urls.urlpatterns
    if getattr(pattern, "name", None) and "feed" in pattern.name
)

HTML_TYPES = {"text/html", "application/xhtml+xml"}


@pytest.fixture
def hostile():
    """A published digest whose every editor-written text is HOSTILE: site name and tagline,
    digest title, summary and tag, category names, paper title, authors, affiliation and
    abstract, entry title and tag, every section, figure caption and alt text. The second
    entry has no sections (its feed summary falls back to its Chinese title)."""
    site = SiteSettings.load()
    site.site_name, site.tagline = HOSTILE, HOSTILE
    site.save()
    category = factories.category("cs.CR", HOSTILE)
    category.name_zh = HOSTILE
    category.save()
    digest = factories.digest(title=HOSTILE, summary=f"{HOSTILE}\n第二行")
    digest.tags.add(HOSTILE)
    fields = {
        "title": HOSTILE,
        "authors": f"{HOSTILE}\nA Lovelace",
        "affiliations": HOSTILE,
        "abstract": HOSTILE,
        "primary_category": category,
    }
    first = factories.entry(digest=digest, paper=factories.paper(**fields), title_zh=HOSTILE)
    for section in first.sections.all():
        section.body = f"{HOSTILE}\n\n**要点**"
        section.save()
    first.figures.update(caption=HOSTILE, alt_text=HOSTILE)
    second = factories.entry(
        digest=digest,
        position=2,
        paper=factories.paper(**fields),
        title_zh=HOSTILE,
        with_sections=False,
    )
    for entry in (first, second):
        entry.tags.add(HOSTILE)
    return digest


def _feed_url(name: str, digest) -> str:
    """The address of the feed ``name`` that lists ``digest`` (a KeyError for a new feed)."""
    tag = Tag.objects.get(name=HOSTILE)
    kwargs = {
        "reading:feed-atom": {},
        "reading:feed-rss": {},
        "reading:tag-feed-atom": {"slug": tag.slug},
        "reading:tag-feed-rss": {"slug": tag.slug},
        "reading:category-feed-atom": {"code": "cs.CR"},
        "reading:category-feed-rss": {"code": "CR"},
        "reading:affiliation-feed-atom": {"name": HOSTILE},
        "reading:affiliation-feed-rss": {"name": HOSTILE},
        "reading:month-feed-atom": {
            "year": digest.issue_date.year,
            "month": digest.issue_date.month,
        },
        "reading:month-feed-rss": {
            "year": digest.issue_date.year,
            "month": digest.issue_date.month,
        },
    }[name]
    return reverse(name, kwargs=kwargs)


def _parse(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    # As a reader that does not sanitise reads it (feedparser's own cleaning would hide a
    # handler the feed carries).
    feed = feedparser.parse(response.content, sanitize_html=False, resolve_relative_uris=False)
    assert not feed.bozo, (url, feed.get("bozo_exception"))
    assert feed.entries, url
    return feed


class _Reader(HTMLParser):
    """What a browser makes of an HTML field: its elements and attributes, and its text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def _fields(feed):
    """Every field feedparser read that a reader shows: (where, type, value). Names, tags
    and categories are text (feedparser gives them no type)."""
    parts = [("feed", feed.feed)] + [(f"entry {i}", item) for i, item in enumerate(feed.entries)]
    for where, node in parts:
        for key, value in node.items():
            if key == "content":
                for part in value:
                    yield f"{where}.content", part["type"], part["value"]
            elif key.endswith("_detail") and "value" in value:
                yield f"{where}.{key}", value["type"], value["value"]
            elif key in ("authors", "tags"):
                for part in value:
                    for text in (part.get("name"), part.get("term")):
                        if text:
                            yield f"{where}.{key}", "text/plain", text


def _shown(kind: str, value: str) -> str:
    """The text a reader shows for a field."""
    return "".join(_Reader(value).text) if kind in HTML_TYPES else value


@pytest.mark.parametrize("name", FEED_NAMES)
def test_no_feed_field_carries_markup_an_editor_typed(client, hostile, name):
    feed = _parse(client, _feed_url(name, hostile))
    fields = list(_fields(feed))
    for where, kind, value in fields:
        if kind in HTML_TYPES:
            # No figure has an image here: any <img> would come from an editor's text.
            for element, attrs in _Reader(value).elements:
                assert element not in ("img", "script"), (name, where, value)
                assert not any(attr.startswith("on") for attr, _ in attrs), (name, where, value)
        else:
            assert kind == "text/plain", (name, where, kind)
        # Never escaped twice: a reader shows the characters, not their entities.
        shown = _shown(kind, value)
        assert "&lt;" not in shown and "&amp;" not in shown, (name, where, value)
    # The editors' text is there, shown as they typed it.
    assert any(HOSTILE in _shown(kind, value) for _where, kind, value in fields), name


def test_site_feeds_show_the_summary_and_tagline_as_text(client, hostile):
    atom = _parse(client, "/feeds/atom/")
    assert atom.feed.title_detail.type == "text/plain"
    assert atom.feed.title == HOSTILE
    assert atom.feed.subtitle_detail.type == "text/plain"
    assert atom.feed.subtitle == HOSTILE
    item = atom.entries[0]
    assert item.title_detail.type == "text/plain"
    assert item.title == HOSTILE
    # The summary is plain text on the page, its lines kept: so it is in the feed.
    assert item.summary_detail.type == "text/html"
    assert item.summary == f"<p>{escape(HOSTILE)}<br>第二行</p>"

    rss = _parse(client, "/feeds/rss/")
    assert rss.feed.title == HOSTILE
    assert rss.feed.subtitle_detail.type == "text/html"  # the channel's <description>
    assert _shown("text/html", rss.feed.subtitle) == HOSTILE
    assert rss.entries[0].title == HOSTILE
    assert rss.entries[0].summary == f"<p>{escape(HOSTILE)}<br>第二行</p>"


@pytest.mark.parametrize(
    "name",
    [name for name in FEED_NAMES if name.startswith(("reading:tag", "reading:category"))]
    + ["reading:affiliation-feed-atom", "reading:month-feed-rss"],
)
def test_entry_feeds_summarise_with_the_sanitised_html_the_page_shows(client, hostile, name):
    feed = _parse(client, _feed_url(name, hostile))
    first, second = hostile.entries.order_by("position")
    by_link = {item.link: item for item in feed.entries}
    summary = Section.objects.get(entry=first, kind__slug="summary")
    item = by_link[f"http://testserver{first.get_absolute_url()}"]
    # 一句话总结 as the page renders it (its Markdown made HTML and sanitised), never its source.
    assert item.summary == summary.body_html
    assert "<strong>要点</strong>" in item.summary
    assert "**" not in item.summary
    # Without one, the Chinese title, as text.
    item = by_link[f"http://testserver{second.get_absolute_url()}"]
    assert _shown(item.summary_detail.type, item.summary) == HOSTILE
    if name.endswith("-rss") and not name.startswith("reading:month"):
        # The channel's <description> is the list's heading, with a name an editor wrote.
        assert feed.feed.subtitle_detail.type == "text/html"
        assert HOSTILE in _shown("text/html", feed.feed.subtitle)
