"""Indexes and query shapes of the public pages and the back office (docs/architecture.md,
"Database indexes").

On PostgreSQL every query of every page in the tables below is EXPLAINed with sequential
scans switched off for the test's transaction: a ``Seq Scan`` on one of the large tables
then means that no index can serve the query. The back office's changelists run a fixed
number of queries whatever the number of rows (on both databases).
"""

import datetime
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comments.models import Comment
from papers.admin_scale import ESTIMATE_ABOVE, EstimatedCountPaginator
from papers.models import Digest, Entry, Paper
from tests import factories

pytestmark = pytest.mark.django_db

# Tables that grow with the archive, its comments and its history.
LARGE_TABLES = {
    "papers_paper",
    "papers_paper_categories",
    "papers_entry",
    "papers_digest",
    "papers_section",
    "papers_figure",
    "papers_comment",
    "papers_taggedentry",
    "papers_taggeddigest",
    "papers_auditrecord",
    "papers_revision",
    "papers_moderationrecord",
    "papers_entrysearch",
}

PUBLIC_URLS = [
    "/",
    "/?page=1",
    "{digest}",
    "{entry}",
    "/tags/",
    "/categories/",
    "/archive/",
    "/tags/rl/",
    "/categories/cs.CL/",
    "/affiliations/Google DeepMind/",
    "/archive/2025/1/",
    "/sections/limitations/",
    "/papers/",
    "/papers/?tag=rl&category=CL",
    "/papers/?tag=rl&date_from=2025-01-01&date_to=2025-12-31",
    "/papers/?sort=views",
    "/search/?q=推理",
    "/search/?q=things&category=CL",
    "/search/?q=蒸馏&tag=rl",
    "{compare}",
    "/feeds/atom/",
    "/feeds/rss/",
    "/tags/rl/feed/atom/",
    "/categories/cs.CL/feed/rss/",
    "/affiliations/Google DeepMind/feed/atom/",
    "/archive/2025/1/feed/atom/",
    "/sitemap.xml",
    "/sitemap-digests.xml",
    "/sitemap-entries.xml",
    "/sitemap-tags.xml",
    "/sitemap-categories.xml",
    "/sitemap-pages.xml",
    "/api/v1/digests/",
    "{api_digest}",
    "{api_entry}",
    "/api/v1/tags/",
    "/api/v1/categories/",
    "/api/v1/entries/",
    "/api/v1/entries/?q=推理&tag=rl",
]

ADMIN_URLS = [
    "/admin/",
    "/admin/papers/digest/",
    "/admin/papers/digest/?state=live",
    "/admin/papers/digest/?state=draft",
    "/admin/papers/digest/?state=scheduled",
    "/admin/papers/digest/?q=issue",
    "/admin/papers/digest/?issue_date__year=2025",
    "/admin/papers/paper/",
    "/admin/papers/paper/?primary_category__id__exact={category}",
    "/admin/papers/paper/?q=2509.1",
    "/admin/papers/paper/?q=Lovelace",
    "/admin/papers/paper/?o=2",
    "/admin/papers/paper/?published_on__year=2025",
    "/admin/papers/entry/",
    "/admin/papers/entry/?digest__status__exact=draft",
    "/admin/papers/entry/?q=Things",
    "/admin/comments/comment/",
    "/admin/comments/comment/?status__exact=pending",
    "/admin/comments/comment/?is_pinned__exact=1",
    "/admin/comments/comment/?on_digest={digest_id}",
    "/admin/comments/comment/?q=reader",
    "/admin/editorial/auditrecord/",
    "/admin/comments/moderationrecord/",
]


def _library():
    """A small archive with something on every page: tags, categories, affiliations,
    comments in each state, a draft and a scheduled digest."""
    cl = factories.category("cs.CL", "Computation and Language")
    digests = []
    for n in range(3):
        digest = factories.digest(issue_date=datetime.date(2025, 1, 10 + n))
        for position in (1, 2):
            entry = factories.entry(
                digest=digest,
                position=position,
                paper=factories.paper(
                    primary_category=cl,
                    affiliations="Google DeepMind",
                    published_on=datetime.date(2025, 1, n + 1),
                ),
            )
            entry.tags.add("rl")
            factories.comment(on=entry, author_name="reader one", email="r@example.org")
        digest.tags.add("weekly")
        factories.comment(on=digest, status="pending", is_pinned=False)
        factories.comment(on=digest, is_pinned=True)
        digests.append(digest)
    factories.digest(entries=1, status="draft")
    factories.digest(
        entries=1,
        published_at=timezone.now() + datetime.timedelta(days=2),
        expires_at=timezone.now() + datetime.timedelta(days=9),
    )
    return digests


def _fill(template: str, digests) -> str:
    digest = digests[0]
    entries = list(digest.entries.select_related("paper"))
    return template.format(
        digest=digest.get_absolute_url(),
        entry=entries[0].get_absolute_url(),
        compare="/compare/?e={}&e={}".format(*[e.pk for e in entries]),
        api_digest=f"/api/v1/digests/{digest.issue_date}/{digest.slug}/",
        api_entry=f"/api/v1/entries/{entries[0].pk}/",
        digest_id=digest.pk,
        category=entries[0].paper.primary_category_id,
    )


def _seq_scans(node, found):
    if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in LARGE_TABLES:
        found.add(node["Relation Name"])
    for child in node.get("Plans", []):
        _seq_scans(child, found)
    return found


def _unindexed(client, url):
    """{table: [sql, …]} for each captured query that can only scan a large table."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    problems = {}
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            for table in _seq_scans(plan[0]["Plan"], set()):
                problems.setdefault(table, []).append(sql[:300])
    return problems


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="EXPLAIN plans are PostgreSQL's; SQLite has no enable_seqscan to test against",
)


@pytest.fixture
def no_seqscan(db):
    """Sequential scans off for this test's transaction (rolled back with it)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")


@postgres_only
@pytest.mark.parametrize("template", PUBLIC_URLS)
def test_public_pages_have_an_index_for_every_query(client, template, no_seqscan):
    url = _fill(template, _library())
    assert _unindexed(client, url) == {}, url


@postgres_only
@pytest.mark.parametrize("template", ADMIN_URLS)
def test_admin_pages_have_an_index_for_every_query(client, template, no_seqscan):
    digests = _library()
    client.force_login(factories.user("chief", superuser=True))
    url = _fill(template, digests)
    assert _unindexed(client, url) == {}, url


@postgres_only
def test_the_moderation_queue_is_read_in_index_order(no_seqscan):
    _library()
    with connection.cursor() as cursor:
        sql, params = Comment.objects.pending_first()[:50].query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "comment_queue_order_idx" in plan
    assert "Sort" not in plan.replace("Incremental Sort", "")


# --- query counts of the changelists (both databases) --------------------------------

# url -> queries (session, user, the list, its count, filters, the dashboard's boxes…).
# The date drill-down reads the first and last dates and then every period between them
# in one statement (papers/admin/scale.py, SeekingDates): three queries however many rows
# or periods (``test_the_date_drill_down_costs_the_same_for_3_years_or_40``).
# On PostgreSQL an unfiltered list asks the statistics first (one more query); below
# ESTIMATE_ABOVE rows it then counts exactly, above it the estimate replaces the count.
CHANGELISTS = {
    "/admin/papers/digest/": 8,
    "/admin/papers/digest/?state=live": 7,
    "/admin/papers/paper/": 8,
    "/admin/papers/paper/?q=Study": 8,
    "/admin/papers/entry/": 5,
    "/admin/papers/entry/?q=Things": 5,
    "/admin/comments/comment/": 7,
    "/admin/comments/comment/?status__exact=pending": 7,
    "/admin/": 13,
}


def _expected(url):
    # PostgreSQL counts an unfiltered list from its statistics (one more query). The digest
    # list is always filtered (working copies are reached from their live digest), so its
    # count is exact: cheap, at a few tens of thousands of digests.
    unfiltered_list = "?" not in url and url not in ("/admin/", "/admin/papers/digest/")
    return CHANGELISTS[url] + (connection.vendor == "postgresql" and unfiltered_list)


def _grow(size):
    for _ in range(size):
        digest = factories.digest(issue_date=datetime.date(2025, 3, 14))
        entry = factories.entry(digest=digest, with_sections=False)
        factories.comment(on=entry, status="pending")
        factories.comment(on=digest)


def _count(client, url):
    client.get(url)  # caches filled (site settings, content types)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("url", CHANGELISTS)
def test_changelist_query_counts_do_not_grow_with_rows(client, url):
    client.force_login(factories.user("chief", superuser=True))
    _grow(2)
    assert _count(client, url) == _expected(url)
    _grow(30)
    assert _count(client, url) == _expected(url)


@pytest.mark.parametrize(
    "url", ["/admin/papers/paper/", "/admin/papers/paper/?published_on__year=2001"]
)
def test_the_date_drill_down_costs_the_same_for_3_years_or_40(client, url):
    """Years (or months) of papers were one seek each: 57 queries at 100,000 papers."""
    client.force_login(factories.user("chief", superuser=True))

    def papers_in(years):
        for year in years:
            for month in (1, 6, 11):
                factories.paper(published_on=datetime.date(year, month, 3))

    papers_in([1990, 2001, 2025])
    few = _count(client, url)
    papers_in(range(1991, 2031))
    assert _count(client, url) == few
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    nav = html.split('<nav class="toplinks">', 1)[1].split("</nav>", 1)[0]
    if "year=" in url:
        assert [m for m in ("January", "June", "November") if f"{m} 2001" in nav] == [
            "January",
            "June",
            "November",
        ]
    else:
        assert all(f">{year}<" in nav for year in range(1990, 2031))


def test_changelists_show_every_row_and_the_right_total(client):
    client.force_login(factories.user("chief", superuser=True))
    for _ in range(3):
        factories.paper()
    html = client.get("/admin/papers/paper/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "3 papers" in html
    assert html.count('class="action-select"') == 3


# --- the estimated count -------------------------------------------------------------


def test_filtered_lists_are_counted_exactly():
    factories.paper(title="Needle")
    factories.paper(title="Hay")
    paginator = EstimatedCountPaginator(Paper.objects.filter(title="Needle"), 10)
    assert paginator.count == 1
    assert paginator.count_is_estimated is False


@postgres_only
def test_large_unfiltered_lists_use_the_statistics_and_the_last_page_is_exact():
    for _ in range(3):
        factories.digest()
    real = Digest.objects.count()
    with connection.cursor() as cursor:
        # What ANALYZE would say of a large table whose statistics lag behind it.
        cursor.execute(
            "UPDATE pg_class SET reltuples = %s WHERE oid = 'papers_digest'::regclass",
            [ESTIMATE_ABOVE * 3],
        )
    paginator = EstimatedCountPaginator(Digest.objects.all(), 10)
    assert paginator.count == ESTIMATE_ABOVE * 3 and paginator.count_is_estimated
    first = paginator.page(1)
    assert len(first.object_list) == real  # the rows are there, the total is an estimate
    last = EstimatedCountPaginator(Digest.objects.all(), 10).page(ESTIMATE_ABOVE * 3 // 10)
    # Asking for the end counts exactly: the last page is the real last page.
    assert last.paginator.count == real and last.number == 1


def test_pages_of_a_joined_list_hold_every_row_once_in_the_lists_order():
    older = factories.digest(issue_date=datetime.date(2025, 1, 6))
    newer = factories.digest(issue_date=datetime.date(2025, 2, 3))
    for digest in (older, newer):
        for position in (3, 1, 2):
            factories.entry(digest=digest, position=position, with_sections=False)
    ordered = Entry.objects.select_related("digest", "paper").order_by(
        "-digest__issue_date", "position"
    )
    paginator = EstimatedCountPaginator(ordered, 4)
    rows = [
        (entry.digest.issue_date.month, entry.position, entry.paper.title)
        for number in paginator.page_range
        for entry in paginator.page(number)
    ]
    assert rows == [(e.digest.issue_date.month, e.position, e.paper.title) for e in ordered]
    assert [(month, position) for month, position, _ in rows] == [
        (2, 1),
        (2, 2),
        (2, 3),
        (1, 1),
        (1, 2),
        (1, 3),
    ]
    assert len(paginator.page(2)) == 2


def test_entry_list_shows_the_newest_digest_first_in_position_order(client):
    client.force_login(factories.user("chief", superuser=True))
    older = factories.digest(title="Older issue", issue_date=datetime.date(2025, 1, 6))
    newer = factories.digest(title="Newer issue", issue_date=datetime.date(2025, 2, 3))
    for digest in (older, newer):
        for position in (2, 1):
            factories.entry(
                digest=digest, position=position, with_sections=False, title_zh=f"篇{position}"
            )
    html = client.get("/admin/papers/entry/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr")[1:]
    seen = [("Newer" in row and "Newer" or "Older", "篇1" in row and 1 or 2) for row in rows]
    assert seen == [("Newer", 1), ("Newer", 2), ("Older", 1), ("Older", 2)]
    assert "4 entries" in html

    html = client.get("/admin/papers/entry/?q=Older", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr")[1:]
    assert [("Older" in row, "篇1" in row) for row in rows] == [(True, True), (True, False)]


# A step that reads every digest or comment of a status (to sort them afterwards).
_STATUS_RANGE = r"SEARCH papers_(digest|comment) USING (COVERING )?INDEX \w+ \(status="


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner without statistics")
@pytest.mark.parametrize("template", ["{digest}", "{entry}"])
def test_sqlite_reads_digests_and_comments_in_index_order_without_statistics(client, template):
    """A SQLite database nobody ran ANALYZE on (every new one): the neighbours, the comment
    thread and the page cache's visibility window each walk an index in the order they
    need, or search the index of a condition that stops early, instead of reading every
    published digest or approved comment (8, 4 and 24 ms at 20,000 digests)."""
    from django.core.cache import cache

    url = _fill(template, _library())
    cache.clear()  # cold: the window and the neighbours are queried
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    sorted_all = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if "papers_digest" not in sql and "papers_comment" not in sql:
                continue
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            steps = [row[3] for row in cursor.fetchall()]
            by_status = [s for s in steps if re.match(_STATUS_RANGE, s)]
            if any(s.startswith("SCAN papers_") for s in steps) or by_status:
                sorted_all.append((sql[:200], steps))
    assert sorted_all == [], sorted_all
