"""A cache is only a cache: with Redis stopped or full every page, the API, the admin and
comment posting still answer from the database (logged, and /healthz says the cache is
degraded, not the site down); and only canonical URLs of existing content are stored, so a
client requesting junk URLs cannot fill the store.

Each test runs against a real ``redis-server`` of its own (started here on a free local
port, never the system's Redis), which the tests stop and fill."""

import itertools
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest
from django.core import signing
from django.test import Client

from comments import services as svc
from comments.models import Comment
from tests import factories
from tests.redis_support import redis_caches

pytestmark = pytest.mark.django_db

_prefixes = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalRedis:
    """A ``redis-server`` of this module's own: no persistence, bound to 127.0.0.1."""

    def __init__(self, binary: str, workdir):
        self.binary, self.workdir = binary, workdir
        self.process: subprocess.Popen | None = None
        self.options: tuple[str, ...] = ()
        self.port = 0

    def start(self, *options: str) -> "LocalRedis":
        """Runs with exactly ``options`` (restarted when it was stopped or ran with others)."""
        import redis

        if self.running and self.options == options:
            return self
        self.stop()
        self.port, self.options = _free_port(), options
        command = [self.binary, "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"]
        command += ["--port", str(self.port), "--dir", str(self.workdir), *options]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis(port=self.port, socket_connect_timeout=0.2).ping():
                    return self
            except redis.exceptions.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"redis-server did not start: {command}") from None
                time.sleep(0.02)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Killed outright (a crash, not a shutdown)."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self):
        import redis

        return redis.Redis(port=self.port, socket_timeout=2)


@pytest.fixture(scope="module")
def local_redis(tmp_path_factory):
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (under CI it must be: .ci/run installs it)")
        pytest.skip("redis-server is not installed (apt-get install redis-server); CI runs these")
    server = LocalRedis(binary, tmp_path_factory.mktemp("redis"))
    try:
        yield server.start()
    finally:
        server.stop()


def _use(settings, server: LocalRedis) -> str:
    """The site's caches in ``server`` under a key prefix of this test's own."""
    prefix = f"test-cache-faults-{os.getpid()}-{next(_prefixes)}"
    settings.CACHES = redis_caches(server.url, prefix)
    return prefix


@pytest.fixture
def redis_up(local_redis, settings):
    """The module's Redis, running, empty and without a memory limit; the site uses it."""
    server = local_redis.start()
    server.client().flushall()
    _use(settings, server)
    return server


@pytest.fixture
def world():
    """Two published digests; the main one has two tagged papers and an approved comment."""
    cl = factories.category("cs.CL", "Computation and Language")
    main = factories.digest(entries=0, title="故障演练第一期", slug="main")
    for position in (1, 2):
        entry = factories.entry(
            digest=main,
            position=position,
            paper=factories.paper(
                title=f"Resilient Caching Study {position}",
                primary_category=cl,
                affiliations="Google\nTsinghua",
            ),
        )
        entry.tags.add("rl")
    factories.comment(on=main, body="已经发表的一条评论。")
    other = factories.digest(entries=1, title="故障演练第二期")
    return {"main": main, "entry": main.entries.get(position=1), "other": other}


def _reader_pages(world) -> dict[str, str]:
    """URL -> a text the reader must find on it."""
    main, entry = world["main"], world["entry"]
    return {
        "/": main.title,
        main.get_absolute_url(): "Resilient Caching Study 2",
        entry.get_absolute_url(): "Resilient Caching Study 1",
        "/papers/": "Resilient Caching Study 1",
        "/tags/rl/": "Resilient Caching Study 2",
        "/search/?q=Resilient": "</mark> Caching Study 1",  # the word searched highlighted
        "/feeds/atom/": main.title,
        "/sitemap-digests.xml": main.get_absolute_url(),
        "/sitemap.xml": "sitemap-digests.xml",
        "/api/v1/entries/": "Resilient Caching Study",
    }


BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"


def _old_stamp(seconds: int = 30) -> str:
    """The form stamp of a page served ``seconds`` ago (a person takes a while to type)."""
    return signing.dumps(int(time.time()) - seconds, salt=svc._STAMP_SALT)


def _post_comment(client: Client, target, body: str):
    """The comment form as a browser sends it: the page's own hidden fields and CSRF token."""
    page = client.get(target.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    assert hidden.get("target") == svc.target_key(target), "the page has no comment form"
    assert "pagecache-hole" not in html
    data = {**hidden, "stamp": _old_stamp(), "website": "", "name": "小明", "email": ""}
    data["body"] = body
    return client.post("/comments/", data)


# --- Redis stopped -------------------------------------------------------------------------


def test_with_redis_stopped_every_page_the_api_admin_and_comments_answer_from_the_database(
    redis_up, world, caplog
):
    reader = Client()
    pages = _reader_pages(world)
    for url in pages:  # the site ran with Redis before it stopped: pages stored, pools open
        assert reader.get(url).status_code == 200, url
    assert reader.get("/")["X-Page-Cache"] == "hit"
    redis_up.stop()
    caplog.clear()
    caplog.set_level(logging.WARNING)

    started = time.monotonic()
    for url, text in pages.items():
        response = Client().get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url
        assert response.get("X-Page-Cache") != "hit", url
    assert "pagecache-hole" not in Client().get(world["main"].get_absolute_url()).content.decode()
    per_page = (time.monotonic() - started) / len(pages)

    staff = Client()
    staff.force_login(factories.user("boss", superuser=True))
    assert staff.get("/admin/").status_code == 200
    change = staff.get(f"/admin/papers/digest/{world['main'].pk}/change/")
    assert change.status_code == 200
    assert world["main"].title in change.content.decode()

    commenter = Client(enforce_csrf_checks=True)
    answer = _post_comment(commenter, world["main"], "缓存坏了也能留言。")
    assert answer.status_code == 303, answer.content[:2000]
    comment = Comment.objects.get(body="缓存坏了也能留言。")
    assert comment.status == Comment.Status.PENDING
    assert answer["Location"] == f"{world['main'].get_absolute_url()}#comment-{comment.pk}"
    own = commenter.get(answer["Location"])
    assert own.status_code == 200 and "缓存坏了也能留言。" in own.content.decode()

    reader = Client().get(world["main"].get_absolute_url(), HTTP_USER_AGENT=BROWSER)
    assert reader.status_code == 200  # counted or not, the page answers

    health = Client().get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded" and health.json()["cache"] == "degraded"

    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(r.name.startswith(("django_redis", "pagecache", "digestsite")) for r in warned)
    assert not [r for r in warned if r.name == "django.request" and r.levelno >= logging.ERROR]
    assert per_page < 1.0, f"{per_page:.2f} s a page while Redis is down"


# --- Redis full ----------------------------------------------------------------------------


@pytest.fixture
def full_redis(local_redis, settings):
    """The module's Redis limited to 2 MB without eviction, filled with other keys until it
    refuses writes (OOM); the site uses it."""
    server = local_redis.start("--maxmemory", "2mb", "--maxmemory-policy", "noeviction")
    client = server.client()
    client.flushall()
    _use(settings, server)
    yield client
    local_redis.start()  # the next test gets a Redis without the limit


def _fill(client) -> None:
    """Junk keys until Redis refuses writes (OOM) and still refuses them a moment later:
    Redis shrinks client buffers after a refused write, which leaves room for a small one."""
    import redis

    keys = itertools.count()
    for size in (16384, 64):
        while True:
            try:
                client.set(f"junk:{next(keys)}", b"x" * size)
            except redis.exceptions.OutOfMemoryError:
                break
    for _ in range(20):
        time.sleep(0.25)
        try:
            client.set(f"junk:{next(keys)}", b"x")
        except redis.exceptions.OutOfMemoryError:
            return
        while True:
            try:
                client.set(f"junk:{next(keys)}", b"x" * 64)
            except redis.exceptions.OutOfMemoryError:
                break
    raise AssertionError("Redis does not stay full")


@pytest.fixture
def many_digests():
    """Twelve published digests of two papers each, each digest's papers under a tag of its own
    (24 papers: two pages of the paper list)."""
    digests = []
    for n in range(12):
        digest = factories.digest(entries=2, title=f"满载演练第{n}期")
        for entry in digest.entries.all():
            entry.tags.add(f"topic-{n}")
        digests.append(digest)
    return digests


def _canonical_urls(digests) -> list[str]:
    urls = ["/", "/papers/", "/papers/?page=1", "/papers/?page=2"]
    urls += [digest.get_absolute_url() for digest in digests]
    urls += [entry.get_absolute_url() for d in digests for entry in d.entries.all()]
    urls += [f"/tags/topic-{n}/" for n in range(len(digests))]
    return urls


def test_with_redis_full_new_urls_still_answer_and_health_stays_up(
    full_redis, many_digests, caplog
):
    client = full_redis
    urls = _canonical_urls(many_digests)
    assert len(urls) >= 50 and len(set(urls)) == len(urls)
    stored = urls[:3]
    for url in stored:  # stored while there was room
        assert Client().get(url).status_code == 200
    _fill(client)
    caplog.set_level(logging.WARNING)
    for url in stored:
        assert Client().get(url)["X-Page-Cache"] == "hit", url
    for url in urls[3:]:
        response = Client().get(url)
        assert response.status_code == 200, url
        assert response["X-Page-Cache"] == "miss", url
        assert "pagecache-hole" not in response.content.decode(), url
    answer = _post_comment(Client(enforce_csrf_checks=True), many_digests[0], "满了也能留言。")
    assert answer.status_code == 303
    assert Comment.objects.filter(body="满了也能留言。").exists()
    _fill(client)  # the refused page writes may have left room for the health probe's key
    health = Client().get("/healthz")
    assert health.status_code == 200
    assert health.json()["database"] == "ok" and health.json()["cache"] == "degraded"
    assert any(r.levelno >= logging.WARNING for r in caplog.records)


# --- junk URLs -----------------------------------------------------------------------------


def test_junk_urls_store_nothing_and_unknown_affiliations_or_pages_are_404(redis_up, world):
    keys = redis_up.client()
    canonical = list(_reader_pages(world)) + ["/affiliations/Google/"]
    for url in canonical:
        assert Client().get(url).status_code == 200, url
    before = keys.dbsize()
    for url in canonical:
        if "?q=" not in url:
            assert Client().get(url)["X-Page-Cache"] == "hit", url

    junk = []
    for n in range(80):
        junk += [
            (f"/?utm_x={n}", 200),
            (f"/search/?q=random+{n}", 200),
            (f"/affiliations/nobody-{n}/", 404),
            (f"/papers/?page={9999 + n}", 404),
        ]
    answers = {url: Client().get(url).status_code for url, _ in junk}
    wrong = {url: (answers[url], want) for url, want in junk if answers[url] != want}
    assert not wrong, f"(answered, expected): {dict(list(wrong.items())[:8])}"
    grew = keys.dbsize() - before
    assert grew <= 5, f"{grew} keys stored for {len(junk)} junk URLs"
    assert Client().get("/")["X-Page-Cache"] == "hit"
    assert Client().get(world["main"].get_absolute_url())["X-Page-Cache"] == "hit"


# Made-up values of the list's own parameters are not canonical content either: one client
# can spell an endless number of them, so each must not cost a page in the store.
MADE_UP_VALUES = {
    "an author nobody is": lambda n: f"/papers/?author=nobody-{n}",
    "a tag nobody used": lambda n: f"/papers/?tag=nobody-{n}",
    "an affiliation nobody has": lambda n: f"/papers/?affiliation=nobody-{n}",
    "a sort order that does not exist": lambda n: f"/papers/?sort=random-{n}",
    "a digest that does not exist": lambda n: f"/papers/?digest={10**6 + n}",
    "dates without papers": lambda n: f"/papers/?date_from=1990-01-01&date_to=1990-02-{n + 1:02d}",
    "an archive month without digests": lambda n: f"/archive/{2000 + n}/1/",
    "the feed of an affiliation nobody has": lambda n: f"/affiliations/nobody-{n}/feed/atom/",
    "the first page spelt another way": lambda n: "/papers/?page=1" + "&" * (n + 1),
    "an interface language that does not exist": lambda n: f"/papers/?lang=xx-{n}",
}


@pytest.mark.parametrize("kind", list(MADE_UP_VALUES))
def test_made_up_values_of_the_lists_own_parameters_store_nothing_per_url(redis_up, world, kind):
    keys = redis_up.client()
    for url in ("/", "/papers/", "/papers/?page=1", "/affiliations/Google/"):
        assert Client().get(url).status_code == 200, url
    before = keys.dbsize()
    urls = [MADE_UP_VALUES[kind](n) for n in range(25)]
    answers = {url: Client().get(url).status_code for url in urls}
    assert set(answers.values()) <= {200, 404}, answers
    grew = keys.dbsize() - before
    assert grew <= 5, f"{grew} keys stored for {len(urls)} URLs with {kind}"
