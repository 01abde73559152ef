"""The page cache (papers/page_cache.py): anonymous pages, feeds, sitemap, robots.txt and the
API come from the cache without touching the database, per-visitor parts are filled per
response, and every change a reader could see shows on the very next request."""

import datetime
import pickle
import re

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from taggit.models import Tag

from papers import comments as svc
from papers import content_cache, services
from papers.models import Comment, Figure, Section, SiteSettings
from tests import factories
from tests.redis_support import redis_caches, requires_redis

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STAMP = re.compile(r'name="stamp" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.COMMENTS_RATE_LIMITS = []
    settings.COMMENTS_MIN_FILL_SECONDS = 0


@pytest.fixture
def boss():
    return factories.user("boss", superuser=True)


def warm(url: str) -> str:
    """Load ``url`` until it comes from the cache; returns the cached page's text."""
    client = Client()
    first = client.get(url)
    assert first.status_code == 200
    second = client.get(url)
    assert second["X-Page-Cache"] == "hit", "the page was not cached"
    return second.content.decode()


def fresh(url: str):
    """What the next anonymous reader gets."""
    return Client().get(url)


def cached_bodies() -> list[bytes]:
    """Every page body in the (local memory) cache."""
    bodies = []
    for value in cache._cache.values():
        try:
            entry = pickle.loads(value)
        except Exception:  # noqa: BLE001 - not ours
            continue
        if hasattr(entry, "body"):
            bodies.append(entry.body)
    return bodies


# --- served from the cache ------------------------------------------------------------


def test_warm_pages_feeds_sitemap_robots_and_api_cost_no_query():
    digest = factories.digest(entries=2)
    entry = digest.entries.first()
    tag = Tag.objects.create(name="强化学习", slug="rl")
    entry.tags.add(tag)
    urls = [
        "/",
        digest.get_absolute_url(),
        entry.get_absolute_url(),
        "/papers/",
        "/papers/?q=推理",
        "/tags/rl/",
        "/feeds/atom/",
        "/feeds/rss/",
        "/tags/rl/feed/atom/",
        "/sitemap.xml",
        "/sitemap-digests.xml",
        "/robots.txt",
        "/api/v1/digests/",
        f"/api/v1/digests/{digest.issue_date}/{digest.slug}/",
    ]
    for url in urls:
        client = Client()
        cold = client.get(url)
        assert cold.status_code == 200, url
        assert cold["X-Page-Cache"] == "miss", url
        with CaptureQueriesContext(connection) as queries:
            warm_response = client.get(url)  # now with the CSRF cookie, no session
        assert warm_response["X-Page-Cache"] == "hit", url
        assert len(queries) == 0, (url, [q["sql"] for q in queries])
        assert warm_response["Content-Length"] == str(len(warm_response.content)), url


def test_an_anonymous_reader_with_a_session_costs_one_query():
    digest = factories.digest(entries=1)
    warm(digest.get_absolute_url())
    session = SessionStore()
    session["comments_reader"] = "abc"  # a reader who flagged a comment once
    session.save()
    client = Client()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = session.session_key
    with CaptureQueriesContext(connection) as queries:
        response = client.get(digest.get_absolute_url())
    assert response["X-Page-Cache"] == "hit"
    assert len(queries) == 1  # the session row


def test_head_is_answered_from_the_cache_with_the_right_length():
    digest = factories.digest(entries=1)
    url = digest.get_absolute_url()
    client = Client()
    body = client.get(url).content
    head = client.head(url)
    assert head.status_code == 200 and head["X-Page-Cache"] == "hit"
    assert head.content == b""
    assert head["Content-Length"] == str(len(body))
    assert head["ETag"]


# --- per-visitor holes ----------------------------------------------------------------


def test_two_readers_get_their_own_token_and_stamp_from_one_cached_page():
    digest = factories.digest(entries=1)
    url = digest.get_absolute_url()
    alice, bob = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    page_a = alice.get(url)
    page_b = bob.get(url)
    assert (page_a["X-Page-Cache"], page_b["X-Page-Cache"]) == ("miss", "hit")
    html_a, html_b = page_a.content.decode(), page_b.content.decode()
    assert "pagecache-hole" not in html_a + html_b
    tokens_a, tokens_b = set(TOKEN.findall(html_a)), set(TOKEN.findall(html_b))
    assert len(tokens_a) == 1 and len(tokens_b) == 1  # footer and comment form share one
    assert tokens_a != tokens_b
    assert alice.cookies["csrftoken"].value != bob.cookies["csrftoken"].value
    # Apart from the holes, both readers got the same page.
    strip = lambda html: STAMP.sub("", TOKEN.sub("", html))  # noqa: E731
    assert strip(html_a) == strip(html_b)
    for reader, html in ((alice, html_a), (bob, html_b)):
        stamp = STAMP.search(html).group(1)
        assert svc.stamp_age(stamp) is not None  # a real, signed stamp
        token = TOKEN.search(html).group(1)
        switched = reader.post(
            "/i18n/setlang/", {"language": "en", "next": url, "csrfmiddlewaretoken": token}
        )
        assert switched.status_code == 302
        sent = reader.post(
            "/comments/",
            {
                "csrfmiddlewaretoken": token,
                "target": svc.target_key(digest),
                "stamp": stamp,
                "website": "",
                "name": "读者",
                "body": f"来自 {id(reader)} 的评论",
            },
        )
        assert sent.status_code == 303, sent.content[:500]
    assert Comment.objects.count() == 2
    # One reader's token is worthless with the other reader's cookie.
    token_a = TOKEN.search(html_a).group(1)
    carol = Client(enforce_csrf_checks=True)
    carol.get(url)
    refused = carol.post("/i18n/setlang/", {"language": "en", "csrfmiddlewaretoken": token_a})
    assert refused.status_code == 403


def test_a_visitors_token_is_djangos_masked_secret_masked_afresh_each_time(monkeypatch):
    """``visitor_token``, which fills the CSRF holes instead of Django's slower
    ``get_token``: a new visitor's secret has Django's form and is flagged for the cookie,
    every token unmasks to it under a new mask, and any secret of another form is left
    to Django."""
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, _unmask_cipher_token
    from django.test import RequestFactory

    from papers import page_cache

    request = RequestFactory().get("/")
    first, second = page_cache.visitor_token(request), page_cache.visitor_token(request)
    secret = request.META["CSRF_COOKIE"]
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    assert len(secret) == 32 and set(secret) <= set(CSRF_ALLOWED_CHARS)
    assert len(first) == len(second) == 64 and first[:32] != second[:32]
    assert _unmask_cipher_token(first) == _unmask_cipher_token(second) == secret
    drawn = "".join(page_cache._csrf_string() for _ in range(300))
    assert set(drawn) == set(CSRF_ALLOWED_CHARS)  # every character can be drawn
    monkeypatch.setattr(page_cache, "get_token", lambda request: "django's own")
    odd = RequestFactory().get("/")
    odd.META["CSRF_COOKIE"] = "not-a-secret"
    assert page_cache.visitor_token(odd) == "django's own"


def test_cached_pages_are_sent_gzipped_with_each_visitors_own_token():
    """A browser asking for gzip gets the cached page compressed (a digest page is a
    quarter of its size), its holes filled for it: the token in the compressed page works
    with its own cookie, and the stamp is a real one."""
    import gzip

    digest = factories.digest(entries=3, title="压缩的一期")
    url = digest.get_absolute_url()
    for expected in ("miss", "hit"):
        reader = Client(enforce_csrf_checks=True)
        response = reader.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert response["X-Page-Cache"] == expected
        assert response["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response["Vary"]
        assert int(response["Content-Length"]) == len(response.content)
        html = gzip.decompress(response.content).decode()
        assert "压缩的一期" in html and "pagecache-hole" not in html
        assert len(response.content) * 2 < len(html.encode())
        assert svc.stamp_age(STAMP.search(html).group(1)) is not None
        token = TOKEN.search(html).group(1)
        switched = reader.post(
            "/i18n/setlang/", {"language": "en", "next": url, "csrfmiddlewaretoken": token}
        )
        assert switched.status_code == 302
    # Apart from its holes, the compressed page is the page.
    plain = Client().get(url)
    assert "Content-Encoding" not in plain and "Accept-Encoding" in plain["Vary"]
    strip = lambda text: STAMP.sub("", TOKEN.sub("", text))  # noqa: E731
    assert strip(html) == strip(plain.content.decode())


@pytest.mark.parametrize(
    "header, compressed",
    [
        ("gzip", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("*", True),
        ("", False),
        ("identity", False),
        ("gzip;q=0", False),
        ("br, *;q=0", False),
    ],
)
def test_gzip_only_for_clients_whose_accept_encoding_admits_it(header, compressed):
    url = "/api/v1/entries/"
    factories.digest(entries=3)
    response = Client().get(url, HTTP_ACCEPT_ENCODING=header)
    assert (response.get("Content-Encoding") == "gzip") is compressed


def test_gzip_is_its_own_representation_for_etags_and_exactly_the_body():
    """A feed (no holes) decompresses to exactly the uncompressed feed; the two have
    different ETags, and each revalidates only as itself."""
    import gzip

    factories.digest(entries=3)
    url = "/feeds/atom/"
    plain = Client().get(url)
    packed = Client().get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert gzip.decompress(packed.content) == plain.content
    assert plain["ETag"] != packed["ETag"]
    again = Client().get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=packed["ETag"])
    assert again.status_code == 304 and "Accept-Encoding" in again["Vary"]
    other = Client().get(url, HTTP_IF_NONE_MATCH=packed["ETag"])
    assert other.status_code == 200 and "Content-Encoding" not in other
    # A body too short to gain anything is sent as it is.
    robots = Client().get("/robots.txt", HTTP_ACCEPT_ENCODING="gzip")
    assert robots.status_code == 200 and "Content-Encoding" not in robots


def test_pages_with_a_token_are_private_and_feeds_are_public():
    digest = factories.digest(entries=1)
    page = Client().get(digest.get_absolute_url())
    assert page["Cache-Control"] == "private, max-age=0, must-revalidate"
    feed = Client().get("/feeds/atom/")
    assert feed["Cache-Control"] == "public, max-age=0, must-revalidate"
    api = Client().get("/api/v1/digests/")
    assert api["Cache-Control"] == "public, max-age=0, must-revalidate"
    assert api["Access-Control-Allow-Origin"] == "*"


# --- conditional GET ------------------------------------------------------------------


@pytest.fixture
def later(time_machine):
    """Content made a minute ago (Last-Modified is never in the future)."""

    def move(seconds=60):
        time_machine.move_to(timezone.now() + datetime.timedelta(seconds=seconds), tick=False)

    return move


def test_feeds_answer_304_by_etag_and_by_date_until_they_change(later):
    digest = factories.digest(entries=1)
    later()
    first = Client().get("/feeds/atom/")
    etag, modified = first["ETag"], first["Last-Modified"]
    assert Client().get("/feeds/atom/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert Client().get("/feeds/atom/", HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    digest.title = "新的标题"
    digest.save()
    later(2)
    by_etag = Client().get("/feeds/atom/", HTTP_IF_NONE_MATCH=etag)
    by_date = Client().get("/feeds/atom/", HTTP_IF_MODIFIED_SINCE=modified)
    assert by_etag.status_code == 200 and "新的标题" in by_etag.content.decode()
    assert by_date.status_code == 200 and by_date["ETag"] != etag


def test_a_change_within_the_same_second_still_answers_200_by_date(later):
    digest = factories.digest(entries=1)
    later()
    modified = Client().get("/feeds/atom/")["Last-Modified"]
    digest.title = "同一秒内的修改"
    digest.save()  # no time passes
    response = Client().get("/feeds/atom/", HTTP_IF_MODIFIED_SINCE=modified)
    assert response.status_code == 200
    assert "同一秒内的修改" in response.content.decode()


def test_pages_answer_304_to_the_same_reader_only(later):
    digest = factories.digest(entries=1)
    url = digest.get_absolute_url()
    later()
    reader = Client()
    reader.get(url)  # gets the CSRF cookie
    page = reader.get(url)
    etag = page["ETag"]
    assert page["Last-Modified"]
    assert reader.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    # Another reader's cookie makes another token: that copy would not work for them.
    other = Client()
    other.get(url)
    assert other.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200
    # A new comment approved on the page: the reader's copy is out of date.
    comment = factories.comment(on=digest, status="pending")
    svc.comment_moderate(
        comment=comment, by=factories.user("mod", superuser=True), status="approved"
    )
    again = reader.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and comment.body in again.content.decode()


# --- who is never served from the cache ------------------------------------------------


def test_staff_get_uncached_private_pages(boss):
    digest = factories.digest(entries=1)
    url = digest.get_absolute_url()
    warm(url)
    client = Client()
    client.force_login(boss)
    response = client.get(url)
    assert response["X-Page-Cache"] == "bypass"
    assert "private" in response["Cache-Control"]


def test_readers_with_a_notice_or_a_waiting_comment_are_not_served_the_cache():
    digest = factories.digest(entries=1)
    url = digest.get_absolute_url()
    warm(url)
    noticed = Client()
    noticed.cookies["messages"] = "anything"
    assert noticed.get(url)["X-Page-Cache"] == "bypass"
    author = Client()
    page = author.get(url).content.decode()
    author.post(
        "/comments/",
        {
            "csrfmiddlewaretoken": TOKEN.search(page).group(1),
            "target": svc.target_key(digest),
            "stamp": STAMP.search(page).group(1),
            "name": "作者",
            "body": "我自己的待审评论",
        },
    )
    own = author.get(url)
    assert own["X-Page-Cache"] == "bypass" and "我自己的待审评论" in own.content.decode()
    # A flood of pending comments flushes nothing: everyone else still gets the cached page.
    other = fresh(url)
    assert other["X-Page-Cache"] == "hit" and "我自己的待审评论" not in other.content.decode()


def test_share_link_previews_and_drafts_never_enter_the_cache(boss):
    draft = factories.digest(entries=1, status="draft", title="秘密草稿")
    link = services.share_link_create(digest=draft, by=boss)
    token = services_token(link)
    preview = Client().get(f"/preview/{token}/")
    assert preview.status_code == 200 and "X-Page-Cache" not in preview
    assert "no-store" in preview["Cache-Control"]
    staff = Client()
    staff.force_login(boss)
    assert staff.get(draft.get_absolute_url()).status_code == 200  # the staff preview
    assert fresh(draft.get_absolute_url()).status_code == 404
    missing = fresh(draft.get_absolute_url())
    assert missing.status_code == 404 and missing["X-Page-Cache"] == "miss"  # never stored
    assert b"pagecache-hole" not in missing.content  # its holes are filled all the same
    refused = fresh("/compare/?e=1")  # a 400 page with the footer's form
    assert refused.status_code == 400 and b"pagecache-hole" not in refused.content
    assert b"csrfmiddlewaretoken" in refused.content
    assert not any("秘密草稿".encode() in body for body in cached_bodies())


def services_token(link):
    from papers import workflow

    return workflow.share_token(link)


def test_languages_are_cached_apart():
    digest = factories.digest(entries=1)
    url = digest.get_absolute_url()
    english = Client()
    english.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    assert 'lang="en"' in english.get(url).content.decode()
    assert 'lang="en"' in english.get(url).content.decode()
    chinese = Client()
    assert 'lang="zh-hans"' in chinese.get(url).content.decode()
    assert 'lang="zh-hans"' in chinese.get(url).content.decode()
    by_header = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert 'lang="en"' in by_header.get(url).content.decode()


# --- exact invalidation -------------------------------------------------------------------


def test_without_the_content_version_a_cached_page_would_stay_stale(monkeypatch):
    """The control: the tests below prove invalidation, not a cache that does nothing."""
    digest = factories.digest(entries=1, title="旧标题")
    warm(digest.get_absolute_url())
    monkeypatch.setattr(content_cache, "_set_new_version", lambda: None)
    digest.title = "新标题"
    digest.save()
    assert "旧标题" in fresh(digest.get_absolute_url()).content.decode()


def test_publish_shows_at_once(boss):
    draft = factories.digest(entries=1, status="draft", title="刚发布的一期")
    warm("/")
    warm("/feeds/atom/")
    assert fresh(draft.get_absolute_url()).status_code == 404
    services.digest_publish(digest=draft, by=boss)
    assert "刚发布的一期" in fresh("/").content.decode()
    assert "刚发布的一期" in fresh("/feeds/atom/").content.decode()
    assert fresh(draft.get_absolute_url()).status_code == 200


def test_unpublish_shows_at_once(boss):
    digest = factories.digest(entries=1, title="要下线的一期")
    entry = digest.entries.get()
    for url in ("/", digest.get_absolute_url(), entry.get_absolute_url(), "/api/v1/digests/"):
        warm(url)
    services.digest_unpublish(digest=digest, by=boss)
    assert "要下线的一期" not in fresh("/").content.decode()
    assert fresh(digest.get_absolute_url()).status_code == 404
    assert fresh(entry.get_absolute_url()).status_code == 404
    assert fresh("/api/v1/digests/").json()["count"] == 0


def test_editing_a_digest_shows_at_once():
    digest = factories.digest(entries=1, title="原标题")
    urls = ["/", digest.get_absolute_url(), "/feeds/atom/", "/sitemap-digests.xml"]
    for url in urls:
        warm(url)
    digest.title = "改过的标题"
    digest.save()
    for url in urls[:3]:
        assert "改过的标题" in fresh(url).content.decode(), url
    warm(digest.get_absolute_url())
    digest.tags.add("新标签")  # m2m change, no save of the digest
    assert "新标签" in fresh(digest.get_absolute_url()).content.decode()


def test_editing_entry_section_figure_and_paper_shows_at_once():
    digest = factories.digest(entries=1)
    entry = digest.entries.get()
    urls = [digest.get_absolute_url(), entry.get_absolute_url(), "/papers/"]
    for url in urls:
        warm(url)
    section = Section.objects.filter(entry=entry).first()
    section.body = "全新的点评正文"
    section.save()
    assert "全新的点评正文" in fresh(entry.get_absolute_url()).content.decode()
    for url in urls:
        warm(url)
    Figure.objects.filter(entry=entry).update(image="figures/2025/01/f.png", width=4, height=3)
    for url in urls:
        warm(url)
    figure = Figure.objects.get(entry=entry)
    figure.caption = "新的图注"
    figure.save()
    assert "新的图注" in fresh(digest.get_absolute_url()).content.decode()
    for url in urls:
        warm(url)
    paper = entry.paper
    paper.title = "A Brand New Paper Title"
    paper.save()
    for url in urls:
        assert "A Brand New Paper Title" in fresh(url).content.decode(), url
    for url in urls:
        warm(url)
    entry.title_zh = "新的中文标题"
    entry.save()
    assert "新的中文标题" in fresh(entry.get_absolute_url()).content.decode()


def test_a_scheduled_go_live_and_an_expiry_show_on_time(time_machine):
    now = timezone.now()
    time_machine.move_to(now, tick=False)
    factories.digest(entries=1, title="已上线")
    soon = factories.digest(
        entries=1, title="两分钟后上线", published_at=now + datetime.timedelta(minutes=2)
    )
    factories.digest(
        entries=1,
        title="四分钟后下线",
        published_at=now - datetime.timedelta(days=1),
        expires_at=now + datetime.timedelta(minutes=4),
    )
    home = warm("/")
    assert "两分钟后上线" not in home and "四分钟后下线" in home
    assert fresh(soon.get_absolute_url()).status_code == 404
    time_machine.move_to(now + datetime.timedelta(minutes=2, seconds=1), tick=False)
    assert "两分钟后上线" in fresh("/").content.decode()
    assert fresh(soon.get_absolute_url()).status_code == 200
    assert "两分钟后上线" in warm("/feeds/atom/")
    time_machine.move_to(now + datetime.timedelta(minutes=4, seconds=1), tick=False)
    assert "四分钟后下线" not in fresh("/").content.decode()
    assert "四分钟后下线" not in fresh("/feeds/atom/").content.decode()


def test_comment_approval_unapproval_pin_and_deletion_show_at_once(
    django_capture_on_commit_callbacks,
):
    digest = factories.digest(entries=1)
    entry = digest.entries.get()
    moderator = factories.user("mod", superuser=True)
    first = factories.comment(on=digest, body="第一条已发布的评论")
    waiting = factories.comment(on=digest, status="pending", body="等待审核的评论")
    url = digest.get_absolute_url()
    other_url = entry.get_absolute_url()
    warm(url)
    warm(other_url)

    with django_capture_on_commit_callbacks(execute=True):
        svc.comment_moderate(comment=waiting, by=moderator, status="approved")
    page = fresh(url)
    assert page["X-Page-Cache"] == "miss" and "等待审核的评论" in page.content.decode()
    # Only the pages showing that thread re-render.
    assert fresh(other_url)["X-Page-Cache"] == "hit"

    warm(url)
    with django_capture_on_commit_callbacks(execute=True):
        svc.comment_set_pinned(comment=waiting, by=moderator, pinned=True)
    html = fresh(url).content.decode()
    assert html.index("等待审核的评论") < html.index("第一条已发布的评论")  # pinned first

    warm(url)
    with django_capture_on_commit_callbacks(execute=True):
        svc.comment_moderate(comment=first, by=moderator, status="rejected")
    assert "第一条已发布的评论" not in fresh(url).content.decode()

    warm(url)
    with django_capture_on_commit_callbacks(execute=True):
        Comment.objects.get(pk=waiting.pk).delete()  # the admin's delete
    assert "等待审核的评论" not in fresh(url).content.decode()


def test_closing_comments_and_their_closing_by_age_show_at_once(
    django_capture_on_commit_callbacks, settings, time_machine
):
    now = timezone.now()
    time_machine.move_to(now, tick=False)
    settings.COMMENTS_CLOSE_AFTER_DAYS = 30
    digest = factories.digest(entries=1)
    entry = digest.entries.get()
    warm(digest.get_absolute_url())
    warm(entry.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        svc.comments_close(digest=digest, by=factories.user("mod", superuser=True))
    for url in (digest.get_absolute_url(), entry.get_absolute_url()):
        html = fresh(url).content.decode()
        assert 'class="comments-closed"' in html and 'id="comment-form"' not in html

    aging = factories.digest(entries=1, published_at=now - datetime.timedelta(days=30, minutes=-2))
    assert 'id="comment-form"' in warm(aging.get_absolute_url())
    time_machine.move_to(now + datetime.timedelta(minutes=3), tick=False)
    html = fresh(aging.get_absolute_url()).content.decode()
    assert 'id="comment-form"' not in html and 'class="comments-closed"' in html


def test_tag_rename_through_the_admin_shows_at_once(boss):
    digest = factories.digest(entries=1)
    entry = digest.entries.get()
    tag = Tag.objects.create(name="蒸馏", slug="distill")
    entry.tags.add(tag)
    for url in ("/tags/distill/", "/papers/", "/tags/"):
        warm(url)
    admin = Client()
    admin.force_login(boss)
    response = admin.post(
        f"/admin/taggit/tag/{tag.pk}/change/",
        {
            "name": "知识蒸馏",
            "slug": "distill",
            "taggit_taggeditem_items-TOTAL_FORMS": "0",
            "taggit_taggeditem_items-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    for url in ("/tags/distill/", "/papers/", "/tags/"):
        assert "知识蒸馏" in fresh(url).content.decode(), url


def test_category_rename_through_the_admin_shows_at_once(boss):
    digest = factories.digest(entries=1)
    category = digest.entries.get().paper.primary_category
    urls = [f"/categories/{category.code}/", "/categories/", digest.get_absolute_url()]
    for url in urls:
        warm(url)
    admin = Client()
    admin.force_login(boss)
    response = admin.post(
        f"/admin/papers/category/{category.pk}/change/",
        {"code": category.code, "name": category.name, "name_zh": "改名后的分类"},
    )
    assert response.status_code == 302
    for url in urls[:2]:
        assert "改名后的分类" in fresh(url).content.decode(), url


def test_site_settings_through_the_admin_show_at_once(boss):
    digest = factories.digest(entries=1)
    for url in ("/", digest.get_absolute_url(), "/feeds/atom/"):
        warm(url)
    row = SiteSettings.load()
    admin = Client()
    admin.force_login(boss)
    fields = {
        f.name: getattr(row, f.name)
        for f in SiteSettings._meta.fields
        if f.name not in ("id",) and f.editable
    }
    fields.update(site_name="全新站名", footer_text="新的页脚")
    response = admin.post(f"/admin/papers/sitesettings/{row.pk}/change/", fields)
    assert response.status_code == 302, response.content[:2000]
    for url in ("/", digest.get_absolute_url()):
        html = fresh(url).content.decode()
        assert "全新站名" in html and "新的页脚" in html
    assert "全新站名" in fresh("/feeds/atom/").content.decode()


# --- Redis -----------------------------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/3"


@requires_redis(REDIS_URL)
def test_the_cache_works_in_redis_shared_by_app_servers(settings, boss):
    settings.CACHES = redis_caches(REDIS_URL, "test-pagecache")
    caches["default"].clear()
    try:
        digest = factories.digest(entries=1, title="Redis 里的一期")
        url = digest.get_absolute_url()
        assert fresh(url)["X-Page-Cache"] == "miss"
        with CaptureQueriesContext(connection) as queries:
            hit = fresh(url)
        assert hit["X-Page-Cache"] == "hit" and len(queries) == 0
        assert "Redis 里的一期" in hit.content.decode()
        assert "pagecache-hole" not in hit.content.decode()
        services.digest_unpublish(digest=digest, by=boss)
        assert fresh(url).status_code == 404
    finally:
        caches["default"].clear()


# --- static files ----------------------------------------------------------------------


def test_hashed_static_files_are_long_lived_and_served_compressed(settings, tmp_path):
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", "--ignore", "admin", verbosity=0)
    hashed = staticfiles_storage.url("css/site.css")
    assert re.search(r"/site\.[0-9a-f]{12}\.css$", hashed)
    for encoding in ("br", "gzip"):
        response = Client().get(hashed, HTTP_ACCEPT_ENCODING=encoding)
        assert response.status_code == 200
        assert response["Content-Encoding"] == encoding
        assert "immutable" in response["Cache-Control"]
        assert "max-age=315360000" in response["Cache-Control"]
        assert "Accept-Encoding" in response["Vary"]
        assert "X-Page-Cache" not in response
    plain = Client().get(hashed)
    assert "Content-Encoding" not in plain
    # Pages link the hashed name, so a changed file is a new URL: nothing stale is kept.
    html = Client().get("/").content.decode()
    assert hashed in html


# --- several worker processes without Redis ---------------------------------------------


def test_without_redis_pages_and_versions_live_in_files_every_worker_reads(settings, tmp_path):
    """gunicorn runs several processes: a per-process memory cache would let one keep
    serving what another invalidated, so the settings put the page store in files."""
    import digestsite.settings as real

    if not real.REDIS_URL:
        assert real.CACHES["pages"]["BACKEND"] == "papers.page_store.PageFileCache"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {"BACKEND": "papers.page_store.PageFileCache", "LOCATION": str(tmp_path)},
    }
    from papers.page_store import PageFileCache

    other_worker = PageFileCache(str(tmp_path), {})  # what another process opens
    digest = factories.digest(entries=1, title="文件缓存里的一期")
    url = digest.get_absolute_url()
    assert fresh(url)["X-Page-Cache"] == "miss"
    assert fresh(url)["X-Page-Cache"] == "hit"
    assert other_worker.get(content_cache.version_key()) == content_cache.content_version()
    # Another worker saves a change (its receivers write the new version to the files).
    version = content_cache._new_version()
    other_worker.set(content_cache.version_key(), version, timeout=None)
    assert fresh(url)["X-Page-Cache"] == "miss"
    # And a moderator's decision in another worker re-renders the page here.
    warm(url)
    other_worker.set(f"comments:version:{svc.target_key(digest)}", "another", timeout=None)
    assert fresh(url)["X-Page-Cache"] == "miss"


def _file_store(settings, tmp_path, **options):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {
            "BACKEND": "papers.page_store.PageFileCache",
            "LOCATION": str(tmp_path),
            "OPTIONS": options,
        },
    }
    return caches["pages"]


def test_file_store_keeps_pages_uncompressed_and_reads_them_back(settings, tmp_path):
    """A hit reads the page as it was rendered: no zlib to undo on every request."""
    _file_store(settings, tmp_path)
    digest = factories.digest(entries=1, title="不压缩的一期")
    url = digest.get_absolute_url()
    first = warm(url)
    files = list(tmp_path.glob("*.page"))
    assert any("不压缩的一期".encode() in path.read_bytes() for path in files)
    hit = fresh(url)
    assert hit["X-Page-Cache"] == "hit"
    assert hit.content.decode().count("不压缩的一期") == first.count("不压缩的一期")


def test_file_store_treats_unreadable_and_old_format_files_as_misses(settings, tmp_path):
    """A truncated file, or a page kept by Django's own file cache (zlib) before an
    upgrade, is rendered again: never a 500, never the old copy."""
    from django.core.cache.backends.filebased import FileBasedCache

    store = _file_store(settings, tmp_path)
    digest = factories.digest(entries=1, title="坏文件的一期")
    url = digest.get_absolute_url()
    warm(url)
    for path in tmp_path.glob("*.page"):
        path.write_bytes(path.read_bytes()[:40])  # cut short mid-write
    response = fresh(url)
    assert response.status_code == 200 and response["X-Page-Cache"] == "miss"
    assert "坏文件的一期" in response.content.decode()
    assert fresh(url)["X-Page-Cache"] == "hit"
    # A file of the old format under the same key is not this store's file at all.
    old = FileBasedCache(str(tmp_path), {})
    old.set("some-key", "old value")
    assert store.get("some-key") is None
    store.set("some-key", "new value")
    assert store.get("some-key") == "new value"
    store.clear()
    assert not list(tmp_path.iterdir())  # both formats removed


def test_file_store_stays_within_max_entries(settings, tmp_path):
    """The directory is scanned every CULL_CHECK_EVERY writes instead of on each one; the
    number of files stays bounded all the same."""
    from papers.page_store import CULL_CHECK_EVERY

    store = _file_store(settings, tmp_path, MAX_ENTRIES=50, CULL_FREQUENCY=2)
    for number in range(600):
        store.set(f"page-{number}", b"x" * 100)
    files = len(list(tmp_path.glob("*.page")))
    assert files <= 50 + CULL_CHECK_EVERY
    assert store.get("page-599") == b"x" * 100  # the newest is there


def test_nothing_kept_for_one_database_is_served_for_another_sharing_the_store(monkeypatch):
    """The versions every kept page, count and row is keyed by are per database: the
    development server and the benchmark's databases share one store under var/, and a
    page or a tag's id from one must never answer for the other."""
    factories.entry(digest=factories.digest()).tags.add("shared-store")
    url = "/papers/?tag=shared-store"
    warm(url)
    version = content_cache.content_version()
    monkeypatch.setitem(connection.settings_dict, "NAME", connection.settings_dict["NAME"] + "x")
    assert content_cache.content_version() != version
    with CaptureQueriesContext(connection) as queries:
        assert fresh(url)["X-Page-Cache"] == "miss"
    assert any("taggit_tag" in q["sql"] for q in queries)  # the tag looked up again
    assert any("COUNT(*)" in q["sql"] for q in queries)  # and counted again
