"""Drafts never leak from any public URL; view counts are counted once, without bots."""

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from papers.models import Entry, SectionKind
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
