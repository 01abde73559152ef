"""The entry list, its filters and presets, sections, comparison, and their query counts."""

import datetime
import re

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from papers.models import Section, SectionKind
from tests import factories

pytestmark = pytest.mark.django_db


def _count_queries(client, url, *, cold=False):
    # The rendering's queries: the page cache would answer the second request itself.
    with override_settings(PAGE_CACHE_ENABLED=False):
        client.get(url)
        if cold:
            for alias in settings.CACHES:
                caches[alias].clear()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, url
        return len(captured)


def _titles(response):
    return re.findall(
        r'id="row-\d+-title">.*?<a href="[^"]+" lang="en">([^<]+)</a>', response.content.decode()
    )


@pytest.fixture
def library():
    """Three published entries in two months, tagged and categorised differently, and one draft."""
    cl = factories.category("cs.CL", "Computation and Language")
    lg = factories.category("cs.LG", "Machine Learning")
    september = factories.digest(issue_date=datetime.date(2025, 9, 30), title="九月号")
    october = factories.digest(issue_date=datetime.date(2025, 10, 2), title="十月号")
    rl_planning = factories.entry(
        digest=september,
        position=1,
        paper=factories.paper(
            title="RL Planning",
            primary_category=lg,
            affiliations="Microsoft Research Asia",
            authors="S Wang\nY Shen",
        ),
    )
    rl_planning.tags.add("强化学习", "planning")
    code_reasoning = factories.entry(
        digest=september,
        position=2,
        paper=factories.paper(title="Code Reasoning", primary_category=cl, affiliations="Google"),
    )
    code_reasoning.tags.add("强化学习")
    danger = factories.entry(
        digest=october,
        position=1,
        paper=factories.paper(
            title="Physical Danger", primary_category=cl, affiliations="Google DeepMind"
        ),
    )
    danger.tags.add("safety")
    danger.paper.categories.add(lg)
    draft = factories.digest(status="draft", issue_date=datetime.date(2025, 10, 3))
    secret = factories.entry(
        digest=draft, paper=factories.paper(title="Secret Draft Paper", primary_category=lg)
    )
    secret.tags.add("强化学习")
    return {"rl": rl_planning, "code": code_reasoning, "danger": danger, "draft": secret}


def test_list_shows_published_entries_newest_first(client, library):
    titles = _titles(client.get("/papers/"))
    assert titles == ["Physical Danger", "RL Planning", "Code Reasoning"]


def test_tags_combine_as_all_of(client, library):
    assert set(_titles(client.get("/papers/?tag=强化学习"))) == {"RL Planning", "Code Reasoning"}
    assert _titles(client.get("/papers/?tag=强化学习&tag=planning")) == ["RL Planning"]


def test_category_accepts_short_and_full_codes_and_includes_cross_lists(client, library):
    assert set(_titles(client.get("/papers/?category=LG"))) == {"RL Planning", "Physical Danger"}
    assert set(_titles(client.get("/papers/?category=cs.lg"))) == {"RL Planning", "Physical Danger"}
    assert set(_titles(client.get("/papers/?category=CL"))) == {"Code Reasoning", "Physical Danger"}


def test_affiliation_author_date_and_digest_filters_combine(client, library):
    assert set(_titles(client.get("/papers/?affiliation=google"))) == {
        "Code Reasoning",
        "Physical Danger",
    }
    assert _titles(client.get("/papers/?affiliation=google&category=CL&date_to=2025-09-30")) == [
        "Code Reasoning"
    ]
    assert _titles(client.get("/papers/?author=Y+Shen")) == ["RL Planning"]
    assert _titles(client.get("/papers/?date_from=2025-10-01")) == ["Physical Danger"]
    digest_id = library["danger"].digest_id
    assert _titles(client.get(f"/papers/?digest={digest_id}")) == ["Physical Danger"]


def test_active_filters_appear_as_chips_that_remove_themselves(client, library):
    html = client.get("/papers/?tag=强化学习&category=LG").content.decode()
    chips = re.findall(r'<a class="chip" href="([^"]+)">', html)
    assert len(chips) == 2
    removed_tag = client.get("/papers/" + chips[0].replace("&amp;", "&"))
    assert set(_titles(removed_tag)) == {"RL Planning", "Physical Danger"}


def test_search_combines_with_filters_and_highlights(client, library):
    factories.entry(
        digest=library["danger"].digest,
        position=2,
        with_sections=False,
        paper=factories.paper(title="Unrelated", abstract="A distillation trick."),
    )
    response = client.get("/papers/?q=distillation")
    assert _titles(response) == ["Unrelated"]
    assert "<mark>distillation</mark>" in response.content.decode()
    assert _titles(client.get("/papers/?q=distillation&category=CL")) == []
    assert _titles(client.get("/papers/?q=distillation&category=LG")) == ["Unrelated"]


def test_sort_by_views(client, library):
    library["code"].view_count = 50
    library["code"].save()
    assert _titles(client.get("/papers/?sort=views"))[0] == "Code Reasoning"


@pytest.mark.parametrize(
    "query",
    [
        "date_from=2025-13-45",
        "date_to=yesterday",
        "digest=999999",
        "digest=abc",
        "sort=chaos",
        "date_from=2025-10-02&date_to=2025-09-01",
    ],
)
def test_malformed_values_are_form_errors_not_500s(client, library, query):
    response = client.get(f"/papers/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-invalid="true"' in html or "field-error" in html
    assert _titles(response) == []


@pytest.mark.parametrize("query", ["tag=no-such-tag", "category=XX", "category=cs.NOPE"])
def test_unknown_tags_and_categories_give_an_empty_list_with_a_message(client, library, query):
    response = client.get(f"/papers/?{query}")
    assert response.status_code == 200
    assert _titles(response) == []
    assert 'class="notice"' in response.content.decode()


def test_tag_category_affiliation_and_month_pages_are_presets_with_feeds(client, library):
    pages = {
        "/tags/强化学习/": {"RL Planning", "Code Reasoning"},
        "/categories/cs.LG/": {"RL Planning", "Physical Danger"},
        "/affiliations/Google DeepMind/": {"Physical Danger"},
        "/archive/2025/9/": {"RL Planning", "Code Reasoning"},
    }
    for url, expected in pages.items():
        response = client.get(url)
        assert set(_titles(response)) == expected, url
        html = response.content.decode()
        assert re.search(
            r'<link rel="alternate" type="application/atom\+xml" title="[^"]+" '
            r'href="[^"]+/feed/atom/"',
            html,
        ), url
        assert re.search(r'<h1 class="page-title">[^<]+</h1>', html)
    # The preset still combines with the reader's own filters.
    assert _titles(client.get("/tags/强化学习/?category=CL")) == ["Code Reasoning"]


def test_unknown_tag_and_category_pages_say_so_with_404(client, library):
    for url in ("/tags/nothing-here/", "/categories/cs.XYZ/"):
        response = client.get(url)
        assert response.status_code == 404
        assert 'class="notice"' in response.content.decode()


def test_list_paginates_and_keeps_filters_in_links(client, monkeypatch):
    monkeypatch.setattr("reading.views.lists.EntryListView.page_size", 2)
    digest = factories.digest()
    for position in range(1, 6):
        entry = factories.entry(digest=digest, position=position, with_sections=False)
        entry.tags.add("rl")
    html = client.get("/papers/?tag=rl").content.decode()
    assert 'href="?tag=rl&amp;page=2"' in html
    assert len(_titles(client.get("/papers/?tag=rl&page=3"))) == 1
    assert client.get("/papers/?tag=rl&page=9").status_code == 404


def test_sections_page_lists_one_kind_across_filtered_entries(client, library):
    response = client.get("/sections/limitations/?tag=强化学习")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="section-row"') == 2
    assert "Secret Draft Paper" not in html
    assert "不足第一条" in html and "要点第一条" not in html
    assert client.get("/sections/no-such-kind/").status_code == 404


def test_compare_puts_sections_side_by_side(client, library):
    a, b = library["rl"], library["code"]
    response = client.get(f"/compare/?e={a.pk}&e={b.pk}")
    html = response.content.decode()
    assert response.status_code == 200
    rows = re.findall(r'<tr><th scope="row">', html)
    assert len(rows) == SectionKind.objects.count()
    assert "RL Planning" in html and "Code Reasoning" in html


@pytest.mark.parametrize("params", ["", "e=1", "e=1&e=2&e=3&e=4&e=5", "e=x&e=y"])
def test_compare_needs_two_to_four_valid_papers(client, library, params):
    response = client.get(f"/compare/?{params}")
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


def _alert(response):
    found = re.findall(
        r'<p class="notice notice-error" role="alert">(.*?)</p>', response.content.decode()
    )
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("²", "²"),  # str.isdigit() says yes, int() raises
        ("٣", "٣"),  # an Arabic-Indic 3: int() reads it, the site must not
        ("1" * 25, "1" * 20),  # beyond any database's integer (SQLite overflowed: a 500)
        ("-1", "-1"),
        ("\x00", "\ufffd"),
        ("1\x002", "1\ufffd2"),
    ],
)
def test_compare_refuses_every_malformed_id_like_any_other(client, library, value, shown):
    other = library["rl"].pk
    expected = _alert(client.get(f"/compare/?e=x&e={other}")).replace("x", "{}", 1)
    for params in ({"e": [value, other]}, {"e": [other, value]}):
        response = client.get("/compare/", params)
        assert response.status_code == 400, params
        assert _alert(response) == expected.format(shown), params
        assert "RL Planning" not in response.content.decode()


def test_compare_accepts_ids_up_to_eighteen_digits(client, library):
    unknown = _alert(client.get("/compare/?e=999999&e=1"))
    response = client.get(f"/compare/?e={'9' * 18}&e={library['rl'].pk}")
    assert response.status_code == 400
    assert _alert(response) == unknown  # a well-formed id of no published paper
    a, b = library["rl"].pk, library["code"].pk
    assert client.get(f"/compare/?e={a:018d}&e={b}").status_code == 200


def test_compare_refuses_drafts(client, library):
    response = client.get(f"/compare/?e={library['rl'].pk}&e={library['draft'].pk}")
    assert response.status_code == 400
    assert "Secret Draft Paper" not in response.content.decode()


def test_digest_and_entry_pages_have_share_cards_and_canonical_urls(client, library):
    entry = library["rl"]
    summary = Section.objects.get(entry=entry, kind__slug="summary")
    html = client.get(entry.get_absolute_url()).content.decode()
    assert f'<meta property="og:title" content="{entry.paper.title}">' in html
    assert f'<meta property="og:description" content="{summary.body}">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert f'<meta property="og:url" content="http://testserver{entry.get_absolute_url()}">' in html
    digest_html = client.get(entry.digest.get_absolute_url()).content.decode()
    assert f'<meta property="og:title" content="{entry.digest.title}">' in digest_html
    assert 'rel="canonical"' in digest_html


def _canonical(client, url):
    html = client.get(url).content.decode()
    found = re.findall(r'<link rel="canonical" href="([^"]*)">', html)
    assert html.count('rel="canonical"') == 1 and len(found) == 1, url
    return found[0]


def test_home_and_index_pages_have_one_canonical_url(client, library):
    pages = {
        "/": "http://testserver/",
        "/?utm_source=feed&page=1": "http://testserver/",
        "/tags/": "http://testserver/tags/",
        "/tags/?utm_source=feed": "http://testserver/tags/",
        "/categories/": "http://testserver/categories/",
        "/archive/": "http://testserver/archive/",
        "/archive/?ref=x&page=2": "http://testserver/archive/",
    }
    for url, canonical in pages.items():
        assert _canonical(client, url) == canonical, url


def test_paginated_home_keeps_its_page_in_the_canonical_url(client, library, settings):
    settings.HOME_PAGE_SIZE = 1
    assert _canonical(client, "/?page=2&utm_medium=email") == "http://testserver/?page=2"
    assert _canonical(client, "/?page=1") == "http://testserver/"
    # As the entry list does.
    assert _canonical(client, "/papers/?tag=rl&page=1") == "http://testserver/papers/"


def test_every_page_has_the_search_box_and_site_feeds(client, library):
    for url in ("/", "/papers/", library["rl"].get_absolute_url(), "/tags/"):
        html = client.get(url).content.decode()
        assert 'action="/search/"' in html, url
        assert 'href="/feeds/atom/"' in html and 'href="/feeds/rss/"' in html


def _grow(size):
    cl = factories.category("cs.CL")
    for day in range(size):  # all in January 2025, which /archive/2025/1/ lists
        digest = factories.digest(issue_date=datetime.date(2025, 1, 1 + day % 28))
        entry = factories.entry(
            digest=digest, paper=factories.paper(primary_category=cl, affiliations="Google")
        )
        entry.tags.add("rl", "llm")


LIST_URLS = [
    "/papers/",
    "/papers/?tag=rl&category=CL&sort=views",
    "/papers/?q=推理&tag=rl",
    "/search/?q=things",
    "/tags/rl/",
    "/categories/cs.CL/",
    "/affiliations/Google/",
    "/archive/2025/1/",
    "/sections/limitations/?q=推理",
    "/tags/",
    "/categories/",
    "/archive/",
]


@pytest.mark.parametrize("url", LIST_URLS)
def test_list_query_counts_do_not_grow_with_data(client, url):
    _grow(1)
    small = _count_queries(client, url)
    # With every cache empty too (the rows' fragments rendered afresh): no query per row.
    small_cold = _count_queries(client, url, cold=True)
    _grow(25)
    assert _count_queries(client, url) == small
    assert _count_queries(client, url, cold=True) == small_cold


def test_affiliations_with_slashes_have_their_own_page_and_feed(client):
    digest = factories.digest()
    factories.entry(
        digest=digest,
        with_sections=False,
        paper=factories.paper(title="Joint Work", affiliations="UC Berkeley / Google"),
    )
    html = client.get("/papers/").content.decode()
    assert 'href="/affiliations/UC%20Berkeley%20/%20Google/"' in html
    assert _titles(client.get("/affiliations/UC Berkeley / Google/")) == ["Joint Work"]
    assert client.get("/affiliations/UC Berkeley / Google/feed/atom/").status_code == 200


OTHER_URLS = [
    "/feeds/atom/",
    "/feeds/rss/",
    "/tags/rl/feed/atom/",
    "/categories/cs.CL/feed/rss/",
    "/affiliations/Google/feed/atom/",
    "/archive/2025/1/feed/atom/",
    "/sitemap.xml",
    "/sitemap-digests.xml",
    "/sitemap-pages.xml",
    "/sitemap-entries.xml",
    "/sitemap-tags.xml",
    "/sitemap-categories.xml",
    "/api/v1/digests/",
    "/api/v1/entries/?tag=rl&category=CL",
    "/api/v1/entries/?q=推理",
    "/api/v1/tags/",
    "/api/v1/categories/",
]


def _count_uncached(client, url, run, *, cold=False):
    """Queries of ``url`` on a fresh address (API responses are cached per address);
    ``cold``: with every cache emptied first."""
    join = "&" if "?" in url else "?"
    client.get(f"{url}{join}warm={run}")
    if cold:
        for alias in settings.CACHES:
            caches[alias].clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{url}{join}measure={run}")
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("url", OTHER_URLS)
def test_feed_sitemap_and_api_query_counts_do_not_grow_with_data(client, url):
    _grow(1)
    small = _count_uncached(client, url, 1)
    small_cold = _count_uncached(client, url, 3, cold=True)
    assert small > 0
    _grow(25)
    assert _count_uncached(client, url, 2) == small
    assert _count_uncached(client, url, 4, cold=True) == small_cold


def test_compare_and_api_detail_query_counts_do_not_grow_with_data(client):
    """The comparison of two papers, a digest's API detail and an entry's: the same number
    of queries for a digest of two papers as for one of twenty, with the archive grown."""

    def counts(size):
        digest = factories.digest(entries=size)
        first, last = digest.entries.order_by("position")[0], digest.entries.last()
        return [
            _count_uncached(client, url, size)
            for url in (
                f"/compare/?e={first.pk}&e={last.pk}",
                f"/api/v1/digests/{digest.issue_date}/{digest.slug}/",
                f"/api/v1/entries/{last.pk}/",
            )
        ]

    small = counts(2)
    _grow(25)
    assert counts(20) == small
