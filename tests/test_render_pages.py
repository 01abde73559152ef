"""What public pages cost and show: at most 8 queries with an empty cache and the same number
at 1 and at 20+ items for every public URL; the digest and entry pages' cached paper blocks
(never stale: every change a reader could see shows on the next request); names with control
characters in tag, category and affiliation paths (404)."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from editorial import services
from papers.models import Figure, Section
from tests import factories

pytestmark = pytest.mark.django_db

BUDGET = 8


def _queries(client, url, *, cold=True):
    """(status, number of queries) of one request; ``cold``: with an empty cache, as after
    a deploy (site settings, content version, cached blocks and API answers all gone)."""
    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return response.status_code, len(captured)


def _add_entries(digest, count, *, start, cl, lg):
    for position in range(start, start + count):
        entry = factories.entry(
            digest=digest,
            position=position,
            paper=factories.paper(primary_category=cl, affiliations="Google\nTsinghua"),
        )
        entry.tags.add("rl", "llm")
        entry.paper.categories.add(lg)
        factories.comment(on=entry)
    factories.comment(on=digest)


@pytest.fixture
def world():
    """A digest between two others, with one paper; ``grow()`` gives it 20 more papers and
    the site 20 more digests (each paper tagged, cross-listed and commented)."""
    cl = factories.category("cs.CL", "Computation and Language")
    lg = factories.category("cs.LG", "Machine Learning")
    before = factories.digest(issue_date=datetime.date(2025, 3, 1))
    main = factories.digest(issue_date=datetime.date(2025, 3, 2), slug="main")
    after = factories.digest(issue_date=datetime.date(2025, 3, 3))
    for digest in (before, main, after):
        _add_entries(digest, 1, start=1, cl=cl, lg=lg)
    main.tags.add("weekly")
    first, other = main.entries.get(position=1), before.entries.get()

    def grow():
        _add_entries(main, 20, start=2, cl=cl, lg=lg)
        for day in range(20):
            digest = factories.digest(
                issue_date=datetime.date(2025, 4, 1) + datetime.timedelta(day)
            )
            _add_entries(digest, 1, start=1, cl=cl, lg=lg)

    return {"main": main, "entry": first, "other": other, "grow": grow}


def _public_urls(world):
    main, entry = world["main"], world["entry"]
    return [
        "/",
        main.get_absolute_url(),
        entry.get_absolute_url(),
        "/papers/",
        "/papers/?tag=rl&category=CL&sort=views",
        "/search/?q=推理",
        "/search/?q=paper&tag=rl",
        "/tags/",
        "/categories/",
        "/archive/",
        "/tags/rl/",
        "/categories/cs.CL/",
        "/affiliations/Google/",
        "/archive/2025/3/",
        "/sections/limitations/",
        f"/compare/?e={entry.pk}&e={world['other'].pk}",
        "/feeds/atom/",
        "/feeds/rss/",
        "/tags/rl/feed/atom/",
        "/categories/cs.CL/feed/rss/",
        "/affiliations/Google/feed/atom/",
        "/archive/2025/3/feed/rss/",
        "/sitemap.xml",
        "/sitemap-pages.xml",
        "/sitemap-digests.xml",
        "/sitemap-entries.xml",
        "/sitemap-tags.xml",
        "/sitemap-categories.xml",
        "/robots.txt",
        "/api/v1/",
        "/api/v1/digests/",
        f"/api/v1/digests/{main.issue_date:%Y-%m-%d}/{main.slug}/",
        "/api/v1/entries/?tag=rl",
        f"/api/v1/entries/{entry.pk}/",
        "/api/v1/categories/",
        "/api/v1/tags/",
        "/api/v1/section-kinds/",
    ]


NOT_FOUND = ["/digests/2025-03-02/no-such-digest/", "/tags/no-such-tag/", "/no/such/page/"]


def test_every_public_page_stays_within_the_query_budget_whatever_the_data_size(world):
    client = Client()
    urls = _public_urls(world) + NOT_FOUND
    small = {url: _queries(client, url) for url in urls}
    world["grow"]()
    large = {url: _queries(client, url) for url in urls}
    for url in urls:
        expected = 404 if url in NOT_FOUND else 200
        assert small[url][0] == large[url][0] == expected, url
    over = {url: large[url][1] for url in urls if large[url][1] > BUDGET}
    assert not over, f"more than {BUDGET} queries: {over}"
    grew = {url: (small[url][1], large[url][1]) for url in urls if small[url] != large[url]}
    assert not grew, f"query counts that grew with the data: {grew}"


@pytest.mark.parametrize("papers", [1, 21])
def test_digest_and_entry_pages_cost_eight_queries_cold_and_two_with_their_blocks_cached(
    world, papers
):
    if papers > 1:
        world["grow"]()
    client = Client()
    for url in (world["main"].get_absolute_url(), world["entry"].get_absolute_url()):
        # Cold: the digest's entries with digest, paper, category, comment closure,
        # neighbours and first figure (one query); the blocks' sections, figures and tags
        # (and cross-lists on the entry page); the digest's tags (digest page); comments;
        # site settings; the page cache's next scheduled change.
        assert _queries(client, url) == (200, 8), url
        # Blocks, tags and settings cached: the main query and the comment thread. (A new
        # address, so that no whole-page cache answers instead of the view.)
        assert _queries(client, f"{url}?page=2", cold=False) == (200, 2), url


def test_a_digest_without_papers_is_within_the_budget(client):
    digest = factories.digest()
    status, count = _queries(client, digest.get_absolute_url())
    assert status == 200 and count <= BUDGET
    assert '<p class="empty">' in client.get(digest.get_absolute_url()).content.decode()


# --- the cached blocks are never stale ------------------------------------------------------


@pytest.fixture
def shown(client):
    """A published digest with two papers; ``html(url)`` is the page as a reader sees it now
    (after a first visit, so that the blocks are cached). Edits that must show at once are
    made as editors make them, through the admin: tests/test_fragments.py."""
    digest = factories.digest(entries=2, title="缓存测试期")
    entry = digest.entries.get(position=1)
    for url in (digest.get_absolute_url(), entry.get_absolute_url()):
        client.get(url)

    def html(url):
        return client.get(url).content.decode()

    return {"digest": digest, "entry": entry, "html": html}


def _both(shown):
    digest, entry = shown["digest"], shown["entry"]
    entry.refresh_from_db()
    return [shown["html"](digest.get_absolute_url()), shown["html"](entry.get_absolute_url())]


def test_blocks_follow_the_language(client, shown):
    url = shown["digest"].get_absolute_url()
    assert 'class="kind-en"' not in shown["html"](url)
    client.post("/i18n/setlang/", {"language": "en", "next": url})
    english = shown["html"](url)
    assert '<span class="kind-en">Limitations</span>' in english
    assert ">Abstract</h3>" in english or "abstract" not in english


def test_placeholders_of_figures_show_in_previews_only(client):
    digest = factories.digest(entries=1, status="draft")
    editor = factories.user("editor", staff=True, perms=["papers.view_digest"])
    staff = Client()
    staff.force_login(editor)
    assert "figure-missing" in staff.get(digest.get_absolute_url()).content.decode()
    digest.status = "published"
    digest.published_at = timezone.now() - datetime.timedelta(minutes=1)
    digest.save()
    assert "figure-missing" not in client.get(digest.get_absolute_url()).content.decode()
    # The staff member's own cached preview block is not what readers get, nor the reverse.
    assert "figure-missing" not in staff.get(digest.get_absolute_url()).content.decode()


def test_share_links_point_titles_at_in_page_anchors_and_readers_get_entry_links(client):
    editor = factories.user(
        "editor", staff=True, perms=["papers.view_digest", "editorial.add_sharelink"]
    )
    digest = factories.digest(entries=1)
    entry = digest.entries.get()
    share = services.share_link_create(digest=digest, by=editor).get_absolute_url()
    assert 'href="#paper-1" lang="en"' in Client().get(share).content.decode()
    page = client.get(digest.get_absolute_url()).content.decode()
    assert f'href="{entry.get_absolute_url()}" lang="en"' in page


def test_uploaded_figures_keep_their_size_and_credit(settings, tmp_path):
    from django.core.files.base import ContentFile

    from editorial.demo import figure_png

    settings.MEDIA_ROOT = tmp_path
    digest = factories.digest(entries=1)
    figure = digest.entries.get().figures.get()
    figure.image.save("x.png", ContentFile(figure_png("2509.00001", 1)), save=False)
    figure.alt_text = 'A plot "quoted" <b>'
    figure.source_url = "https://arxiv.org/abs/2509.00001"
    figure.licence = "CC BY 4.0"
    figure.save()
    page = Client().get(digest.get_absolute_url()).content.decode()
    assert 'alt="A plot &quot;quoted&quot; &lt;b&gt;"' in page
    assert 'width="640" height="360"' in page
    assert re.search(
        r'<span class="credit">\(<a href="https://arxiv.org/abs/2509.00001" '
        r'rel="nofollow noopener">[^<]+</a>, CC BY 4.0\)</span>',
        page,
    )
    assert Figure.objects.get(pk=figure.pk).width == 640


def test_section_bodies_stay_sanitised_and_titles_escaped():
    digest = factories.digest(entries=1)
    entry = digest.entries.get()
    entry.paper.title = "<script>alert(1)</script> & co"
    entry.paper.save()
    section = Section.objects.get(entry=entry, kind__slug="summary")
    section.body = "<img src=x onerror=alert(1)> **粗体**"
    section.save()
    for url in (digest.get_absolute_url(), entry.get_absolute_url()):
        page = Client().get(url).content.decode()
        assert "<script>alert(1)" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
        assert "<strong>粗体</strong>" in page


# --- neighbours follow the clock ------------------------------------------------------------


def test_a_scheduled_digest_becomes_the_next_issue_when_it_goes_live(client, time_machine):
    now = timezone.now()
    time_machine.move_to(now, tick=False)
    today = factories.digest(entries=1, issue_date=datetime.date(2025, 5, 1), title="今天")
    factories.digest(
        entries=1,
        issue_date=datetime.date(2025, 5, 2),
        title="明天",
        published_at=now + datetime.timedelta(hours=1),
    )
    url = today.get_absolute_url()
    assert 'rel="next"' not in client.get(url).content.decode()
    time_machine.move_to(now + datetime.timedelta(hours=1, seconds=1), tick=False)
    assert 'rel="next" href="/digests/2025-05-02/' in client.get(url).content.decode()


def test_an_expired_neighbour_gives_way_to_the_one_before(client, time_machine):
    now = timezone.now()
    time_machine.move_to(now, tick=False)
    factories.digest(issue_date=datetime.date(2025, 5, 1), title="更早一期")
    factories.digest(
        issue_date=datetime.date(2025, 5, 2),
        title="将过期的一期",
        expires_at=now + datetime.timedelta(minutes=5),
    )
    latest = factories.digest(entries=1, issue_date=datetime.date(2025, 5, 3))
    assert "将过期的一期" in client.get(latest.get_absolute_url()).content.decode()
    time_machine.move_to(now + datetime.timedelta(minutes=6), tick=False)
    page = client.get(latest.get_absolute_url()).content.decode()
    assert "将过期的一期" not in page and "更早一期" in page


def test_many_scheduled_digests_ahead_do_not_hide_the_next_published_one(client):
    later = timezone.now() + datetime.timedelta(days=1)
    first = factories.digest(entries=1, issue_date=datetime.date(2025, 6, 1))
    for day in range(2, 10):  # more scheduled digests than the cached candidates
        factories.digest(issue_date=datetime.date(2025, 6, day), published_at=later)
    factories.digest(issue_date=datetime.date(2025, 6, 10), title="真正的下一期")
    page = client.get(first.get_absolute_url()).content.decode()
    assert re.search(r'rel="next" href="/digests/2025-06-10/[^"]+">真正的下一期</a>', page)


# --- names in paths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/categories/%00/",
        "/categories/cs.%00LG/",
        "/categories/%20/",
        "/categories/%C2%A0/",
        "/tags/%00/",
        "/tags/rl%0A/",
        "/tags/%09/",
        "/affiliations/%00/",
        "/affiliations/Goo%00gle/",
        "/affiliations/Google/%1F/",
        "/affiliations/%20/",
        "/categories/%00/feed/atom/",
        "/tags/%7F/feed/rss/",
        "/affiliations/%00/feed/atom/",
    ],
)
def test_control_characters_and_blank_names_in_paths_are_not_found(client, path):
    cl = factories.category("cs.LG")
    entry = factories.entry(digest=factories.digest(), paper=factories.paper(primary_category=cl))
    entry.tags.add("rl")
    response = client.get(path)
    assert response.status_code == 404
    assert "row-" not in response.content.decode()  # no unfiltered list


def test_ordinary_names_still_reach_their_pages(client):
    cl = factories.category("cs.CL")
    entry = factories.entry(
        digest=factories.digest(),
        paper=factories.paper(primary_category=cl, affiliations="UC Berkeley / Google"),
    )
    entry.tags.add("强化学习")
    for url in (
        "/tags/%E5%BC%BA%E5%8C%96%E5%AD%A6%E4%B9%A0/",
        "/categories/CL/",
        "/categories/cs.CL/",
        "/affiliations/UC Berkeley / Google/",
    ):
        assert client.get(url).status_code == 200, url


def test_a_stored_name_with_a_tab_still_gets_a_link(client):
    factories.entry(
        digest=factories.digest(), paper=factories.paper(affiliations="Google\tDeepMind")
    )
    response = client.get("/papers/")
    assert response.status_code == 200
    assert 'href="/affiliations/Google%20DeepMind/"' in response.content.decode()


def test_a_new_figure_stores_its_size_so_pages_need_not_open_the_file(settings, tmp_path):
    from django.core.files.base import ContentFile

    from editorial.demo import figure_png

    settings.MEDIA_ROOT = tmp_path
    entry = factories.entry(digest=factories.digest(), with_sections=False)
    figure = Figure(entry=entry, position=1, caption="图")
    figure.image.save("new.png", ContentFile(figure_png("2509.00002", 1)), save=False)
    figure.save()
    assert Figure.objects.values_list("width", "height").get(pk=figure.pk) == (640, 360)


@pytest.mark.parametrize(
    "url",
    [
        "/papers/?tag=%00",
        "/papers/?tag=rl&tag=a%00b",
        "/papers/?category=%00",
        "/papers/?affiliation=Goo%00gle",
        "/papers/?author=%00",
        "/search/?q=%E6%8E%A8%00%E7%90%86",
        "/sections/limitations/?tag=%00",
        "/api/v1/entries/?tag=%00",
        "/api/v1/entries/?q=%00",
    ],
)
def test_a_nul_in_a_filter_value_is_a_form_error_not_a_server_error(client, url):
    """PostgreSQL refuses NUL in a string: it must be refused before the database."""
    entry = factories.entry(digest=factories.digest())
    entry.tags.add("rl")
    response = client.get(url)
    assert response.status_code in (200, 400), response.status_code
    body = response.content.decode()
    assert "row-" not in body  # nothing listed for a refused filter
    if url.startswith("/api/"):
        assert response.status_code == 400
    else:
        assert "Null characters are not allowed" in body or "不允许" in body or "空字符" in body
