"""Search ranking and display, facets and no-result suggestions (issue 21, parts 2 and 3), on
a built corpus, through the pages a reader opens. Runs on SQLite and PostgreSQL."""

import datetime
import html
import re
from urllib.parse import unquote_plus

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from papers.models import Section, SectionKind
from tests import factories

pytestmark = pytest.mark.django_db

MAX_QUERIES = 8


def _entry(
    day,
    title,
    *,
    title_zh="",
    limitations="",
    summary="",
    tags=(),
    status="published",
    affiliations="Analytical Engine Lab",
    category=None,
):
    digest = factories.digest(
        issue_date=datetime.date(2025, 1, 1) + datetime.timedelta(days=day), status=status
    )
    paper = factories.paper(
        title=title,
        affiliations=affiliations,
        abstract="An abstract about nothing in particular.",
        **({"primary_category": category} if category else {}),
    )
    entry = factories.entry(
        digest=digest, with_sections=False, paper=paper, title_zh=title_zh or "无关的中文标题"
    )
    kinds = {kind.slug: kind for kind in SectionKind.objects.all()}
    if limitations:
        Section.objects.create(entry=entry, kind=kinds["limitations"], body=limitations)
    if summary:
        Section.objects.create(entry=entry, kind=kinds["summary"], body=summary)
    if tags:
        entry.tags.add(*tags)
    return entry


def _link(href):
    """A link as the reader reads it (entities and percent-escapes decoded)."""
    return unquote_plus(html.unescape(href))


def _page(client, url):
    with override_settings(PAGE_CACHE_ENABLED=False):
        response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _titles(page):
    """The English titles of the result rows, in order, highlighting removed."""
    found = re.findall(r'id="row-\d+-title">.*?lang="en">(.*?)</a></h2>', page, flags=re.S)
    return [html.unescape(re.sub(r"</?mark>", "", title)) for title in found]


def _facet(page, name):
    """{label: (count, href)} of one facet group."""
    match = re.search(
        rf'<section class="facet" aria-labelledby="facet-{name}">(.*?)</section>', page, flags=re.S
    )
    if not match:
        return {}
    values = {}
    for item in re.findall(r"<li>(.*?)</li>", match.group(1), flags=re.S):
        href = re.search(r'href="([^"]+)"', item)
        label = re.sub(r"<span class=\"visually-hidden\">.*?</span>", "", item)
        label = re.sub(r"<span class=\"count\">\d+</span>", "", label)
        label = html.unescape(re.sub(r"<[^>]+>", "", label)).strip()
        count = int(re.search(r'<span class="count">(\d+)</span>', item).group(1))
        values[label] = (count, _link(href.group(1)) if href else None)
    return values


@pytest.fixture
def corpus():
    """Entries whose only difference is where the query words 推理 and planning are."""
    return {
        # Newest first by day; ranking must override the date order.
        "body_both": _entry(
            9, "Sparse Attention Kernels", limitations="- 推理 planning 都提到了。"
        ),
        "summary_both": _entry(8, "Graph Neural Survey", summary="推理与 planning 的综述。"),
        "title_one": _entry(7, "Planning Agents", limitations="- 涉及推理。"),
        "title_zh_one": _entry(
            6, "Vision Transformers", title_zh="推理加速与推理缓存", limitations="- 提到 planning。"
        ),
        "title_both": _entry(5, "Planning as Reasoning", title_zh="规划即推理"),
        "old_title_both": _entry(1, "Planning with Latent Reasoning", title_zh="潜在推理规划"),
        "draft_title": _entry(10, "Planning Draft", title_zh="推理草稿", status="draft"),
    }


def test_titles_rank_first_and_more_title_terms_rank_higher(client, corpus):
    titles = _titles(_page(client, "/search/?q=推理+planning"))
    assert titles == [
        # Both words in the (English or Chinese) title, newest first.
        "Planning as Reasoning",
        "Planning with Latent Reasoning",
        # One of the two words in a title, newest first.
        "Planning Agents",
        "Vision Transformers",
        # Neither in a title: the one-line summary is body text, as the critique.
        "Sparse Attention Kernels",
        "Graph Neural Survey",
    ]


def test_a_chinese_title_match_outranks_newer_summary_and_body_matches(client, corpus):
    titles = _titles(_page(client, "/search/?q=推理"))
    assert titles[:3] == [
        "Vision Transformers",
        "Planning as Reasoning",
        "Planning with Latent Reasoning",
    ]
    assert set(titles[3:]) == {"Sparse Attention Kernels", "Graph Neural Survey", "Planning Agents"}
    assert "Planning Draft" not in titles


def test_titles_and_snippets_are_highlighted_and_escaped(client):
    _entry(
        1,
        "Planning <script>alert(1)</script> Agents",
        title_zh="推理<b>加速</b>",
        limitations="- 关于推理的<i>讨论</i>。",
    )
    page = _page(client, "/search/?q=推理+planning")
    assert (
        'lang="en"><mark>Planning</mark> &lt;script&gt;alert(1)&lt;/script&gt; Agents</a>' in page
    )
    assert '<p class="title-zh"><mark>推理</mark>&lt;b&gt;加速&lt;/b&gt;</p>' in page
    assert re.search(r'<p class="snippet">[^<]*<mark>推理</mark>的&lt;i&gt;讨论', page)
    assert "<script>alert" not in page
    # The same rows in a plain list: no marks, and the fragment kept for them is another.
    listed = _page(client, "/papers/")
    assert "<mark>" not in listed and "Planning &lt;script&gt;" in listed


def test_result_count_and_each_active_filter_with_a_link_without_it(client, corpus):
    corpus["title_both"].tags.add("RL")
    page = _page(client, "/search/?q=推理&tag=rl&category=LG")
    assert "1 paper" in page or "1 篇论文" in page
    chips = dict(
        (html.unescape(re.sub(r"<[^>]+>", "", label)).strip(), _link(href))
        for href, label in re.findall(r'<a class="chip" href="([^"]+)"><span>(.*?)</span>', page)
    )
    assert set(chips) == {"搜索: 推理", "标签: RL", "分类: LG"}
    assert chips["标签: RL"] == "?q=推理&category=LG"
    assert chips["搜索: 推理"] == "?tag=rl&category=LG"
    assert _titles(_page(client, "/search/" + chips["标签: RL"])) == _titles(
        _page(client, "/search/?q=推理&category=LG")
    )


def test_tags_match_in_any_case(client):
    llm = _entry(1, "Large Models", tags=["LLM"])
    page = _page(client, "/papers/?tag=Llm")
    assert _titles(page) == ["Large Models"]
    assert "There is no tag" not in page and "没有标签" not in page
    assert _titles(_page(client, "/papers/?tag=llm")) == ["Large Models"]
    assert llm.tags.get().name == "LLM"
    slug = llm.tags.get().slug
    feed = client.get(f"/tags/{slug.capitalize()}/feed/atom/")  # as the tag's page finds it
    assert feed.status_code == 200 and "Large Models" in feed.content.decode()


def test_affiliations_match_in_any_case_and_count_as_one_facet_value(client):
    _entry(1, "One", affiliations="Google DeepMind", tags=["agents"])
    _entry(2, "Two", affiliations="google deepmind\nMIT", tags=["agents"])
    _entry(3, "Three", affiliations="Tsinghua University", tags=["agents"])
    assert set(_titles(_page(client, "/papers/?affiliation=GOOGLE+deepMind"))) == {"One", "Two"}
    facet = _facet(_page(client, "/papers/?tag=agents"), "affiliation")
    assert {label.casefold(): count for label, (count, _href) in facet.items()} == {
        "google deepmind": 2,
        "mit": 1,
        "tsinghua university": 1,
    }


def test_facet_counts_cover_the_current_result_and_published_entries_only(client):
    lg = factories.category("cs.LG", "Machine Learning")
    cl = factories.category("cs.CL", "Computation and Language")
    _entry(1, "A", tags=["强化学习", "planning"], category=lg)
    _entry(2, "B", tags=["强化学习"], category=cl)
    _entry(3, "Quokka", tags=["强化学习", "safety"], category=cl)
    _entry(4, "D", tags=["safety"], category=lg)  # outside the result
    _entry(5, "E", tags=["强化学习", "planning"], category=lg, status="draft")  # not counted
    page = _page(client, "/papers/?tag=强化学习")
    tags = _facet(page, "tag")
    assert {label: count for label, (count, _href) in tags.items()} == {
        "强化学习": 3,
        "planning": 1,
        "safety": 1,
    }
    # An inactive value adds itself; the active one removes itself.
    assert tags["planning"][1] == "/papers/?tag=强化学习&tag=planning"
    assert tags["强化学习"][1] == "/papers/"
    categories = _facet(page, "category")
    assert {label: count for label, (count, _href) in categories.items()} == {
        "cs.CL": 2,
        "cs.LG": 1,
    }
    assert categories["cs.CL"][1] == "/papers/?tag=强化学习&category=cs.CL"
    # Following a facet gives as many papers as it said.
    narrowed = _page(client, tags["planning"][1])
    assert _titles(narrowed) == ["A"]
    # A search's facets count its matches.
    searched = _facet(_page(client, "/search/?q=quokka"), "tag")
    assert {label: count for label, (count, _href) in searched.items()} == {
        "强化学习": 1,
        "safety": 1,
    }


def test_the_tag_page_shows_its_own_tag_as_chosen_without_a_removal_link(client):
    _entry(1, "A", tags=["强化学习", "planning"])
    tags = _facet(_page(client, "/tags/强化学习/"), "tag")
    assert tags["强化学习"] == (1, None)
    assert tags["planning"][1] == "/tags/强化学习/?tag=planning"


def test_a_search_without_result_suggests_close_tags_and_the_list_without_its_rarest_filter(
    client,
):
    _entry(1, "A", tags=["强化学习"], affiliations="Google DeepMind")
    _entry(2, "B", tags=["强化学习"], affiliations="Google DeepMind")
    _entry(3, "C", tags=["safety"], affiliations="MIT")
    page = _page(client, "/search/?q=强化&affiliation=MIT")
    assert _titles(page) == []
    suggestions = re.search(r'<div class="search-suggestions".*?</div>', page, flags=re.S).group(0)
    # The tag 强化学习 contains the word searched.
    assert "/tags/%E5%BC%BA%E5%8C%96%E5%AD%A6%E4%B9%A0/" in suggestions
    # MIT alone finds 1 paper, the word 强化 2 (A and B, by their tag): MIT is dropped.
    link = _link(re.search(r'<a href="(\?[^"]*)">', suggestions).group(1))
    assert link == "?q=强化"
    assert set(_titles(_page(client, "/search/" + link))) == {"A", "B"}
    # The other way round, the word is dropped.
    page = _page(client, "/search/?q=强化&affiliation=Google+DeepMind&tag=safety")
    suggestions = re.search(r'<div class="search-suggestions".*?</div>', page, flags=re.S).group(0)
    link = _link(re.search(r'<a href="(\?[^"]*)">', suggestions).group(1))
    assert link == "?q=强化&affiliation=Google DeepMind"  # safety alone: 1, the rarest


def test_an_unknown_tag_is_the_rarest_filter_and_close_tags_are_offered(client):
    _entry(1, "A", tags=["reinforcement-learning"])
    page = _page(client, "/papers/?tag=reinforcement-lerning&category=LG")
    suggestions = re.search(r'<div class="search-suggestions".*?</div>', page, flags=re.S).group(0)
    assert "/tags/reinforcement-learning/" in suggestions
    assert 'href="?category=LG"' in suggestions


def _cold_queries(client, url):
    """The queries of ``url`` rendered afresh with every cache empty (the worst case)."""
    with override_settings(PAGE_CACHE_ENABLED=False):
        client.get(url)
        caches["default"].clear()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


URLS = [
    "/papers/?tag=强化学习&category=LG",
    "/papers/?tag=强化学习&date_from=2025-01-01&date_to=2025-12-31",
    "/search/?q=推理",
    "/search/?q=推理+planning&tag=强化学习",
    "/search/?q=reasoning&category=CL",
    "/papers/?tag=强化学习&affiliation=deepmind",
    "/tags/强化学习/",
    "/search/?q=不存在的词&tag=强化学习",  # no result: suggestions
    "/search/?q=推理&tag=nosuch",  # an unknown tag: suggestions
]


def _grow(start, count):
    lg = factories.category("cs.LG", "Machine Learning")
    cl = factories.category("cs.CL", "Computation and Language")
    for n in range(start, start + count):
        _entry(
            n,
            f"Planning Reasoning {n}",
            title_zh=f"推理第{n}号",
            limitations="- 推理与 planning。",
            tags=["强化学习", f"tag-{n % 7}"],
            category=lg if n % 2 else cl,
            affiliations=f"Google DeepMind\nLab {n % 5}",
        )


@pytest.mark.parametrize("url", URLS)
def test_facets_and_suggestions_keep_the_query_budget_at_any_size(
    client, url, django_assert_max_num_queries
):
    _grow(1, 3)
    small = _cold_queries(client, url)
    _grow(10, 40)
    large = _cold_queries(client, url)
    assert small == large, url
    with override_settings(PAGE_CACHE_ENABLED=False):
        caches["default"].clear()
        with django_assert_max_num_queries(MAX_QUERIES):
            assert client.get(url).status_code == 200


def test_on_a_category_page_another_category_leads_to_its_own_page(client):
    lg = factories.category("cs.LG", "Machine Learning")
    cl = factories.category("cs.CL", "Computation and Language")
    entry = _entry(1, "A", tags=["agents"], category=lg)
    entry.paper.categories.add(cl)
    entry.paper.save()  # the cross-list reaches the search row
    categories = _facet(_page(client, "/categories/cs.LG/?tag=agents"), "category")
    assert categories["cs.LG"] == (1, None)
    assert categories["cs.CL"] == (1, "/categories/cs.CL/?tag=agents")
