"""Drafts never leak from any public URL; view counts are counted once, without bots."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from papers.models import Digest, Entry, SectionKind
from reading import viewcounts
from tests import factories

pytestmark = pytest.mark.django_db

SECRET_WORDS = ["秘密草稿", "SecretDraftPaper", "secret-draft-tag"]


def _secret_content():
    """One of each kind of unpublished digest, carrying words that must never be public."""
    now = timezone.now()
    hidden = [
        factories.digest(status="draft"),
        factories.digest(status="review"),
        factories.digest(published_at=now + datetime.timedelta(days=1)),
        factories.digest(
            published_at=now - datetime.timedelta(days=2),
            expires_at=now - datetime.timedelta(hours=1),
        ),
    ]
    for n, digest in enumerate(hidden):
        digest.title = f"秘密草稿{n}"
        digest.summary = "秘密草稿的摘要"
        digest.save()
        digest.tags.add("secret-draft-tag")
        entry = factories.entry(
            digest=digest,
            paper=factories.paper(
                title=f"SecretDraftPaper {n}",
                affiliations="Analytical Engine Lab",
                abstract="SecretDraftPaper abstract with 推理",
            ),
        )
        entry.tags.add("secret-draft-tag", "强化学习")
    return hidden


def _public_urls(published):
    entry = published.entries.first()
    month = f"{published.issue_date.year}/{published.issue_date.month}"
    urls = [
        "/",
        "/papers/",
        "/papers/?q=推理",
        "/papers/?q=SecretDraftPaper",
        "/papers/?tag=secret-draft-tag",
        "/papers/?tag=强化学习",
        "/search/?q=秘密草稿",
        "/search/?q=secretdraftpaper",
        "/tags/",
        "/tags/强化学习/",
        "/tags/secret-draft-tag/",
        "/tags/secret-draft-tag/feed/atom/",
        "/papers/?tag=secret-draft-tag&q=推理",
        "/categories/",
        "/categories/cs.LG/",
        "/affiliations/Analytical Engine Lab/",
        "/archive/",
        f"/archive/{month}/",
        published.get_absolute_url(),
        entry.get_absolute_url(),
        "/feeds/atom/",
        "/feeds/rss/",
        "/tags/强化学习/feed/atom/",
        "/tags/强化学习/feed/rss/",
        "/categories/cs.LG/feed/atom/",
        "/categories/cs.LG/feed/rss/",
        "/affiliations/Analytical Engine Lab/feed/atom/",
        f"/archive/{month}/feed/rss/",
        "/robots.txt",
        "/sitemap.xml",
        "/api/v1/",
        "/api/v1/digests/",
        f"/api/v1/digests/{published.issue_date}/{published.slug}/",
        "/api/v1/entries/",
        "/api/v1/entries/?q=推理",
        "/api/v1/entries/?tag=强化学习",
        f"/api/v1/entries/{entry.pk}/",
        "/api/v1/categories/",
        "/api/v1/tags/",
        "/api/v1/section-kinds/",
    ]
    urls += [f"/sections/{kind.slug}/" for kind in SectionKind.objects.all()]
    urls += ["/sections/limitations/?q=推理&tag=强化学习"]
    return urls


def test_no_public_url_shows_unpublished_content():
    published = factories.digest(entries=2, title="公开的一期")
    published.entries.first().tags.add("强化学习")
    hidden = _secret_content()
    client = Client()
    seen = set()
    queue = _public_urls(published)
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code in (200, 404), url
        body = response.content.decode()
        for word in SECRET_WORDS:
            if word.lower() not in url.lower():  # a page may echo the address it was asked
                assert word.lower() not in body.lower(), (url, word)
        if url.startswith("/tags/secret-draft-tag/"):
            assert response.status_code == 404, url  # a tag used only on drafts is unknown
        for digest in hidden:
            assert digest.get_absolute_url() not in body, url
        if url.startswith("/sitemap"):
            queue += [u for u in re.findall(r"<loc>http://testserver([^<]+)</loc>", body)]
    hidden_entries = Entry.objects.filter(digest__in=hidden)
    for entry in hidden_entries:
        assert client.get(f"/api/v1/entries/{entry.pk}/").status_code == 404
        assert (
            client.get(f"/compare/?e={entry.pk}&e={published.entries.first().pk}").status_code
            == 400
        )
    assert len(seen) > 40


BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


def test_beacon_counts_views_in_the_cache_and_flushes_in_batches(settings):
    settings.VIEW_COUNT_FLUSH_EVERY = 3
    digest = factories.digest(entries=1)
    client = Client(enforce_csrf_checks=True)  # a beacon carries no CSRF token
    url = f"/views/digest/{digest.pk}/"
    for n in (1, 2):
        answer = client.post(url, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=f"10.0.0.{n}")
        assert answer.status_code == 200 and answer.json() == {"views": n}  # shown by the page
    digest.refresh_from_db()
    assert digest.view_count == 0  # still waiting in the cache
    client.post(url, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="10.0.0.3")
    digest.refresh_from_db()
    assert digest.view_count == 3
    client.post(url, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="10.0.0.4")
    call_command("flush_view_counts", stdout=open("/dev/null", "w"))  # noqa: SIM115
    digest.refresh_from_db()
    assert digest.view_count == 4
    assert not cache.get(viewcounts.counter_key("digest", digest.pk))


def test_a_reader_counts_once_per_visit_whatever_the_beacons_they_send(settings):
    """A reload, a second tab or a replayed beacon within the visit window adds nothing;
    another reader (address or browser) counts, and so does the same reader once the
    window has passed. The count shown is still the current one."""
    settings.VIEW_COUNT_FLUSH_EVERY = 1
    digest = factories.digest(entries=1)
    url = f"/views/digest/{digest.pk}/"
    client = Client()
    for _ in range(5):
        answer = client.post(url, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")
        assert answer.status_code == 200 and answer.json() == {"views": 1}
    client.post(url, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.8")
    client.post(url, HTTP_USER_AGENT=BROWSER + " Edg/120", REMOTE_ADDR="203.0.113.7")
    digest.refresh_from_db()
    assert digest.view_count == 3
    entry = digest.entries.get()  # the visit is per page
    client.post(f"/views/entry/{entry.pk}/", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")
    entry.refresh_from_db()
    assert entry.view_count == 1
    assert not any("203.0.113" in str(key) for key in getattr(cache, "_cache", {}))
    cache.delete_many([viewcounts._visit_key("digest", digest.pk, f"203.0.113.7|{BROWSER}")])
    client.post(url, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")  # a new visit
    digest.refresh_from_db()
    assert digest.view_count == 4


def test_views_waiting_in_a_process_reach_the_database_without_a_cron_job(settings):
    """Below the batch size, the counters a process touched are written a minute after its
    last flush (on the next counted view), and when a gunicorn worker exits (its
    ``worker_exit`` hook): without Redis they live in the worker's memory."""
    import runpy

    from django.conf import settings as django_settings

    settings.VIEW_COUNT_FLUSH_EVERY = 100
    first, second = factories.digest(entries=1), factories.digest(entries=1)
    client = Client()
    for n in range(3):
        client.post(
            f"/views/digest/{first.pk}/", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=f"10.1.0.{n}"
        )
    client.post(f"/views/digest/{second.pk}/", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="10.1.1.1")
    first.refresh_from_db()
    assert first.view_count == 0
    hooks = runpy.run_path(str(django_settings.BASE_DIR / "gunicorn.conf.py"))
    hooks["worker_exit"](None, None)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.view_count, second.view_count) == (3, 1)
    assert not cache.get(viewcounts.counter_key("digest", first.pk))
    # A minute on, the next counted view writes what waits, its own included.
    client.post(f"/views/digest/{first.pk}/", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="10.1.2.1")
    first.refresh_from_db()
    assert first.view_count == 3
    viewcounts._last_flush[0] -= viewcounts.PENDING_FLUSH_SECONDS
    client.post(f"/views/digest/{first.pk}/", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="10.1.2.2")
    first.refresh_from_db()
    assert first.view_count == 5


@pytest.mark.parametrize(
    "agent",
    ["Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.0", "", "HeadlessChrome/120"],
)
def test_bots_and_unpublished_pages_are_not_counted(settings, agent):
    settings.VIEW_COUNT_FLUSH_EVERY = 1
    digest = factories.digest(entries=1)
    draft_entry = factories.digest(entries=1, status="draft").entries.get()
    client = Client()
    client.post(f"/views/digest/{digest.pk}/", HTTP_USER_AGENT=agent)
    client.post(f"/views/entry/{draft_entry.pk}/", HTTP_USER_AGENT=BROWSER)
    digest.refresh_from_db()
    draft_entry.refresh_from_db()
    assert digest.view_count == 0
    assert draft_entry.view_count == 0


def test_beacon_refuses_get_and_unknown_kinds():
    digest = factories.digest()
    assert Client().get(f"/views/digest/{digest.pk}/").status_code == 405
    assert Client().post(f"/views/user/{digest.pk}/", HTTP_USER_AGENT=BROWSER).status_code == 404


def test_counting_a_view_does_not_change_the_digests_last_modified_time(settings):
    settings.VIEW_COUNT_FLUSH_EVERY = 1
    digest = factories.digest(entries=1)
    before = Digest.objects.get(pk=digest.pk).updated_at
    Client().post(f"/views/digest/{digest.pk}/", HTTP_USER_AGENT=BROWSER)
    after = Digest.objects.get(pk=digest.pk)
    assert after.view_count == 1 and after.updated_at == before


def test_published_pages_carry_the_beacon_and_previews_do_not(client):
    digest = factories.digest(entries=1)
    html = client.get(digest.get_absolute_url()).content.decode()
    assert f'<meta name="view-beacon" content="/views/digest/{digest.pk}/">' in html
    assert 'src="/static/js/reading.js" defer' in html
    draft = factories.digest(entries=1, status="draft")
    client.force_login(factories.user("editor", staff=True))
    assert "view-beacon" not in client.get(draft.get_absolute_url()).content.decode()


def test_a_digest_stops_being_counted_as_soon_as_it_is_unpublished(settings):
    from editorial import services

    settings.VIEW_COUNT_FLUSH_EVERY = 1
    digest = factories.digest(entries=1)
    url = f"/views/digest/{digest.pk}/"
    client = Client()
    client.post(url, HTTP_USER_AGENT=BROWSER)
    services.digest_unpublish(digest=digest, by=factories.user("boss", superuser=True))
    for _ in range(5):
        client.post(url, HTTP_USER_AGENT=BROWSER)
    digest.refresh_from_db()
    assert digest.view_count == 1


def test_a_failed_write_keeps_the_views_for_the_next_flush(settings, monkeypatch, caplog):
    """If the database refuses the write, the views moved out of the counter are given back
    and the counter is retried on the next run, not lost."""
    from django.db import OperationalError
    from django.db.models.query import QuerySet

    settings.VIEW_COUNT_FLUSH_EVERY = 100
    digest = factories.digest(entries=1)
    for n in range(2):
        Client().post(
            f"/views/digest/{digest.pk}/", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=f"10.2.0.{n}"
        )
    real_update = QuerySet.update

    def refuse(self, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(QuerySet, "update", refuse)
    assert viewcounts.flush_pending() == 0
    assert "Could not write the pending views" in caplog.text
    assert cache.get(viewcounts.counter_key("digest", digest.pk)) == 2
    monkeypatch.setattr(QuerySet, "update", real_update)
    assert viewcounts.flush_pending() == 2
    digest.refresh_from_db()
    assert digest.view_count == 2


def test_the_worker_exit_hook_leaves_the_master_alone_and_never_raises(monkeypatch):
    """gunicorn's master calls worker_exit for a worker that vanished: it must not touch
    Django there; and an error while writing is logged, never raised into gunicorn."""
    import runpy
    from types import SimpleNamespace

    from django.conf import settings as django_settings

    hooks = runpy.run_path(str(django_settings.BASE_DIR / "gunicorn.conf.py"))
    called = []
    monkeypatch.setattr(viewcounts, "flush_pending", lambda: called.append(1))
    hooks["worker_exit"](None, SimpleNamespace(pid=-1))  # in the master, for another pid
    assert called == []

    def broken():
        raise RuntimeError("no database")

    monkeypatch.setattr(viewcounts, "flush_pending", broken)
    hooks["worker_exit"](None, SimpleNamespace(pid=__import__("os").getpid()))  # no raise


def test_a_beacon_for_an_impossible_id_is_404_not_500():
    assert (
        Client().post("/views/digest/" + "9" * 25 + "/", HTTP_USER_AGENT=BROWSER).status_code == 404
    )
