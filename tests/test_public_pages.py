import datetime
import re

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from papers.models import SectionKind, SiteSettings
from tests import factories

pytestmark = pytest.mark.django_db


def _count_queries(client, url):
    # The rendering's queries: the page cache would answer the second request itself.
    with override_settings(PAGE_CACHE_ENABLED=False):
        client.get(url)  # warm the site-settings cache, as on a live site
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured)


def test_home_lists_published_digests_only(client):
    live = factories.digest(entries=2, title="已发布的一期")
    factories.digest(entries=1, status="draft", title="草稿期")
    factories.digest(entries=1, status="review", title="审核中的一期")
    factories.digest(
        entries=1, published_at=timezone.now() + datetime.timedelta(days=1), title="定时期"
    )
    factories.digest(entries=1, status="archived", title="归档期")
    html = client.get("/").content.decode()
    assert "已发布的一期" in html
    for hidden in ("草稿期", "审核中的一期", "定时期", "归档期"):
        assert hidden not in html
    for entry in live.entries.all():
        assert entry.paper.title in html


def test_home_is_paginated_newest_first(client, settings):
    settings.HOME_PAGE_SIZE = 2
    for day in range(1, 6):
        factories.digest(issue_date=datetime.date(2025, 9, day), title=f"九月{day}日")
    first = client.get("/").content.decode()
    assert first.index("九月5日") < first.index("九月4日")
    assert "九月3日" not in first
    assert "九月1日" in client.get("/?page=3").content.decode()
    assert client.get("/?page=99").status_code == 404
    assert client.get("/?page=abc").status_code == 404


@pytest.mark.parametrize("status", ["draft", "review"])
def test_unpublished_digest_and_its_entries_are_404_for_readers(client, status):
    digest = factories.digest(entries=1, status=status)
    entry = digest.entries.get()
    assert client.get(digest.get_absolute_url()).status_code == 404
    assert client.get(entry.get_absolute_url()).status_code == 404


def test_scheduled_and_expired_digests_are_404_for_readers(client):
    now = timezone.now()
    scheduled = factories.digest(entries=1, published_at=now + datetime.timedelta(minutes=5))
    expired = factories.digest(
        entries=1,
        published_at=now - datetime.timedelta(days=3),
        expires_at=now - datetime.timedelta(seconds=1),
    )
    for digest in (scheduled, expired):
        assert client.get(digest.get_absolute_url()).status_code == 404
        assert client.get(digest.entries.get().get_absolute_url()).status_code == 404


def test_staff_preview_a_draft_with_a_banner_and_no_caching(client):
    digest = factories.digest(entries=1, status="draft", title="内部草稿")
    client.force_login(factories.user("editor", staff=True, perms=["papers.view_digest"]))
    for url in (digest.get_absolute_url(), digest.entries.get().get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "preview-banner" in html
        assert '<meta name="robots" content="noindex, nofollow">' in html
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]


def test_staff_without_editorial_rights_cannot_preview_drafts(client):
    digest = factories.digest(entries=1, status="draft")
    client.force_login(factories.moderator())
    assert client.get(digest.get_absolute_url()).status_code == 404
    assert client.get(digest.entries.get().get_absolute_url()).status_code == 404


def test_published_page_has_no_preview_banner(client):
    digest = factories.digest(entries=1)
    response = client.get(digest.get_absolute_url())
    assert "preview-banner" not in response.content.decode()
    assert "no-store" not in response.get("Cache-Control", "")


def test_digest_page_shows_the_seed_layout_in_order(client):
    digest = factories.digest(entries=3, title="AI前沿推介(9.30)", summary="本期摘要文字")
    digest.view_count = 321
    digest.save()
    html = client.get(digest.get_absolute_url()).content.decode()
    # Title, date, views, numbered TOC with short tags, summary, then the papers.
    title_at = html.index("AI前沿推介(9.30)</h1>")
    toc_at = html.index('class="toc"')
    summary_at = html.index("<p>本期摘要文字</p>")
    first_paper_at = html.index('id="paper-1"')
    assert title_at < toc_at < summary_at < first_paper_at
    assert digest.issue_date.isoformat() in html
    assert "321" in html
    assert html.count("[LG]</span>") == 6  # three in the TOC, three in the paper headings
    kinds = list(SectionKind.objects.all())
    for entry in digest.entries.select_related("paper"):
        start = html.index(f'<article class="entry" id="paper-{entry.position}"')
        block = html[start : html.index("</article>", start)]
        paper = entry.paper
        for text in (
            paper.title,
            "A Lovelace, C Babbage",
            "[Analytical Engine Lab]",
            entry.title_zh,
        ):
            assert text in block
        positions = [block.index(f'-h">{kind.name_zh}</h') for kind in kinds]
        assert positions == sorted(positions), "sections must follow the kinds' order"
        for section in entry.sections.all():
            assert section.body_html in block
        assert paper.abstract in block
        assert block.index(kinds[-1].name_zh) < block.index(paper.abstract)
        assert f'href="https://arxiv.org/abs/{paper.arxiv_id}"' in block


def test_digest_page_links_previous_and_next_published_issues(client):
    older = factories.digest(issue_date=datetime.date(2025, 9, 28), title="较早一期")
    factories.digest(issue_date=datetime.date(2025, 9, 29), status="draft", title="草稿一期")
    middle = factories.digest(issue_date=datetime.date(2025, 9, 30), title="中间一期")
    newer = factories.digest(issue_date=datetime.date(2025, 10, 1), title="较新一期")
    html = client.get(middle.get_absolute_url()).content.decode()
    assert f'rel="prev" href="{older.get_absolute_url()}"' in html
    assert f'rel="next" href="{newer.get_absolute_url()}"' in html
    assert "草稿一期" not in html


def test_entry_page_has_an_anchor_per_section_and_links_back(client):
    digest = factories.digest(entries=2)
    entry = digest.entries.get(position=2)
    html = client.get(entry.get_absolute_url()).content.decode()
    for kind in SectionKind.objects.all():
        assert f'id="{kind.slug}"' in html
        assert f'href="#{kind.slug}"' in html
    assert f'href="{digest.get_absolute_url()}#paper-2"' in html
    assert re.search(r"<h1 [^>]*>.*" + re.escape(entry.paper.title), html)
    previous = digest.entries.get(position=1)
    assert f'rel="prev" href="{previous.get_absolute_url()}"' in html


def test_entry_url_works_for_old_style_arxiv_ids(client):
    digest = factories.digest()
    entry = factories.entry(digest=digest, paper=factories.paper(arxiv_id="hep-th/9901001"))
    assert entry.get_absolute_url().endswith("/hep-th/9901001/")
    assert client.get(entry.get_absolute_url()).status_code == 200


def test_unknown_or_impossible_addresses_are_404(client):
    digest = factories.digest(entries=1)
    date = digest.issue_date.isoformat()
    assert client.get(f"/digests/2025-02-30/{digest.slug}/").status_code == 404
    assert client.get(f"/digests/{date}/no-such-slug/").status_code == 404
    assert client.get(f"/digests/{date}/{digest.slug}/2509.99999/").status_code == 404
    assert client.get(f"/digests/{date}/{digest.slug}/not-an-id/").status_code == 404


def test_figures_with_images_show_and_placeholders_stay_hidden_from_readers(client):
    digest = factories.digest(entries=1)
    html = client.get(digest.get_absolute_url()).content.decode()
    assert "Image on" not in html  # the factory's figure has no image yet


def test_site_settings_appear_on_every_page(client):
    settings_row = SiteSettings.load()
    settings_row.site_name = "论文速递"
    settings_row.footer_text = "联系我们:team@example.com"
    settings_row.save()
    html = client.get("/").content.decode()
    assert "论文速递" in html and "team@example.com" in html


def test_ui_is_chinese_by_default_and_english_on_request(client):
    factories.digest(entries=1)
    assert "最新" in client.get("/").content.decode()
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Latest digests" in english


@pytest.mark.parametrize("size", [1, 20])
def test_home_page_query_count_does_not_grow_with_digests(client, size):
    for _ in range(size):
        factories.digest(entries=3)
    assert _count_queries(client, "/") <= 3


@pytest.mark.parametrize("size", [1, 20])
def test_digest_page_query_count_does_not_grow_with_entries(client, size):
    digest = factories.digest(entries=size)
    assert _count_queries(client, digest.get_absolute_url()) <= 8 + 2  # + comments, closure


@pytest.mark.parametrize("size", [1, 20])
def test_entry_page_query_count_does_not_grow_with_entries(client, size):
    digest = factories.digest(entries=size)
    entry = digest.entries.order_by("position").last()
    assert _count_queries(client, entry.get_absolute_url()) <= 7 + 2  # + comments, closure


def test_query_counts_are_identical_for_small_and_large_digests(client):
    small = factories.digest(entries=1)
    large = factories.digest(entries=20)
    assert _count_queries(client, small.get_absolute_url()) == _count_queries(
        client, large.get_absolute_url()
    )
    assert _count_queries(client, small.entries.get().get_absolute_url()) == _count_queries(
        client, large.entries.last().get_absolute_url()
    )


def test_admin_link_is_reversible():
    assert reverse("admin:index") == "/admin/"


def test_favicon_ico_leads_to_the_site_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")
