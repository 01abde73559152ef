"""Readership (issue 20): 人气 counts distinct readers once per page a day, with no cookie and
no database write on a reader's request; the worker writes the counts each minute; every page,
the API and the admin agree within a minute, on one server and on several sharing Redis."""

import datetime
import os
import threading
import time
import uuid
import zoneinfo

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from papers.models import Digest, Entry
from readership import counting, tasks, writing
from readership.models import DigestDay, EntryDay, ReferrerDay, SearchDay
from tests import factories
from tests.redis_support import redis_caches, requires_redis

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/7"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A morning in site time, 5 s into a minute.
MORNING = datetime.datetime(2026, 3, 10, 10, 0, 5, tzinfo=SHANGHAI)


def browser(n: int = 0) -> str:
    return (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{120 + n}.0.0.0 Safari/537.36"
    )


def read(url, *, address="198.51.100.1", agent=None, client=None, **headers):
    client = client or Client()
    return client.get(url, REMOTE_ADDR=address, HTTP_USER_AGENT=agent or browser(), **headers)


def views_shown(html: str) -> int:
    """The number after 人气 (the "Views" label in Chinese) on a page."""
    marker = "人气: "
    start = html.index(marker) + len(marker)
    return int(html[start : html.index("<", start)].strip())


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(MORNING, tick=False)
    return time_machine


@pytest.fixture
def digest(clock):
    return factories.digest(entries=2)


def minute_later(clock, minutes: float = 1):
    """Time passes: the minute's batch closes (and a page showing 人气 expires)."""
    clock.shift(datetime.timedelta(seconds=60 * minutes + counting.GRACE_SECONDS))


# --- five readers, reloads, two servers ------------------------------------------------


def test_five_distinct_readers_raise_the_count_by_five_and_reloads_by_nothing(clock, digest):
    url = digest.get_absolute_url()
    readers = [("198.51.100.1", browser(0)), ("198.51.100.2", browser(0))]
    readers += [("198.51.100.3", browser(n)) for n in (1, 2, 3)]  # one office, three browsers
    for address, agent in readers:
        for _reload in range(3):
            assert read(url, address=address, agent=agent).status_code == 200
    # Nothing is written while readers read: the counts wait in the cache ...
    assert Digest.objects.get(pk=digest.pk).view_count == 0
    # ... yet every page shows them within a minute (its cached copy expires by then).
    minute_later(clock)
    page = read(url)
    assert views_shown(page.content.decode()) == 5
    assert "X-Readership-Page" not in page.headers
    # The worker writes them: the row, the daily figures, and still the same number shown.
    assert writing.write_counts() == 15  # views; the 16th is in the minute still open
    digest.refresh_from_db()
    assert digest.view_count == 5
    day = DigestDay.objects.get(digest=digest)
    assert (day.day, day.views, day.readers) == (MORNING.date(), 15, 5)
    minute_later(clock)
    assert views_shown(read(url).content.decode()) == 5
    # Written once only, whatever runs again: the 16th view (a reload) only.
    assert writing.write_counts() == 1
    assert writing.write_counts() == 0
    assert Digest.objects.get(pk=digest.pk).view_count == 5
    day.refresh_from_db()
    assert (day.views, day.readers) == (16, 5)


def test_a_cached_page_counts_its_readers_without_a_query(clock, digest, django_assert_num_queries):
    url = digest.get_absolute_url()
    assert read(url, address="198.51.100.9")["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        hit = read(url, address="198.51.100.10")
    assert hit["X-Page-Cache"] == "hit"
    assert counting.pending("digest", [digest.pk]) == {digest.pk: 2}


def test_entry_pages_count_their_own_readers(clock, digest):
    entry = digest.entries.order_by("position").first()
    for n in range(3):
        read(entry.get_absolute_url(), address=f"198.51.100.{n + 1}")
    minute_later(clock)
    assert views_shown(read(entry.get_absolute_url()).content.decode()) == 3
    writing.write_counts()
    assert Entry.objects.get(pk=entry.pk).view_count == 3
    assert EntryDay.objects.get(entry=entry).readers == 3
    assert Digest.objects.get(pk=digest.pk).view_count == 0


def test_paper_lists_show_the_same_count_within_a_minute(clock, digest):
    entry = digest.entries.order_by("position").first()
    assert "人气: 0<" in read("/papers/").content.decode()  # now in the page cache
    for n in range(3):
        read(entry.get_absolute_url(), address=f"198.51.100.{n + 1}")
    minute_later(clock)
    assert "人气: 3<" in read("/papers/").content.decode()


def test_the_api_and_the_admin_show_the_same_count_as_the_page(clock, digest, client):
    for n in range(4):
        read(digest.get_absolute_url(), address=f"203.0.113.{n + 1}")
    minute_later(clock)
    api_url = reverse(
        "reading:api-digest-detail", kwargs={"date": digest.issue_date, "slug": digest.slug}
    )
    assert Client().get(api_url).json()["view_count"] == 4
    listed = Client().get(reverse("reading:api-digest-list")).json()
    assert [d["view_count"] for d in listed["results"] if d["slug"] == digest.slug] == [4]
    editor = factories.user("editor", staff=True, superuser=True)
    client.force_login(editor)
    change = client.get(reverse("admin:papers_digest_change", args=[digest.pk]))
    assert '<div class="readonly">4</div>' in change.content.decode()
    # The editor's own visit of the public page is not counted.
    client.get(digest.get_absolute_url(), HTTP_USER_AGENT=browser())
    assert counting.pending("digest", [digest.pk])[digest.pk] == 4


@pytest.fixture
def shared_redis(settings):
    settings.CACHES = redis_caches(REDIS_URL, f"test-readership-{os.getpid()}-{uuid.uuid4()}")
    yield
    caches["default"].delete_pattern("*")


@requires_redis(REDIS_URL)
def test_two_servers_sharing_redis_count_each_reader_once_and_show_one_number(
    shared_redis, clock, digest, settings
):
    """Server B answers in its own thread, with its own connection to Redis, as another app
    server would; a reader reloading on the other server is the same reader. (Redis expires
    keys by its own clock: pages showing 人气 are kept one real second here.)"""
    settings.READERSHIP_SHOWN_SECONDS = 1
    url = digest.get_absolute_url()
    answers = {}

    def on_server_b(name, **kwargs):
        def run():
            answers[name] = read(url, **kwargs)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        return answers[name]

    read(url, address="192.0.2.1")
    on_server_b("b1", address="192.0.2.2")
    read(url, address="192.0.2.3")
    on_server_b("b2", address="192.0.2.1")  # a reload of the first reader, on the other server
    on_server_b("b3", address="192.0.2.4")
    read(url, address="192.0.2.5")
    read(url, address="192.0.2.5")
    minute_later(clock)
    time.sleep(2.1)  # Redis expires by its own clock, to the second
    assert views_shown(read(url).content.decode()) == 5
    assert views_shown(on_server_b("b4").content.decode()) == 5
    writing.write_counts()
    assert Digest.objects.get(pk=digest.pk).view_count == 5


# --- who is not counted ----------------------------------------------------------------


CRAWLERS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.0.0 Safari/537.36",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "",
]


@pytest.mark.parametrize("agent", CRAWLERS)
def test_crawlers_and_http_libraries_are_not_counted(clock, digest, agent):
    client = Client()
    response = client.get(digest.get_absolute_url(), HTTP_USER_AGENT=agent)
    assert response.status_code == 200
    assert counting.pending("digest", [digest.pk])[digest.pk] == 0


def test_staff_previews_and_prefetches_are_not_counted(clock, digest, client):
    draft = factories.digest(status="draft", entries=1)
    editor = factories.user("editor", staff=True, superuser=True)
    client.force_login(editor)
    client.get(draft.get_absolute_url(), HTTP_USER_AGENT=browser())
    client.get(digest.get_absolute_url(), HTTP_USER_AGENT=browser())
    read(digest.get_absolute_url(), HTTP_SEC_PURPOSE="prefetch")
    read(digest.get_absolute_url(), HTTP_PURPOSE="prefetch")
    assert counting.pending("digest", [digest.pk, draft.pk]) == {digest.pk: 0, draft.pk: 0}
    minute_later(clock)
    assert writing.write_counts() == 0
    assert not DigestDay.objects.exists()


def test_do_not_track_and_global_privacy_control_are_honoured_as_the_setting_says(
    clock, digest, settings
):
    url = digest.get_absolute_url()
    read(url, address="192.0.2.1", HTTP_DNT="1")
    read(url, address="192.0.2.2", HTTP_SEC_GPC="1")
    assert counting.pending("digest", [digest.pk])[digest.pk] == 0
    settings.READERSHIP_HONOUR_PRIVACY_SIGNALS = False
    read(url, address="192.0.2.1", HTTP_DNT="1")
    read(url, address="192.0.2.2", HTTP_SEC_GPC="1")
    assert counting.pending("digest", [digest.pk])[digest.pk] == 2


def test_one_address_rotating_its_user_agent_counts_a_few_readers(clock, digest, settings):
    settings.READERSHIP_PER_ADDRESS = (3, 3600)
    for n in range(8):
        read(digest.get_absolute_url(), address="203.0.113.9", agent=browser(n))
    assert counting.pending("digest", [digest.pk])[digest.pk] == 3


def test_no_cookie_is_set_and_nothing_identifying_is_stored(clock, digest):
    response = read(digest.get_absolute_url(), address="203.0.113.77", agent=browser(7))
    assert set(response.cookies) <= {"csrftoken"}  # the language form's token, as before
    minute_later(clock)
    writing.write_counts()
    stored = [str(row.__dict__) for model in (DigestDay, EntryDay) for row in model.objects.all()]
    assert stored and not any("203.0.113.77" in text for text in stored)


# --- the salt ----------------------------------------------------------------------------


def test_the_salt_rotates_at_midnight_and_is_not_kept_past_its_day(clock, digest):
    url = digest.get_absolute_url()
    read(url, address="198.51.100.1")
    first_salt = counting.salt(MORNING.timestamp())
    key = f"readership:salt:{MORNING.date().isoformat()}"
    assert counting.store().get(key) == first_salt
    # Late that evening the same reader is still the same reader ...
    clock.move_to(MORNING.replace(hour=23, minute=58, second=0), tick=False)
    read(url, address="198.51.100.1")
    clock.move_to(MORNING.replace(hour=23, minute=59, second=30), tick=False)
    writing.write_counts()
    assert Digest.objects.get(pk=digest.pk).view_count == 1
    # ... after midnight the old salt is gone from the cache, a new one is made, and the
    # same reader counts once more, on the new day.
    clock.move_to(MORNING + datetime.timedelta(days=1), tick=False)
    assert counting.store().get(key) is None
    read(url, address="198.51.100.1")
    second_salt = counting.store().get(
        f"readership:salt:{(MORNING + datetime.timedelta(days=1)).date().isoformat()}"
    )
    assert second_salt and second_salt != first_salt
    minute_later(clock)
    writing.write_counts()
    days = dict(DigestDay.objects.filter(digest=digest).values_list("day", "readers"))
    assert days == {MORNING.date(): 1, MORNING.date() + datetime.timedelta(days=1): 1}
    assert Digest.objects.get(pk=digest.pk).view_count == 2


# --- referrers and searches --------------------------------------------------------------


def test_the_referring_site_is_kept_as_its_domain_only(clock, digest):
    url = digest.get_absolute_url()
    read(url, address="192.0.2.1", HTTP_REFERER="https://www.zhihu.com/question/123?x=secret")
    read(url, address="192.0.2.2", HTTP_REFERER="https://zhihu.com/")
    read(url, address="192.0.2.3", HTTP_REFERER="http://testserver/")  # from this site
    read(url, address="192.0.2.4", HTTP_REFERER="javascript:alert(1)")
    minute_later(clock)
    writing.write_counts()
    assert list(ReferrerDay.objects.values_list("domain", "readers")) == [("zhihu.com", 2)]


def test_searches_are_kept_with_their_result_count_and_those_that_found_nothing(clock):
    found = factories.digest(entries=1)
    entry = found.entries.first()
    word = entry.paper.title.split()[0]
    search = reverse("reading:search")
    read(search, address="192.0.2.1", data={"q": f"  {word.upper()} "})
    read(search, address="192.0.2.2", data={"q": word})  # from the page cache
    read(search, address="192.0.2.2", data={"q": word})  # the same reader again
    minute_later(clock)
    read(search, address="192.0.2.2", data={"q": word})  # and again, later that day
    read(search, address="192.0.2.3", data={"q": "量子引力"})
    read(search, address="192.0.2.3", data={"q": "量子引力", "page": "2"})
    minute_later(clock)
    writing.write_counts()
    rows = {row.terms: (row.searches, row.results) for row in SearchDay.objects.all()}
    assert rows == {word.lower(): (2, 1), "量子引力": (1, 0)}


# --- the worker --------------------------------------------------------------------------


def test_the_worker_starts_one_chain_of_writes_however_often_it_starts(clock, settings):
    from django_tasks_db.models import DBTaskResult

    from background.tasks import worker_ready

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.READERSHIP_WORKER_WRITES = True
    worker_ready.send(sender=None)
    worker_ready.send(sender=None)
    waiting = DBTaskResult.objects.filter(task_path=tasks.write_readership.module_path)
    assert waiting.count() == 1


def test_old_daily_rows_are_pruned_as_the_retention_setting_says(clock, digest, settings):
    settings.READERSHIP_RETENTION_DAYS = 30
    today = MORNING.date()
    for age in (0, 29, 31, 400):
        DigestDay.objects.create(digest=digest, day=today - datetime.timedelta(days=age), views=1)
    assert writing.prune(today=today) == 2
    kept = sorted((today - d).days for d in DigestDay.objects.values_list("day", flat=True))
    assert kept == [0, 29]


def test_the_analytics_permission_belongs_to_editors():
    permission = Permission.objects.get(codename="view_analytics")
    assert permission.group_set.filter(name="Editor").exists()


# --- the privacy notice --------------------------------------------------------------------


def test_every_page_links_to_a_privacy_notice_that_says_what_is_counted(settings, digest):
    settings.READERSHIP_RETENTION_DAYS = 400
    home = Client().get("/").content.decode()
    assert 'href="/privacy/"' in home and "隐私：我们统计什么" in home
    notice = Client().get("/privacy/")
    assert notice.status_code == 200
    text = notice.content.decode()
    assert "不使用 Cookie" in text and "保存 400 天" in text
    assert "请勿追踪" in text
    settings.READERSHIP_HONOUR_PRIVACY_SIGNALS = False
    caches["default"].clear()  # the page cache
    assert "请勿追踪" not in Client().get("/privacy/").content.decode()


def test_a_deploy_keeps_the_days_readers_and_their_unwritten_counts():
    """The counters and the day's salt live under a prefix without the release: after a
    deploy a returning reader is not counted again, and no waiting count is dropped."""
    from digestsite import settings as production

    redis = production.redis_caches(
        "redis://127.0.0.1:6379/0", production._KEY_PREFIX, production._LASTING_PREFIX
    )
    assert production.RELEASE in redis["default"]["KEY_PREFIX"]
    assert production.RELEASE not in redis["views"]["KEY_PREFIX"]
    assert production.RELEASE not in production.CACHES["views"]["KEY_PREFIX"]


def test_the_api_reads_the_views_of_a_whole_page_at_once(clock, monkeypatch):
    for day in range(1, 4):
        factories.digest(entries=2, issue_date=datetime.date(2025, 9, day))
    reads = []
    real = counting.pending
    monkeypatch.setattr(counting, "pending", lambda *a, **k: reads.append(a) or real(*a, **k))
    for url, kind in (("/api/v1/digests/", "digest"), ("/api/v1/entries/", "entry")):
        reads.clear()
        answer = Client().get(url).json()
        assert len(answer["results"]) > 1 and [r[0] for r in reads] == [kind]
