"""Search on SQLite through the FTS5 index (migration 0010, papers/search.py): the terms are
single index tokens, words and facets make one MATCH, the triggers keep the index equal to
the search rows through every write, and no query a reader types is an error."""

import datetime
import re

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from papers.models import Entry, Section, SectionKind
from reading import search
from reading.models import EntrySearch
from tests import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only"),
]


def _entry(digest=None, *, title="A Plain Title", limitations="", tags=(), **paper):
    digest = digest or factories.digest()
    entry = factories.entry(
        digest=digest,
        position=digest.entries.count() + 1,
        with_sections=False,
        paper=factories.paper(title=title, **paper),
    )
    if limitations:
        kind = SectionKind.objects.get(slug="limitations")
        Section.objects.create(entry=entry, kind=kind, body=limitations)
    if tags:
        entry.tags.add(*tags)
    return entry


def _titles(client, url):
    with override_settings(PAGE_CACHE_ENABLED=False):
        response = client.get(url)
    assert response.status_code == 200, url
    return set(
        re.sub(r"</?mark>", "", title)  # a search's words are highlighted in titles
        for title in re.findall(
            r'id="row-\d+-title">.*?<a href="[^"]+" lang="en">(.*?)</a>',
            response.content.decode(),
        )
    )


def _assert_index_matches_rows():
    """FTS5's own check of an external-content index against the content table: every
    token of every row is indexed, and nothing else."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {search.FTS_TABLE} ({search.FTS_TABLE}, rank) "
            "VALUES ('integrity-check', 1)"
        )


def _indexed_rowids(match):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH %s", [match]
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def shelf():
    """Published entries on reasoning and distillation, tagged and categorised, and a draft."""
    cl = factories.category("cs.CL", "Computation and Language")
    lg = factories.category("cs.LG", "Machine Learning")
    digest = factories.digest(issue_date=datetime.date(2025, 10, 2))
    return {
        "reasoning": _entry(
            digest,
            title="Reasoning Models",
            limitations="- 推理模型的蒸馏成本很高。",
            tags=["推理模型", "强化学习"],
            primary_category=cl,
        ),
        "distill": _entry(
            digest,
            title="Distillation at Scale",
            limitations="- 知识蒸馏后精度下降。",
            tags=["强化学习"],
            primary_category=lg,
        ),
        "plain": _entry(digest, title="Unrelated Survey", primary_category=lg),
        "draft": _entry(
            factories.digest(status="draft"),
            title="Secret Reasoning Draft",
            limitations="- 推理模型草稿。",
            tags=["推理模型"],
            primary_category=cl,
        ),
    }


def test_cjk_bigrams_words_and_facets_are_single_index_tokens(shelf):
    entry = shelf["reasoning"]
    tag_pk = entry.tags.get(name="推理模型").pk
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, {search.FTS_TABLE}, row)"
        )
        cursor.execute("SELECT term FROM temp.vocab")
        vocabulary = {row[0] for row in cursor.fetchall()}
        cursor.execute("DROP TABLE temp.vocab")
    assert {"推理", "理模", "模型", "reasoning", f"t{tag_pk}"} <= vocabulary
    # The index holds exactly the search row's terms: nothing split, nothing merged.
    row = EntrySearch.objects.get(entry=entry)
    for term in (row.title_terms + row.body_terms + row.facets).split():
        assert term in vocabulary


def test_chinese_words_english_prefixes_and_facets(client, shelf):
    assert _titles(client, "/search/?q=推理") == {"Reasoning Models"}
    assert _titles(client, "/search/?q=蒸馏") == {"Reasoning Models", "Distillation at Scale"}
    # Three characters or more: a phrase of consecutive bigrams, not the bigrams anywhere.
    assert _titles(client, "/search/?q=知识蒸馏") == {"Distillation at Scale"}
    assert _titles(client, "/search/?q=模型蒸馏") == set()
    assert _titles(client, "/search/?q=reason") == {"Reasoning Models"}
    assert _titles(client, "/search/?q=DISTIL") == {"Distillation at Scale"}
    # A word is not looked for among the facet tokens (t12, c7).
    tag_pk = shelf["reasoning"].tags.get(name="推理模型").pk
    assert _titles(client, f"/search/?q=t{tag_pk}") == set()
    # Tags: all of them; category: any of the matching ones.
    assert _titles(client, "/papers/?tag=强化学习") == {"Reasoning Models", "Distillation at Scale"}
    assert _titles(client, "/papers/?tag=强化学习&tag=推理模型") == {"Reasoning Models"}
    assert _titles(client, "/papers/?category=LG") == {"Distillation at Scale", "Unrelated Survey"}
    assert _titles(client, "/papers/?tag=强化学习&category=LG") == {"Distillation at Scale"}
    # Words with facets.
    assert _titles(client, "/search/?q=蒸馏&category=CL") == {"Reasoning Models"}
    assert _titles(client, "/search/?q=推理&tag=推理模型") == {"Reasoning Models"}
    assert _titles(client, "/search/?q=distillation&tag=推理模型") == set()


def test_the_title_tier_comes_first_on_a_relevance_page():
    older = _entry(factories.digest(), title="Knowledge Distillation")
    newer = _entry(factories.digest(), title="Some Other Topic", limitations="- 与蒸馏有关。")
    older.title_zh = "大模型的蒸馏"
    older.save()
    queryset, terms = search.apply_search(Entry.objects.published(), "蒸馏")
    results = search.EntryResults(queryset.order_by("-rank", *search.DATE_ORDER), terms)
    # The newer entry has the word only in its body: the Chinese title's match ranks above.
    assert results[0:20] == [older.pk, newer.pk]
    assert results[1:2] == [newer.pk]
    queryset, terms = search.apply_search(Entry.objects.published(), "知识")
    assert search.EntryResults(queryset, terms)[0:20] == []


def test_the_index_follows_edits_to_sections_tags_and_papers(client, shelf):
    entry = shelf["plain"]
    section = Section.objects.create(
        entry=entry, kind=SectionKind.objects.get(slug="limitations"), body="- 存在幻觉问题。"
    )
    assert _titles(client, "/search/?q=幻觉") == {"Unrelated Survey"}
    section.body = "- 没有问题。"
    section.save()
    assert _titles(client, "/search/?q=幻觉") == set()
    entry.tags.add("推理模型")
    assert _titles(client, "/papers/?tag=推理模型") == {"Reasoning Models", "Unrelated Survey"}
    entry.tags.remove("推理模型")
    assert _titles(client, "/papers/?tag=推理模型") == {"Reasoning Models"}
    paper = entry.paper
    paper.title = "Kolmogorov Complexity"
    paper.primary_category = factories.category("cs.CL", "Computation and Language")
    paper.save()
    assert _titles(client, "/search/?q=kolmogorov&category=CL") == {"Kolmogorov Complexity"}
    _assert_index_matches_rows()


def test_publishing_moves_state_without_reindexing_and_drafts_never_appear(client, shelf):
    draft = shelf["draft"]
    assert _titles(client, "/search/?q=secret") == set()
    assert _titles(client, "/papers/?tag=推理模型&category=CL") == {"Reasoning Models"}
    before = _indexed_rowids('"secret"')
    digest = draft.digest
    digest.status = "published"
    digest.published_at = timezone.now() - datetime.timedelta(minutes=1)
    digest.save()  # a state copy: sync_entry_state's UPDATE of the search rows
    assert _indexed_rowids('"secret"') == before == {draft.pk}
    assert _titles(client, "/search/?q=secret") == {"Secret Reasoning Draft"}
    assert _titles(client, "/papers/?tag=推理模型&category=CL") == {
        "Reasoning Models",
        "Secret Reasoning Draft",
    }
    search.sync_entry_state()
    search.refresh_entries(list(Entry.objects.values_list("pk", flat=True)))  # the upsert
    _assert_index_matches_rows()
    assert _indexed_rowids('"secret"') == {draft.pk}


def test_deleted_entries_and_digests_leave_the_index(client, shelf):
    entry = shelf["distill"]
    entry.delete()
    assert _indexed_rowids('"distillation"') == set()
    assert _titles(client, "/search/?q=知识蒸馏") == set()
    shelf["reasoning"].digest.delete()  # cascades to its entries and their search rows
    assert _indexed_rowids('"推理"') == {shelf["draft"].pk}
    assert _titles(client, "/search/?q=推理") == set()
    EntrySearch.objects.all().delete()  # a bulk delete (the rebuild command's first step)
    assert _indexed_rowids('"推理"') == set()
    _assert_index_matches_rows()


HOSTILE_QUERIES = [
    "",
    " ",
    '"',
    '""推理"',
    "*",
    "reason*",
    "-reason",
    "NEAR",
    "NEAR(推理 蒸馏)",
    "AND",
    "OR",
    "NOT",
    "reasoning OR",
    "a AND OR NOT b",
    "title_terms:推理",
    "facets : t1",
    "{title_terms}: x",
    "^reason",
    "推理 +",
    "(((",
    ")",
    "'; DROP TABLE papers_entry; --",
    "%_%",
    "\\",
    "ǅ²½",
    "推" * 300,
    " ".join(["word"] * 40),
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_no_typed_query_is_an_error(client, shelf, query):
    with override_settings(PAGE_CACHE_ENABLED=False):
        for url in ("/search/", "/papers/"):
            response = client.get(url, {"q": query, "tag": "强化学习"})
            assert response.status_code == 200, (url, query)
        # The API answers a query over the length limit with its validation error.
        response = client.get("/api/v1/entries/", {"q": query, "tag": "强化学习"})
        assert response.status_code == (400 if len(query) > search.MAX_QUERY_LENGTH else 200)


def test_operator_words_are_searched_as_words(client):
    _entry(title="Near Field Or Far")
    _entry(title="Unrelated Survey")
    assert _titles(client, "/search/?q=near") == {"Near Field Or Far"}
    assert _titles(client, "/search/?q=OR") == {"Near Field Or Far"}
    assert _titles(client, "/search/?q=reasoning OR near") == set()


def test_every_letter_or_digit_a_reader_can_type_is_a_valid_fts_token():
    """The query tokens are what ``terms`` keeps (letters and digits): quoted, none of them
    can be FTS5 syntax, and none is dropped by the tokenizer into an empty phrase error."""
    letters = [chr(c) for c in range(0x20, 0x3000) if chr(c).isalnum()]
    with connection.cursor() as cursor:
        for start in range(0, len(letters), search.MAX_QUERY_TERMS):
            typed = " ".join(letters[start : start + search.MAX_QUERY_TERMS])
            query = search.fts_match_text(search.parse_query(typed))
            if query:
                cursor.execute(
                    f"SELECT count(*) FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH %s",
                    [query],
                )


def test_many_matches_walk_the_list_order_and_give_the_same_pages(client, shelf, monkeypatch):
    """Past the counting cap, pages walk the list-order index instead of sorting every match
    (``FtsMatch``): the same entries in the same order, the title tier still first."""
    urls = ["/search/?q=蒸馏", "/papers/?tag=强化学习", "/search/?q=推理&tag=推理模型"]
    few = [_titles(client, url) for url in urls]
    queryset, terms = search.apply_search(Entry.objects.published(), "蒸馏")
    ordered = queryset.order_by("-rank", *search.DATE_ORDER)
    ranked = search.EntryResults(ordered, terms)[0:20]
    monkeypatch.setattr(search, "MAX_COUNTED_RESULTS", 1)
    results = search.EntryResults(ordered, terms)
    assert results.count() == 2
    assert results[0:20] == ranked == [shelf["reasoning"].pk, shelf["distill"].pk]
    assert [_titles(client, url) for url in urls] == few
    walking = search._walking(queryset)
    assert '+"papers_entrysearch"."entry_id" IN' in str(walking.query)


def test_capped_counts_loop_over_the_fts_matches_and_count_what_the_list_shows(shelf, monkeypatch):
    """A count of search rows takes the FTS5 matches as the outer loop of a join
    (``_fts_driven_count``; written as ``IN (SELECT rowid …)`` SQLite first built the whole
    match set), and still counts only published matches, within the dates, up to the cap."""
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext

    from reading.filters import EntryFilter
    from reading.views.lists import entry_list_queryset

    def count(query):
        results = EntryFilter(QueryDict(query), queryset=entry_list_queryset()).results()
        with CaptureQueriesContext(connection) as queries:
            number = results.count()
        counts = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)")]
        assert len(counts) == 1
        assert f"FROM {search.FTS_TABLE} CROSS JOIN" in counts[0], query
        return number

    assert count("tag=推理模型") == 1  # the draft has the tag too
    assert count("tag=强化学习&category=LG") == 1
    assert count("q=蒸馏") == 2
    assert count("q=推理&tag=推理模型") == 1
    assert count("tag=强化学习&date_from=2025-10-02&date_to=2025-10-02") == 2
    assert count("tag=强化学习&date_from=2025-10-03") == 0
    assert count("q=蒸馏&digest=" + str(shelf["plain"].digest_id)) == 2
    monkeypatch.setattr(search, "MAX_COUNTED_RESULTS", 1)
    assert count("tag=强化学习") == 2  # the cap and one more: "more than 1"


def test_a_walk_of_tags_and_categories_alone_tests_each_rows_facets_and_pages_alike(
    monkeypatch,
):
    """Past the counting cap, a list filtered by tags and categories alone walks the
    list-order index and tests each row's facets there (no FTS5 match set is built): every
    page holds the same entries, in the same order, as the FTS5 matches sorted, with drafts,
    scheduled and expired issues left out, ``t1`` never taken for ``t12``, and a category
    code naming several categories matching any of them."""
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext

    from reading.filters import EntryFilter
    from reading.views.lists import entry_list_queryset

    lg = factories.category("cs.LG", "Machine Learning")
    stat_lg = factories.category("stat.ML", "Statistics ML")
    other = factories.category("cs.CV", "Vision")
    names = [f"主题{n}" for n in range(14)]  # enough tags for ids 1 and 12 to share a prefix
    now = timezone.now()
    shapes = [
        {},
        {"status": "draft"},
        {"published_at": now + datetime.timedelta(days=1)},
        {
            "published_at": now - datetime.timedelta(days=3),
            "expires_at": now - datetime.timedelta(days=1),
        },
    ]
    for day in range(12):
        digest = factories.digest(
            issue_date=datetime.date(2025, 3, 1) + datetime.timedelta(days=day // 2),
            **shapes[day % len(shapes)] if day % 3 == 0 else {},
        )
        for position in range(1, 5):
            n = day * 4 + position
            tags = [names[n % 14], names[(n * 5) % 14]]
            category = (lg, stat_lg, other)[n % 3]
            _entry(digest, title=f"Paper {n}", tags=tags, primary_category=category)
    first_tag, twelfth = names[1], names[12]
    filters = [
        f"tag={first_tag}",
        f"tag={twelfth}",
        f"tag={first_tag}&category=LG",
        f"tag={names[5]}&tag={names[11]}",
        "category=LG",
        f"category=cs.CV&tag={names[3]}",
    ]

    def pages(query):
        results = EntryFilter(QueryDict(query), queryset=entry_list_queryset()).results()
        return [results[start : start + 5] for start in range(0, 30, 5)]

    expected = {query: pages(query) for query in filters}
    assert any(len([pk for page in found for pk in page]) > 5 for found in expected.values())
    monkeypatch.setattr(search, "MAX_COUNTED_RESULTS", 1)
    for query in filters:
        with CaptureQueriesContext(connection) as queries:
            walked = pages(query)
        assert walked == expected[query], query
        order = '"papers_entrysearch"."issue_date" DESC'
        page_queries = [q["sql"] for q in queries if order in q["sql"]]
        assert page_queries and all("instr(" in sql for sql in page_queries), query
        assert not any(search.FTS_TABLE in sql for sql in page_queries), query
    # With words the walk still tests each id against the FTS5 matches.
    results = EntryFilter(QueryDict(f"q=paper&tag={first_tag}"), queryset=entry_list_queryset())
    with CaptureQueriesContext(connection) as queries:
        results.results()[0:5]
    assert any('+"papers_entrysearch"."entry_id" IN' in q["sql"] for q in queries)
