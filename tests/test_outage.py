"""While the database is unreachable every page that needs it answers 503 Service Unavailable
with Retry-After (digestsite/middleware.py), never 404: crawlers and CDNs read a 404 as
"gone" and drop the page, where a 503 says "come back". Nothing answered during the outage
is kept by the page cache."""

from urllib.parse import quote

import pytest
from django.db import OperationalError, connection
from django.test import Client

from pagecache import store as pages
from tests import factories

pytestmark = pytest.mark.django_db


def refuse(execute, sql, params, many, context):
    """Every statement fails as the driver reports a server it cannot reach."""
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: refused')


@pytest.fixture
def site():
    digest = factories.digest(entries=2, title="停电前的一期")
    entry = digest.entries.select_related("paper").first()
    entry.tags.add("推理模型")
    return {"digest": digest, "entry": entry}


def public_urls(site) -> list[str]:
    digest, entry = site["digest"], site["entry"]
    return [
        "/",
        digest.get_absolute_url(),
        entry.get_absolute_url(),
        "/papers/",
        "/papers/?page=1",
        "/papers/?tag=" + quote("推理模型") + "&category=LG",
        "/tags/" + quote("推理模型") + "/",
        "/categories/LG/",
        "/affiliations/" + quote("Analytical Engine Lab") + "/",
        f"/archive/{digest.issue_date:%Y/%m}/",
        "/search/?q=" + quote("推理"),
        "/search/?q=Things&page=1",
        "/sections/summary/",
        "/feeds/atom/",
        "/feeds/rss/",
        "/sitemap.xml",
        "/api/v1/entries/",
    ]


def test_every_database_page_answers_503_with_retry_after_during_an_outage(site, settings):
    settings.PAGE_CACHE_ENABLED = True
    urls = public_urls(site)
    pages.store().clear()
    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(refuse):
        answers = {url: client.get(url) for url in urls}
    wrong = {url: r.status_code for url, r in answers.items() if r.status_code != 503}
    assert not wrong, f"not 503 while the database is down: {wrong}"
    for url, response in answers.items():
        assert response["Retry-After"].isdigit(), url
        assert "refused" not in response.content.decode(), url
    # Once the database is back, the pages are the real ones: nothing from the outage was kept.
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.get("X-Page-Cache") != "hit", url


def test_the_urls_above_are_real_pages_when_the_database_is_up(site):
    # The table above would prove nothing if its addresses were 404s anyway.
    client = Client()
    answers = {url: client.get(url).status_code for url in public_urls(site)}
    assert set(answers.values()) == {200}, answers
