"""The search row's copies of the sort key and publication state (papers/search.py): every
writer keeps them, pages never show what readers may not see, the relevance order holds
across pages, and the list pages' query counts stay pinned."""

import datetime
import re
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from editorial import services
from papers.changes import content_changed
from papers.models import Digest, Entry, Paper, TaggedEntry
from reading.models import EntrySearch
from reading.search import STATE_FIELDS, refresh_entries, sync_entry_state
from tests import factories

pytestmark = pytest.mark.django_db

LIST_AND_SEARCH = [
    "/papers/",
    "/papers/?tag=quasar-tag",
    "/search/?q=quasar",
    "/search/?q=类星体",
    "/api/v1/entries/",
    "/api/v1/entries/?q=quasar",
]


def _state(entry):
    row = EntrySearch.objects.get(entry=entry)
    return {name: getattr(row, name) for name in STATE_FIELDS}


def _expected(entry):
    entry = Entry.objects.select_related("digest").get(pk=entry.pk)
    digest = entry.digest
    return {
        "issue_date": digest.issue_date,
        "digest_pk": digest.pk,
        "position": entry.position,
        "status": digest.status,
        "published_at": digest.published_at,
        "expires_at": digest.expires_at,
    }


def _titles(response):
    # A search highlights its words in titles (<mark>): read without them.
    found = re.findall(
        r'id="row-\d+-title">.*?<a href="[^"]+" lang="en">(.*?)</a>', response.content.decode()
    )
    return [re.sub(r"</?mark>", "", title) for title in found]


def _shown_everywhere(client, title):
    """Whether the entry titled ``title`` appears on each list, search and API page."""
    seen = []
    for url in LIST_AND_SEARCH:
        response = client.get(url, {"nocache": timezone.now().timestamp()})
        assert response.status_code == 200, url
        seen.append(title in response.content.decode())
    return seen


@pytest.fixture
def editor():
    return factories.user(
        "editor",
        staff=True,
        perms=["papers.publish_digest", "papers.delete_digest", "papers.change_digest"],
    )


@pytest.fixture
def quasar():
    """One published entry whose title, tag and critique readers can find."""
    digest = factories.digest(issue_date=datetime.date(2025, 6, 1))
    entry = factories.entry(
        digest=digest, paper=factories.paper(title="Quasar Lensing"), title_zh="类星体透镜"
    )
    entry.tags.add("quasar-tag")
    return entry


def test_a_new_entry_carries_its_digests_sort_key_and_state(quasar):
    assert _state(quasar) == _expected(quasar)
    assert _state(quasar)["status"] == "published"


def test_unpublish_and_publish_follow_at_once_on_every_list(client, quasar, editor):
    assert all(_shown_everywhere(client, "Quasar Lensing"))

    services.digest_unpublish(digest=quasar.digest, by=editor)
    assert _state(quasar) == _expected(quasar)
    assert _state(quasar)["status"] == "draft"
    assert not any(_shown_everywhere(client, "Quasar Lensing"))

    services.digest_publish(digest=quasar.digest, by=editor)
    assert _state(quasar) == _expected(quasar)
    assert all(_shown_everywhere(client, "Quasar Lensing"))


def test_a_scheduled_digest_goes_live_at_its_time_with_nothing_written(client, editor):
    digest = factories.digest(status="draft")
    entry = factories.entry(digest=digest, paper=factories.paper(title="Quasar Lensing"))
    entry.tags.add("quasar-tag")
    go_live = timezone.now() + datetime.timedelta(hours=2)
    services.digest_schedule(digest=digest, by=editor, at=go_live)
    assert _state(entry) == _expected(entry)
    assert _state(entry)["published_at"] == go_live
    assert not any(_shown_everywhere(client, "Quasar Lensing"))

    with time_machine.travel(go_live + datetime.timedelta(minutes=1), tick=False):
        assert all(_shown_everywhere(client, "Quasar Lensing"))


def test_an_expired_digest_leaves_every_list_at_its_expiry(client, editor, quasar):
    expiry = timezone.now() + datetime.timedelta(hours=1)
    services.digest_publish(digest=quasar.digest, by=editor, expires_at=expiry)
    assert _state(quasar)["expires_at"] == expiry
    assert all(_shown_everywhere(client, "Quasar Lensing"))

    with time_machine.travel(expiry + datetime.timedelta(seconds=1), tick=False):
        assert not any(_shown_everywhere(client, "Quasar Lensing"))


def test_drafts_and_digests_in_review_never_appear(client):
    for status in ("draft", "review"):
        digest = factories.digest(status=status)
        entry = factories.entry(digest=digest, paper=factories.paper(title=f"Quasar {status}"))
        entry.tags.add("quasar-tag")
        assert _state(entry)["status"] == status
        assert not any(_shown_everywhere(client, f"Quasar {status}"))


def test_a_new_issue_date_moves_the_entries_in_the_list(client, quasar):
    older = factories.digest(issue_date=datetime.date(2025, 5, 1))
    factories.entry(digest=older, paper=factories.paper(title="Older Paper"))
    assert _titles(client.get("/papers/")) == ["Quasar Lensing", "Older Paper"]

    digest = quasar.digest
    digest.issue_date = datetime.date(2025, 4, 1)
    digest.save()
    content_changed()  # as the digest admin announces its saves
    assert _state(quasar) == _expected(quasar)
    assert _titles(client.get("/papers/")) == ["Older Paper", "Quasar Lensing"]


def test_a_reorder_moves_the_entries_in_the_list(client):
    digest = factories.digest()
    first = factories.entry(digest=digest, position=1, paper=factories.paper(title="First"))
    second = factories.entry(digest=digest, position=2, paper=factories.paper(title="Second"))
    assert _titles(client.get("/papers/")) == ["First", "Second"]

    # What the digest admin does: park the moved rows in bulk, then save each in place.
    services.entries_park_positions([first.pk, second.pk])
    assert _state(first) == _expected(first) and _state(first)["position"] > 1000
    first.position, second.position = 2, 1
    first.save()
    second.save()
    content_changed()
    assert _state(first) == _expected(first) and _state(second) == _expected(second)
    assert _titles(client.get("/papers/")) == ["Second", "First"]


def test_a_deleted_digest_takes_its_entries_off_every_list(client, quasar, editor):
    services.digest_delete(digest=quasar.digest, by=editor)
    assert not EntrySearch.objects.exists()
    assert not any(_shown_everywhere(client, "Quasar Lensing"))


def test_refresh_entries_builds_rows_in_bulk_in_a_fixed_number_of_queries(client):
    """A bulk loader (generate_bench_data) inserts rows without signals, then calls
    refresh_entries in chunks: the rows must come out complete, in a few queries."""
    category = factories.category()
    digests = Digest.objects.bulk_create(
        Digest(
            title=f"Bulk {n}",
            slug=f"bulk-{n}",
            issue_date=datetime.date(2024, 1, 1) + datetime.timedelta(days=n),
            status="published",
            published_at=timezone.now() - datetime.timedelta(days=1),
        )
        for n in range(12)
    )
    papers = Paper.objects.bulk_create(
        Paper(arxiv_id=f"2401.{n:05d}", title=f"Bulk Quasar {n}", primary_category=category)
        for n in range(24)
    )
    entries = Entry.objects.bulk_create(
        Entry(digest=digests[n // 2], paper=papers[n], position=n % 2 + 1) for n in range(24)
    )
    tag = Tag.objects.create(name="quasar-tag", slug="quasar-tag")
    TaggedEntry.objects.bulk_create(TaggedEntry(content_object=e, tag=tag) for e in entries)
    assert not EntrySearch.objects.exists()

    ids = [entry.pk for entry in entries]
    with CaptureQueriesContext(connection) as few:
        assert refresh_entries(ids[:2]) == 2
    with CaptureQueriesContext(connection) as many:
        assert refresh_entries(ids) == 24
    assert len(many) == len(few) <= 6
    for entry in entries:
        assert _state(entry) == _expected(entry)
    titles = _titles(client.get("/papers/?tag=quasar-tag"))
    assert len(titles) == 20 and titles[:2] == ["Bulk Quasar 22", "Bulk Quasar 23"]


def test_sync_entry_state_repairs_every_row_in_one_statement(client, quasar):
    EntrySearch.objects.update(status="", issue_date=None, published_at=None)
    assert "Quasar Lensing" not in client.get("/papers/?x=1").content.decode()
    with CaptureQueriesContext(connection) as captured:
        sync_entry_state()
    assert len(captured) == 1
    assert _state(quasar) == _expected(quasar)
    assert "Quasar Lensing" in client.get("/papers/?x=2").content.decode()


def test_import_site_fills_the_copies_even_from_an_archive_without_them(
    client, settings, tmp_path, quasar
):
    from tests.test_production_backup import _empty_the_database

    settings.MEDIA_ROOT = tmp_path / "media"
    expected = _expected(quasar)
    # An archive made before the copies existed: its search rows carry none of them.
    EntrySearch.objects.update(status="", issue_date=None, digest_pk=None, published_at=None)
    archive = tmp_path / "site.zip"
    call_command("export_site", str(archive), stdout=StringIO())
    _empty_the_database(settings, tmp_path)
    call_command("import_site", str(archive), stdout=StringIO())

    # (The archive keeps times to the millisecond; the copies follow the restored digest.)
    assert _state(quasar) == _expected(quasar)
    assert _state(quasar)["issue_date"] == expected["issue_date"]
    assert _state(quasar)["status"] == "published"
    assert _titles(client.get("/papers/")) == ["Quasar Lensing"]
    assert _titles(client.get("/search/?q=quasar")) == ["Quasar Lensing"]


def test_relevance_puts_title_matches_first_newest_first_across_pages(client):
    """Entries with the word in the title, newest first, then the others, newest first;
    page 2 continues exactly where page 1 stopped."""
    start = datetime.date(2024, 1, 1)
    expected_title, expected_body = [], []
    for n in range(25):
        digest = factories.digest(issue_date=start + datetime.timedelta(days=n))
        in_title = n % 8 == 0  # days 0, 8, 16, 24
        title = f"Quasar Survey {n}" if in_title else f"Galaxy Survey {n}"
        factories.entry(
            digest=digest,
            with_sections=False,
            paper=factories.paper(title=title, abstract="We observe a quasar at high z."),
        )
        (expected_title if in_title else expected_body).insert(0, title)
    expected = expected_title + expected_body
    page_one = _titles(client.get("/search/?q=quasar"))
    page_two = _titles(client.get("/search/?q=quasar&page=2"))
    assert page_one + page_two == expected
    assert len(page_one) == 20
    # The same words sorted by date ignore the tiers.
    by_date = _titles(client.get("/search/?q=quasar&sort=date"))
    assert by_date == sorted(expected, key=lambda t: -int(t.rsplit(" ", 1)[1]))[:20]


@pytest.mark.parametrize(
    "url",
    [
        "/papers/?tag=quasar-tag&category=LG",
        "/papers/?tag=quasar-tag&date_from=2020-01-01&date_to=2999-12-31",
        "/search/?q=推理&tag=quasar-tag",
        "/search/?q=蒸馏",
        "/search/?q=quasar",
        "/search/?q=quasar&category=LG",
    ],
)
def test_list_and_search_pages_stay_within_eight_queries_at_any_size(client, url):
    def grow(count):
        for _ in range(count):
            digest = factories.digest()
            for position in (1, 2):
                entry = factories.entry(
                    digest=digest,
                    position=position,
                    paper=factories.paper(title=f"Quasar {digest.pk}-{position}"),
                )
                entry.tags.add("quasar-tag", "other")

    def count():
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        assert "Quasar" in response.content.decode()
        return len(captured)

    grow(1)
    small = count()
    grow(12)
    assert count() == small <= 8


def test_list_rows_link_to_the_real_addresses(client):
    """Rows build their links without reverse() per row: each must be the page's address."""
    digest = factories.digest()
    entry = factories.entry(
        digest=digest,
        paper=factories.paper(
            arxiv_id="hep-th/9901001",
            title="Old Scheme Paper",
            affiliations="UC Berkeley / Google\nPeking University",
        ),
    )
    entry.tags.add("强化学习", "planning")
    html = client.get("/papers/").content.decode()
    links = [
        entry.get_absolute_url(),
        f"{digest.get_absolute_url()}#{entry.anchor}",
        reverse("reading:category-entries", args=["cs.LG"]),
        reverse("reading:affiliation-entries", args=["UC Berkeley / Google"]),
        reverse("reading:affiliation-entries", args=["Peking University"]),
    ]
    links += [reverse("reading:tag-entries", args=[tag.slug]) for tag in entry.tags.all()]
    for link in links:
        assert f'href="{link}"' in html, link
        assert client.get(link.split("#")[0]).status_code == 200, link


def test_pages_go_on_past_the_counting_cap(client, monkeypatch):
    """Counts stop at the cap; readers can still page to the end, and no further."""
    from reading import search
    from reading.views.lists import EntryListView

    monkeypatch.setattr(search, "MAX_COUNTED_RESULTS", 4)
    monkeypatch.setattr(EntryListView, "page_size", 2)
    start = datetime.date(2024, 1, 1)
    for n in range(7):
        digest = factories.digest(issue_date=start + datetime.timedelta(days=n))
        factories.entry(digest=digest, with_sections=False, paper=factories.paper(title=f"P{n}"))

    seen = []
    for number in (1, 2, 3, 4):
        response = client.get(f"/papers/?page={number}")
        assert response.status_code == 200
        html = response.content.decode()
        seen += _titles(response)
        assert 'rel="next"' in html if number < 4 else 'rel="next"' not in html
    assert seen == [f"P{n}" for n in range(6, -1, -1)]
    assert client.get("/papers/?page=5").status_code == 404
    assert client.get("/papers/?page=0").status_code == 404
    assert client.get("/papers/?page=abc").status_code == 404
    assert client.get("/papers/?page=9223372036854775807").status_code == 404  # not a 500
    assert client.get("/api/v1/entries/?q=P&page=9223372036854775807").status_code == 404


def test_list_rows_escape_what_editors_typed(client):
    """Rows are formatted in Python, not by the template engine: every value an editor or
    the arXiv typed is escaped, and a search snippet keeps only its own <mark>s."""
    digest = factories.digest(title="Digest <b>bold</b>")
    factories.entry(
        digest=digest,
        title_zh="中文<script>alert(1)</script>",
        paper=factories.paper(
            title="Attention <img src=x onerror=alert(1)>",
            authors="A. O'Brien\nB. <i>Author</i>",
            affiliations='Lab "Q" & Co',
        ),
    )
    html = client.get("/papers/").content.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "中文&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Attention &lt;img src=x onerror=alert(1)&gt;" in html
    assert "A. O&#x27;Brien, B. &lt;i&gt;Author&lt;/i&gt;" in html
    assert "Lab &quot;Q&quot; &amp; Co</a>" in html
    assert "Digest &lt;b&gt;bold&lt;/b&gt;</a>" in html
    found = client.get("/search/", {"q": "蒸馏"}).content.decode()
    (snippet,) = re.findall(r'<p class="snippet">(.*?)</p>', found)
    assert "<mark>蒸馏</mark>" in snippet
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0
    assert "<img src=x" not in found and "<script>alert(1)" not in found


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_the_capped_count_takes_the_index_bitmap_and_leaves_the_planner_as_it_was(client):
    """The count runs with sequential and plain index scans off (papers/search.py:
    ``_bitmap_count``) in the same statement; it counts right, an unknown tag counts nothing,
    and the settings are back for the request's other queries even inside a transaction
    (a test runs in one)."""
    start = datetime.date(2024, 3, 1)
    for n in range(5):
        digest = factories.digest(issue_date=start + datetime.timedelta(days=n))
        entry = factories.entry(digest=digest, paper=factories.paper(title=f"Counted {n}"))
        if n % 2 == 0:
            entry.tags.add("蒸馏")
    html = client.get("/papers/", {"tag": "蒸馏"}).content.decode()
    assert "3 papers" in html or "3 篇" in html
    html = client.get("/search/", {"q": "蒸馏"}).content.decode()
    assert "5 papers" in html or "5 篇" in html
    assert client.get("/papers/", {"tag": "没有这个"}).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_seqscan")
        assert cursor.fetchone()[0] == "on"
        cursor.execute("SHOW enable_indexscan")
        assert cursor.fetchone()[0] == "on"
        # A transaction's own setting is kept (tests/test_db_indexes.py turns seqscan off).
        cursor.execute("SET LOCAL enable_seqscan = off")
    assert client.get("/search/", {"q": "蒸馏"}).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_seqscan")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW enable_indexscan")
        assert cursor.fetchone()[0] == "on"


def _count_line(client, params) -> str:
    html = client.get("/papers/", params).content.decode()
    return re.search(r'<p class="meta"><span>([^<]*)</span>', html).group(1)


def test_counts_agree_whichever_table_they_are_counted_on(client):
    """Filters that read only the search row are counted on the search rows alone
    (``EntryFilter.search_rows``), the others through the entries: both count the same
    published entries, drafts and expired issues left out, whatever the combination."""
    start = datetime.date(2024, 5, 1)
    digests = []
    for n in range(6):
        digest = factories.digest(issue_date=start + datetime.timedelta(days=n))
        entry = factories.entry(
            digest=digest,
            paper=factories.paper(affiliations="Lab A" if n % 2 else "Lab B"),
        )
        entry.tags.add("counted" if n < 4 else "other")
        digests.append(digest)
    draft = factories.digest(status=Digest.Status.DRAFT, issue_date=start)
    factories.entry(digest=draft).tags.add("counted")
    gone = factories.digest(
        issue_date=start + datetime.timedelta(days=1),
        expires_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    factories.entry(digest=gone).tags.add("counted")

    def count(**params):
        line = _count_line(client, params)
        return int(re.search(r"\d+", line).group())

    assert count() == 6
    assert count(tag="counted") == 4
    assert count(tag="counted", date_from="2024-05-02", date_to="2024-05-03") == 2
    assert count(tag="counted", digest=digests[1].pk) == 1
    assert count(tag="counted", affiliation="Lab A") == 2  # through the entries
    assert count(affiliation="Lab B", date_from="2024-05-03") == 2
    assert count(q="蒸馏", tag="other") == 2
    assert "0" in _count_line(client, {"tag": "counted", "date_from": "2030-01-01"})


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_an_unfiltered_count_reads_the_search_rows_with_the_planner_left_alone(client):
    """No words or tags: the count is the first 1,001 published search rows, planned as
    usual (forcing the bitmap there made PostgreSQL JIT-compile a plan costed 10^10, 60 ms).
    Connections run without JIT."""
    factories.entry(digest=factories.digest())
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/papers/").status_code == 200
    (count,) = [q["sql"] for q in queries if "COUNT(*)" in q["sql"]]
    assert "SET LOCAL" not in count
    assert '"papers_entry"' not in count  # the search rows alone
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_a_kept_count_follows_every_change_a_reader_could_count(client, editor, quasar):
    """A filter's count is kept with the content version (``page_cache.derived``): the same
    count line is shown on every page, sort and language of that filter, and it changes at
    once on a publish, an unpublish, a new tag and a scheduled go-live, on the same URL."""

    def line(**params):
        return _count_line(client, {"tag": "quasar-tag", "nocache": "1", **params})

    assert re.search(r"\b1\b", line())
    assert line(sort="views") == line()  # the kept count, another page of the same filter

    second = factories.entry(digest=factories.digest(), paper=factories.paper(title="Second"))
    second.tags.add("quasar-tag")
    assert re.search(r"\b2\b", line())

    services.digest_unpublish(digest=quasar.digest, by=editor)
    assert re.search(r"\b1\b", line())

    go_live = timezone.now() + datetime.timedelta(hours=2)
    services.digest_schedule(digest=quasar.digest, by=editor, at=go_live)
    assert re.search(r"\b1\b", line())
    with time_machine.travel(go_live + datetime.timedelta(minutes=1), tick=False):
        assert re.search(r"\b2\b", line())


def test_kept_rows_are_kept_per_language(client, quasar):
    zh = client.get("/papers/").content.decode()
    en = client.get("/papers/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "人气" in zh or "浏览" in zh
    assert "Views: " in en and "Compare</label>" in en
    assert "Views: " not in zh


def test_the_section_page_counts_and_pages_only_entries_with_that_section(client):
    """The section page's base list has a condition of its own ("has this section"): its
    count and its relevance tiers go through the entries, never the search rows alone."""
    with_section = factories.entry(
        digest=factories.digest(), paper=factories.paper(title="Has Limits")
    )
    without = factories.entry(digest=factories.digest(), paper=factories.paper(title="No Limits"))
    without.sections.filter(kind__slug="limitations").delete()
    for entry in (with_section, without):
        entry.tags.add("limits")
    for params in ({"tag": "limits"}, {"tag": "limits", "q": "蒸馏"}):
        # The entry list of the same filter first: its kept count is not the section's.
        assert "2" in _count_line(client, params)
        html = client.get("/sections/limitations/", params).content.decode()
        count = re.search(r'<p class="meta"><span>([^<]*)</span>', html).group(1)
        assert re.search(r"\b1\b", count), (params, count)
        assert "Has Limits" in html and "No Limits" not in html


def _facet_copies():
    columns = "entry_id, issue_date, digest_pk, status, published_at, expires_at, facet_vector"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM papers_entryfacets ORDER BY entry_id")
        copies = cursor.fetchall()
        cursor.execute(f"SELECT {columns} FROM papers_entrysearch ORDER BY entry_id")
        return copies, cursor.fetchall()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_the_facet_table_follows_every_write_of_the_search_rows(client, quasar, editor):
    """``papers_entryfacets`` (migration 0014) is kept by triggers: whatever writes the
    search rows (a new entry, a tag, unpublishing, a new date, a deletion, a rebuild), the
    copy is the same rows, so a count on it never differs from one on the search rows."""
    other = factories.entry(digest=factories.digest(issue_date=datetime.date(2025, 6, 2)))

    def same():
        copies, rows = _facet_copies()
        assert copies == rows and len(rows) == Entry.objects.count()

    same()
    other.tags.add("quasar-tag", "second")
    same()
    services.digest_unpublish(digest=quasar.digest, by=editor)
    same()
    Digest.objects.filter(pk=other.digest_id).update(issue_date=datetime.date(2025, 7, 1))
    sync_entry_state(digest_ids=[other.digest_id])
    same()
    call_command("rebuild_search", verbosity=0)
    same()
    other.delete()
    same()
    quasar.digest.delete()
    same()
    assert _facet_copies() == ([], [])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_tag_and_category_counts_read_the_narrow_facet_table(client, quasar):
    """A filter of tags (or categories, dates, a digest) without words is counted on the
    facet table; with words, on the search rows (the facet table has no text)."""

    def count_sql(url, params):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, params).status_code == 200
        # The capped count (on a filtered list it reads the matches' facet names instead of
        # counting them: reading/facets.py).
        (count,) = [q["sql"] for q in queries if ") capped" in q["sql"]]
        return count

    tagged = count_sql("/papers/", {"tag": "quasar-tag", "date_from": "2025-01-01"})
    assert "papers_entryfacets" in tagged and "papers_entrysearch" not in tagged
    assert "papers_entryfacets" in count_sql(
        reverse("reading:tag-entries", args=["quasar-tag"]), {}
    )
    searched = count_sql("/search/", {"q": "quasar", "tag": "quasar-tag"})
    assert "papers_entrysearch" in searched and "papers_entryfacets" not in searched
    assert re.search(r"\d+", _count_line(client, {"tag": "quasar-tag"})).group() == "1"
