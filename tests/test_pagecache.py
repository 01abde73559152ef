"""The page cache (pagecache/): anonymous pages, feeds, sitemap, robots.txt and the API come
from the cache without touching the database, per-visitor parts (the CSRF token, the comment
form's stamp) are filled in for each response, and every change a reader could see, made
through the admin or the services, shows on the very next request."""

import datetime
import gzip
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from comments import services as svc
from comments.models import Comment
from editorial import services, workflow
from pagecache import store as pages
from papers.changes import content_changed
from papers.models import Category, Digest, SectionKind, SiteSettings
from tests import factories
from tests.redis_support import redis_caches, requires_redis

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STAMP = re.compile(r'name="stamp" value="([^"]+)"')
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
FILES = "pagecache.backends.PageStore"


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.COMMENTS_RATE_LIMITS = []
    settings.COMMENTS_MIN_FILL_SECONDS = 0


@pytest.fixture
def boss():
    return factories.user("boss", superuser=True)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed(): ...`` runs what the changes inside do once their transaction
    commits (the test's own transaction never does): the announcement to the page cache."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def admin(boss, committed):
    """The back office in a browser: a superuser who opens a change page and saves it."""
    return AdminBrowser(boss, committed)


def warm(url: str) -> str:
    """Load ``url`` until it comes from the cache; returns the cached page's text."""
    client = Client()
    first = client.get(url)
    assert first.status_code == 200, url
    second = client.get(url)
    assert second["X-Page-Cache"] == "hit", f"{url} was not cached"
    return second.content.decode()


def fresh(url: str):
    """What the next anonymous reader gets."""
    return Client().get(url)


def strip_holes(html: str) -> str:
    return STAMP.sub("", TOKEN.sub("", html))


def send_comment(reader: Client, page: str, target, body: str, name: str = "读者"):
    """Post the comment form of ``page`` (the reader's own copy) as a browser would."""
    return reader.post(
        "/comments/",
        {
            "csrfmiddlewaretoken": TOKEN.search(page).group(1),
            "target": svc.target_key(target),
            "stamp": STAMP.search(page).group(1),
            "website": "",
            "name": name,
            "body": body,
        },
    )


# --- the back office, as a browser uses it -------------------------------------------------


class _FormFields(HTMLParser):
    """The values a browser would send for the form whose id is ``form_id``: inputs,
    checked boxes, text areas and selected options (no buttons, no files)."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.data = form_id, False, {}
        self._textarea = self._select = None
        self._text: list[str] = []
        self._options: list[tuple[str, bool]] = []
        self._option_value = None

    def _add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
            return
        if not self.inside or "disabled" in attrs:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._add(name, attrs.get("value") or "on")
                return
            self._add(name, attrs.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []
        elif tag == "select" and name:
            self._select, self._options = (name, "multiple" in attrs), []
        elif tag == "option" and self._select:
            self._option_value = attrs.get("value")
            self._options.append((attrs.get("value") or "", "selected" in attrs))

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)
        elif self._select and self._option_value is None and self._options:
            value, selected = self._options[-1]
            self._options[-1] = (value + data.strip(), selected)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea:
            text = "".join(self._text)
            self._add(self._textarea, text[1:] if text.startswith("\n") else text)
            self._textarea = None
        elif tag == "select" and self._select:
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]
            for value in chosen:
                self._add(name, value)
            self._select = None
        elif tag == "option":
            self._option_value = None


class AdminBrowser:
    def __init__(self, user, committed):
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(user)
        self.committed = committed

    def save(self, url: str, changes: dict):
        """Open the change page at ``url``, change the fields in ``changes`` (names as the
        form posts them) and press Save; the change is committed."""
        page = self.client.get(url)
        assert page.status_code == 200, url
        form_id = re.search(r'<form[^>]*id="(\w+_form)"', page.content.decode()).group(1)
        parser = _FormFields(form_id)
        parser.feed(page.content.decode())
        data = {**parser.data, **changes}
        assert "csrfmiddlewaretoken" in data
        with self.committed():
            response = self.client.post(url, data)
        assert response.status_code == 302, (
            re.findall(r'<ul class="errorlist[^"]*"[^>]*>.*?</ul>', response.content.decode(), re.S)
            or response.content.decode()[:3000]
        )
        return response

    def save_live(self, obj, changes: dict):
        """Change a live digest or one of its entries as the back office does: "Edit" on
        the digest's page makes its working copy, the copy's page is saved with
        ``changes``, and "Save and publish the changes" puts them on the site."""
        digest = obj if isinstance(obj, Digest) else obj.digest
        page = self.client.get(change_url(digest)).content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        with self.committed():
            self.client.post(change_url(digest), {"csrfmiddlewaretoken": token, "_edit_live": "1"})
        copy = Digest.objects.get(working_copy_of=digest)
        target = copy if isinstance(obj, Digest) else copy.entries.get(paper_id=obj.paper_id)
        self.save(change_url(target), changes)
        return self.save(change_url(copy), {"_publish": "1"})


def change_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


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
        "/papers/?tag=rl&page=1",
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
        assert b"pagecache-hole" not in warm_response.content, url


def test_an_anonymous_reader_with_a_session_costs_one_query():
    digest = factories.digest(entries=1)
    warm(digest.get_absolute_url())
    session = SessionStore()
    session[svc.SESSION_READER] = "abc"  # a reader who flagged a comment once
    session.save()
    client = Client()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = session.session_key
    with CaptureQueriesContext(connection) as queries:
        response = client.get(digest.get_absolute_url())
    assert response["X-Page-Cache"] == "hit"
    assert len(queries) == 1, [q["sql"] for q in queries]  # the session row


def test_head_is_answered_from_the_cache_with_the_right_length():
    digest = factories.digest(entries=1)
    url = digest.get_absolute_url()
    client = Client()
    body = client.get(url).content
    head = client.head(url)
    assert head.status_code == 200 and head["X-Page-Cache"] == "hit"
    assert head.content == b""
    assert head["Content-Length"] == str(len(body))
    feed = Client().get("/feeds/atom/").content
    head = Client().head("/feeds/atom/")
    assert head["X-Page-Cache"] == "hit" and head["Content-Length"] == str(len(feed))


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
    assert strip_holes(html_a) == strip_holes(html_b)
    for reader, html in ((alice, html_a), (bob, html_b)):
        assert svc.stamp_age(STAMP.search(html).group(1)) is not None  # a real, signed stamp
        token = TOKEN.search(html).group(1)
        switched = reader.post(
            "/i18n/setlang/", {"language": "en", "next": url, "csrfmiddlewaretoken": token}
        )
        assert switched.status_code == 302
        sent = send_comment(reader, html, digest, f"来自 {id(reader)} 的评论")
        assert sent.status_code == 303, sent.content[:500]
    assert Comment.objects.count() == 2
    # One reader's token is worthless with the other reader's cookie.
    token_a = TOKEN.search(html_a).group(1)
    carol = Client(enforce_csrf_checks=True)
    carol.get(url)
    refused = carol.post("/i18n/setlang/", {"language": "en", "csrfmiddlewaretoken": token_a})
    assert refused.status_code == 403


def test_cached_pages_are_sent_gzipped_with_each_visitors_own_token():
    """A browser asking for gzip gets the cached page compressed, its holes filled for it:
    the token in the compressed page works with its own cookie, and the stamp is real."""
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
    assert strip_holes(html) == strip_holes(plain.content.decode())


def test_pages_with_a_token_are_private_and_feeds_are_public():
    digest = factories.digest(entries=1)
    for expected in ("miss", "hit"):
        page = Client().get(digest.get_absolute_url())
        assert page["X-Page-Cache"] == expected
        assert page["Cache-Control"] == "private, max-age=0, must-revalidate"
        feed = Client().get("/feeds/atom/")
        assert feed["X-Page-Cache"] == expected
        assert feed["Cache-Control"] == "public, max-age=0, must-revalidate"
        api = Client().get("/api/v1/digests/")
        assert api["Cache-Control"] == "public, max-age=0, must-revalidate"
        assert api["Access-Control-Allow-Origin"] == "*"


# --- conditional GET ------------------------------------------------------------------


def test_feeds_answer_304_by_etag_until_they_change(admin):
    digest = factories.digest(entries=1)
    first = Client().get("/feeds/atom/")
    etag = first["ETag"]
    for _ in range(2):  # from the cache too
        unchanged = Client().get("/feeds/atom/", HTTP_IF_NONE_MATCH=etag)
        assert unchanged.status_code == 304 and unchanged.content == b""
    admin.save_live(digest, {"title": "新的标题"})
    changed = Client().get("/feeds/atom/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and "新的标题" in changed.content.decode()
    assert changed["ETag"] != etag
    assert Client().get("/feeds/atom/", HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 304


# --- who is never served from the cache ------------------------------------------------


def test_staff_get_uncached_private_pages(boss):
    digest = factories.digest(entries=1)
    url = digest.get_absolute_url()
    warm(url)
    client = Client()
    client.force_login(boss)
    for _ in range(2):
        response = client.get(url)
        assert response["X-Page-Cache"] == "bypass"
        assert "private" in response["Cache-Control"]


def test_readers_with_a_notice_or_a_waiting_comment_are_not_served_the_cache():
    digest = factories.digest(entries=1)
    url = digest.get_absolute_url()
    warm(url)
    noticed = Client()
    noticed.cookies["messages"] = "anything"
    response = noticed.get(url)
    assert response["X-Page-Cache"] == "bypass" and "private" in response["Cache-Control"]
    author = Client(enforce_csrf_checks=True)
    page = author.get(url).content.decode()
    sent = send_comment(author, page, digest, "我自己的待审评论", name="作者")
    assert sent.status_code == 303, sent.content[:500]
    assert Comment.objects.get().status == "pending"
    own = author.get(url)
    assert own["X-Page-Cache"] == "bypass" and "我自己的待审评论" in own.content.decode()
    assert "private" in own["Cache-Control"]
    # A waiting comment changes nothing for everyone else: they still get the cached page.
    other = fresh(url)
    assert other["X-Page-Cache"] == "hit" and "我自己的待审评论" not in other.content.decode()


def test_share_link_previews_and_drafts_never_enter_the_cache(boss):
    draft = factories.digest(entries=1, status="draft", title="秘密草稿")
    link = services.share_link_create(digest=draft, by=boss)
    preview = Client().get(f"/preview/{workflow.share_token(link)}/")
    assert preview.status_code == 200 and "秘密草稿" in preview.content.decode()
    assert "X-Page-Cache" not in preview
    assert "no-store" in preview["Cache-Control"]
    staff = Client()
    staff.force_login(boss)
    staff_preview = staff.get(draft.get_absolute_url())
    assert staff_preview.status_code == 200 and staff_preview["X-Page-Cache"] == "bypass"
    for _ in range(2):
        missing = fresh(draft.get_absolute_url())
        assert missing.status_code == 404 and missing["X-Page-Cache"] == "miss"  # never stored
        assert b"pagecache-hole" not in missing.content  # its holes are filled all the same
    refused = fresh("/compare/?e=1")  # a 400 page with the footer's form
    assert refused.status_code == 400 and b"pagecache-hole" not in refused.content
    assert b"csrfmiddlewaretoken" in refused.content
    stored = pages.store()._cache.values()  # the test settings' local memory store
    assert not any("秘密草稿".encode() in raw for raw in stored)


def test_languages_are_cached_apart():
    digest = factories.digest(entries=1)
    url = digest.get_absolute_url()
    english = Client()
    english.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    chinese = Client()
    by_header = Client(HTTP_ACCEPT_LANGUAGE="en")
    for expected in ("miss", "hit"):
        response = english.get(url)
        assert response["X-Page-Cache"] == expected and 'lang="en"' in response.content.decode()
        response = chinese.get(url)
        assert response["X-Page-Cache"] == expected
        assert 'lang="zh-hans"' in response.content.decode()
    assert 'lang="en"' in by_header.get(url).content.decode()


def test_only_canonical_urls_are_stored():
    """A link with made-up parameters, or a search or filter that finds nothing, is rendered
    for its reader (with a working token) and not kept: such URLs are endless. A search that
    finds papers is kept like any list."""
    factories.digest(entries=1)
    nothing = ("/papers/?q=没有这个词", "/search/?q=nothing-matches", "/papers/?tag=no-such-tag")
    for url in ("/?utm_source=x", "/papers/?page=1&x=1", *nothing):
        for _ in range(2):
            response = fresh(url)
            assert response.status_code == 200, url
            assert response["X-Page-Cache"] == "miss", url
            assert b"pagecache-hole" not in response.content, url
            assert TOKEN.search(response.content.decode()), url
    for url in ("/papers/?page=1", "/search/?q=study"):  # factories: "A Study of Things"
        assert fresh(url)["X-Page-Cache"] == "miss", url
        assert fresh(url)["X-Page-Cache"] == "hit", url


# --- every change shows at once -----------------------------------------------------------


def test_without_an_announcement_a_cached_page_stays_as_it_was():
    """The control: the tests below prove the announcements, not a cache that does
    nothing. A raw write (no admin, no service) is not seen by the cache."""
    digest = factories.digest(entries=1, title="旧标题")
    warm(digest.get_absolute_url())
    Digest.objects.filter(pk=digest.pk).update(title="新标题")
    stale = fresh(digest.get_absolute_url())
    assert stale["X-Page-Cache"] == "hit" and "旧标题" in stale.content.decode()


def test_a_rolled_back_change_leaves_cached_pages_in_place(committed):
    digest = factories.digest(entries=1, title="原来的一期")
    urls = ["/", digest.get_absolute_url(), "/feeds/atom/"]
    for url in urls:
        warm(url)
    with committed(), pytest.raises(RuntimeError):
        with transaction.atomic():
            Digest.objects.filter(pk=digest.pk).update(title="回滚的标题")
            content_changed(names=True)
            raise RuntimeError("the change fails after announcing")
    for url in urls:
        response = fresh(url)
        assert response["X-Page-Cache"] == "hit", url
        assert "原来的一期" in response.content.decode(), url
    # The control: the same announcement, committed, would have replaced them.
    with committed():
        content_changed()
    assert all(fresh(url)["X-Page-Cache"] == "miss" for url in urls)


def test_publish_shows_at_once(boss, committed):
    draft = factories.digest(entries=1, status="draft", title="刚发布的一期")
    warm("/")
    warm("/feeds/atom/")
    assert fresh(draft.get_absolute_url()).status_code == 404
    with committed():
        services.digest_publish(digest=draft, by=boss)
    assert "刚发布的一期" in fresh("/").content.decode()
    assert "刚发布的一期" in fresh("/feeds/atom/").content.decode()
    assert fresh(draft.get_absolute_url()).status_code == 200


def test_unpublish_shows_at_once(boss, committed):
    digest = factories.digest(entries=1, title="要下线的一期")
    entry = digest.entries.get()
    for url in ("/", digest.get_absolute_url(), entry.get_absolute_url(), "/api/v1/digests/"):
        warm(url)
    with committed():
        services.digest_unpublish(digest=digest, by=boss)
    assert "要下线的一期" not in fresh("/").content.decode()
    assert fresh(digest.get_absolute_url()).status_code == 404
    assert fresh(entry.get_absolute_url()).status_code == 404
    assert fresh("/api/v1/digests/").json()["count"] == 0


def test_editing_a_digest_through_the_admin_shows_at_once(admin):
    digest = factories.digest(entries=1, title="原标题")
    urls = ["/", digest.get_absolute_url(), "/feeds/atom/", "/sitemap-digests.xml"]
    for url in urls:
        warm(url)
    admin.save_live(digest, {"title": "改过的标题"})
    for url in urls[:3]:
        assert "改过的标题" in fresh(url).content.decode(), url
    warm(digest.get_absolute_url())
    admin.save_live(digest, {"tags": "新标签"})  # the tags only (a many-to-many)
    assert "新标签" in fresh(digest.get_absolute_url()).content.decode()


def test_editing_entry_section_figure_and_paper_through_the_admin_shows_at_once(
    admin, settings, tmp_path
):
    from editorial.demo import figure_png

    settings.MEDIA_ROOT = tmp_path
    digest = factories.digest(entries=1)
    entry = digest.entries.get()
    urls = [digest.get_absolute_url(), entry.get_absolute_url(), "/papers/"]

    for url in urls:
        warm(url)
    kind = SectionKind.objects.filter(is_list=False).first()
    admin.save_live(entry, {f"section_{kind.slug}": "全新的点评正文"})
    assert "全新的点评正文" in fresh(entry.get_absolute_url()).content.decode()

    for url in urls:
        warm(url)
    image = SimpleUploadedFile("fig.png", figure_png("x", 1), "image/png")
    admin.save_live(entry, {"figures-0-image": image, "figures-0-caption": "新的图注"})
    html = fresh(digest.get_absolute_url()).content.decode()
    assert "新的图注" in html and "/media/figures/" in html

    for url in urls:
        warm(url)
    admin.save(change_url(entry.paper), {"title": "A Brand New Paper Title"})
    for url in urls:
        assert "A Brand New Paper Title" in fresh(url).content.decode(), url

    for url in urls:
        warm(url)
    admin.save_live(entry, {"title_zh": "新的中文标题"})
    for url in urls:
        assert "新的中文标题" in fresh(url).content.decode(), url


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
    feed = warm("/feeds/atom/")
    assert "两分钟后上线" not in feed and "四分钟后下线" in feed
    assert fresh(soon.get_absolute_url()).status_code == 404
    time_machine.move_to(now + datetime.timedelta(minutes=1), tick=False)
    assert fresh("/")["X-Page-Cache"] == "hit"  # kept until the go-live, not dropped early
    time_machine.move_to(now + datetime.timedelta(minutes=2, seconds=1), tick=False)
    assert "两分钟后上线" in fresh("/").content.decode()
    assert "两分钟后上线" in fresh("/feeds/atom/").content.decode()
    assert fresh(soon.get_absolute_url()).status_code == 200
    for url in ("/", "/feeds/atom/", soon.get_absolute_url()):
        warm(url)
    time_machine.move_to(now + datetime.timedelta(minutes=4, seconds=1), tick=False)
    assert "四分钟后下线" not in fresh("/").content.decode()
    assert "四分钟后下线" not in fresh("/feeds/atom/").content.decode()


def test_comment_approval_unapproval_pin_and_reply_show_at_once(committed):
    digest = factories.digest(entries=1)
    entry = digest.entries.get()
    moderator = factories.user("mod", superuser=True)
    first = factories.comment(on=digest, body="第一条已发布的评论")
    waiting = factories.comment(on=digest, status="pending", body="等待审核的评论")
    url = digest.get_absolute_url()
    warm(url)
    warm(entry.get_absolute_url())

    with committed():
        svc.comment_moderate(comment=waiting, by=moderator, status="approved")
    page = fresh(url)
    assert page["X-Page-Cache"] == "miss" and "等待审核的评论" in page.content.decode()

    warm(url)
    with committed():
        svc.comment_set_pinned(comment=waiting, by=moderator, pinned=True)
    html = fresh(url).content.decode()
    assert html.index("等待审核的评论") < html.index("第一条已发布的评论")  # pinned first

    warm(url)
    with committed():
        svc.comment_moderate(comment=first, by=moderator, status="rejected")
    assert "第一条已发布的评论" not in fresh(url).content.decode()

    warm(url)
    with committed():
        svc.comment_reply(comment=waiting, by=moderator, body="编辑的回复")
    assert "编辑的回复" in fresh(url).content.decode()


def admin_token(admin, url: str) -> str:
    return TOKEN.search(admin.client.get(url).content.decode()).group(1)


def test_deleting_comments_through_the_admin_shows_at_once(admin, committed):
    """A moderator deletes one comment from its delete page, then others with the list's
    "delete selected" action: gone from the page at once each time."""
    digest = factories.digest(entries=1)
    one = factories.comment(on=digest, body="要删除的评论")
    two = factories.comment(on=digest, body="批量删除的评论")
    three = factories.comment(on=digest, body="另一条批量删除的评论")
    url = digest.get_absolute_url()
    assert "要删除的评论" in warm(url)
    delete_url = reverse("admin:comments_comment_delete", args=[one.pk])
    with committed():
        response = admin.client.post(
            delete_url, {"post": "yes", "csrfmiddlewaretoken": admin_token(admin, delete_url)}
        )
    assert response.status_code == 302
    assert not Comment.objects.filter(pk=one.pk).exists()
    assert "要删除的评论" not in fresh(url).content.decode()

    assert "批量删除的评论" in warm(url)
    changelist = reverse("admin:comments_comment_changelist")
    with committed():
        response = admin.client.post(
            changelist,
            {
                "action": "delete_selected",
                "_selected_action": [two.pk, three.pk],
                "post": "yes",
                "csrfmiddlewaretoken": admin_token(admin, changelist),
            },
        )
    assert response.status_code == 302
    assert not Comment.objects.filter(pk__in=[two.pk, three.pk]).exists()
    html = fresh(url).content.decode()
    assert "批量删除的评论" not in html


def test_closing_and_reopening_comments_show_at_once(boss, committed):
    digest = factories.digest(entries=1)
    entry = digest.entries.get()
    urls = [digest.get_absolute_url(), entry.get_absolute_url()]
    for url in urls:
        assert 'id="comment-form"' in warm(url)
    with committed():
        svc.comments_close(digest=digest, by=boss)
    for url in urls:
        html = fresh(url).content.decode()
        assert 'class="comments-closed"' in html and 'id="comment-form"' not in html, url
        warm(url)
    with committed():
        svc.comments_reopen(digest=digest, by=boss)
    for url in urls:
        assert 'id="comment-form"' in fresh(url).content.decode(), url


def test_closing_comments_by_age_shows_on_time(settings, time_machine):
    now = timezone.now()
    time_machine.move_to(now, tick=False)
    settings.COMMENTS_CLOSE_AFTER_DAYS = 30
    aging = factories.digest(entries=1, published_at=now - datetime.timedelta(days=30, minutes=-2))
    entry = aging.entries.get()
    for url in (aging.get_absolute_url(), entry.get_absolute_url()):
        assert 'id="comment-form"' in warm(url)
    time_machine.move_to(now + datetime.timedelta(minutes=3), tick=False)
    for url in (aging.get_absolute_url(), entry.get_absolute_url()):
        html = fresh(url).content.decode()
        assert 'id="comment-form"' not in html and 'class="comments-closed"' in html, url


def test_tag_rename_through_the_admin_shows_at_once(admin):
    digest = factories.digest(entries=1)
    entry = digest.entries.get()
    tag = Tag.objects.create(name="蒸馏", slug="distill")
    entry.tags.add(tag)
    urls = ["/tags/distill/", "/papers/", "/tags/", entry.get_absolute_url()]
    for url in urls:
        assert "蒸馏" in warm(url), url
    admin.save(change_url(tag), {"name": "知识蒸馏"})
    for url in urls:
        assert "知识蒸馏" in fresh(url).content.decode(), url


def test_category_rename_through_the_admin_shows_at_once(admin):
    digest = factories.digest(entries=1)
    category = digest.entries.get().paper.primary_category
    urls = [f"/categories/{category.code}/", "/categories/", digest.get_absolute_url()]
    for url in urls:
        warm(url)
    admin.save(change_url(category), {"name_zh": "改名后的分类"})
    assert Category.objects.get(pk=category.pk).name_zh == "改名后的分类"
    for url in urls[:2]:
        assert "改名后的分类" in fresh(url).content.decode(), url


def test_site_settings_through_the_admin_show_at_once(admin):
    digest = factories.digest(entries=1)
    for url in ("/", digest.get_absolute_url(), "/feeds/atom/"):
        warm(url)
    admin.save(
        change_url(SiteSettings.load()), {"site_name": "全新站名", "footer_text": "新的页脚"}
    )
    for url in ("/", digest.get_absolute_url()):
        html = fresh(url).content.decode()
        assert "全新站名" in html and "新的页脚" in html, url
    assert "全新站名" in fresh("/feeds/atom/").content.decode()


# --- where pages live ------------------------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/3"


@requires_redis(REDIS_URL)
def test_the_cache_works_in_redis_shared_by_app_servers(settings, boss, committed):
    """Two app servers: each opens its own connections (the caches are re-created) to one
    Redis; a page one stored is served by the other, and a change made on one shows on the
    other at once."""

    def server():
        settings.CACHES = redis_caches(REDIS_URL, "test-pagecache")
        return Client()

    server()
    pages.store().clear()
    try:
        digest = factories.digest(entries=1, title="Redis 里的一期")
        url = digest.get_absolute_url()
        assert server().get(url)["X-Page-Cache"] == "miss"
        other = server()
        with CaptureQueriesContext(connection) as queries:
            hit = other.get(url)
        assert hit["X-Page-Cache"] == "hit" and len(queries) == 0
        assert "Redis 里的一期" in hit.content.decode()
        assert "pagecache-hole" not in hit.content.decode()
        server()
        with committed():
            services.digest_unpublish(digest=digest, by=boss)
        assert server().get(url).status_code == 404
    finally:
        pages.store().clear()


def test_without_redis_pages_live_in_files_every_worker_reads(settings, tmp_path, admin):
    """gunicorn runs several processes: a per-process memory store would let one keep
    serving what another invalidated, so without Redis the pages are files."""
    import digestsite.settings as real

    if not real.REDIS_URL:
        assert real.CACHES["pages"]["BACKEND"] == FILES
        assert real.CACHES["pages"]["LOCATION"].startswith(str(real.VAR_DIR))

    def worker(name):
        """What process ``name`` opens: its own memory, the server's page files."""
        settings.CACHES = {
            "default": {"BACKEND": LOCMEM, "LOCATION": f"{tmp_path}-{name}"},
            "pages": {"BACKEND": FILES, "LOCATION": str(tmp_path / "pages")},
        }

    digest = factories.digest(entries=1, title="文件缓存里的一期")
    url = digest.get_absolute_url()
    worker("a")
    assert fresh(url)["X-Page-Cache"] == "miss"
    assert list((tmp_path / "pages").iterdir())
    worker("b")
    with CaptureQueriesContext(connection) as queries:
        hit = fresh(url)
    assert hit["X-Page-Cache"] == "hit" and len(queries) == 0
    assert "文件缓存里的一期" in hit.content.decode()
    # An editor's save handled by worker b re-renders the page in worker a.
    admin.save_live(digest, {"title": "另一个进程改的标题"})
    worker("a")
    page = fresh(url)
    assert page["X-Page-Cache"] == "miss" and "另一个进程改的标题" in page.content.decode()


def test_a_new_code_release_never_serves_a_page_stored_by_the_previous_one(settings, tmp_path):
    import digestsite.settings as real

    for alias in ("default", "pages"):
        if alias in real.CACHES:
            assert real.RELEASE in real.CACHES[alias]["KEY_PREFIX"], alias

    def release(name):
        prefix = f"digest:{name}"
        settings.CACHES = {
            "default": {"BACKEND": LOCMEM, "LOCATION": f"{tmp_path}-{name}", "KEY_PREFIX": prefix},
            "pages": {"BACKEND": FILES, "LOCATION": str(tmp_path), "KEY_PREFIX": prefix},
        }

    digest = factories.digest(entries=1)
    url = digest.get_absolute_url()
    release("old")
    warm(url)
    release("new")
    assert fresh(url)["X-Page-Cache"] == "miss"
    assert fresh(url)["X-Page-Cache"] == "hit"  # its own copy from now on
