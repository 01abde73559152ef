"""Share links: a reviewer without an account sees the current draft, marked, uncached and
unindexed, until the link expires or an editor revokes it."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from editorial import services, workflow
from editorial.models import AuditRecord, ShareLink
from tests import factories
from tests.workflow_support import client_for, csrf_post, role_user

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2030, 5, 1, 4, 0, tzinfo=datetime.UTC)


@pytest.fixture
def editor():
    return role_user("editor")


@pytest.fixture
def draft():
    return factories.digest(entries=2, status="draft", title="还没发布的一期")


def _assert_private(response):
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]
    assert response["Referrer-Policy"] == "same-origin"  # no Referer to other sites


def test_a_reviewer_without_an_account_sees_the_current_draft_with_a_banner(editor, draft):
    link = services.share_link_create(digest=draft, by=editor, note="王博士")
    draft.entries.filter(position=1).update(title_zh="刚刚改过的中文标题")
    response = Client().get(link.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "还没发布的一期" in html and "刚刚改过的中文标题" in html
    assert 'class="preview-banner"' in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    _assert_private(response)
    # Paper titles jump within the page: the entry pages are not shared.
    first = draft.entries.get(position=1)
    assert 'href="#paper-1"' in html and first.get_absolute_url() not in html
    # The draft itself stays a 404 at its public address.
    assert Client().get(draft.get_absolute_url()).status_code == 404


def test_an_expired_link_is_gone_with_a_clear_page(time_machine, editor, draft):
    time_machine.move_to(NOW, tick=False)
    link = services.share_link_create(
        digest=draft, by=editor, expires_at=NOW + datetime.timedelta(days=1)
    )
    time_machine.move_to(NOW + datetime.timedelta(days=1) - datetime.timedelta(seconds=1))
    assert Client().get(link.get_absolute_url()).status_code == 200
    time_machine.move_to(NOW + datetime.timedelta(days=1), tick=False)
    response = Client().get(link.get_absolute_url())
    assert response.status_code == 410
    html = response.content.decode()
    assert "还没发布的一期" not in html
    assert "2030-05-02 12:00 (Asia/Shanghai)" in html
    _assert_private(response)


def test_a_revoked_link_stops_working_at_once(editor, draft):
    link = services.share_link_create(digest=draft, by=editor)
    url = link.get_absolute_url()
    client = client_for(editor)
    share_page = reverse("admin:papers_digest_share", args=[draft.pk])
    response = csrf_post(client, share_page, {"revoke": link.pk})
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None and link.revoked_by == editor
    gone = Client().get(url)
    assert gone.status_code == 410 and "还没发布的一期" not in gone.content.decode()
    assert AuditRecord.objects.filter(digest=draft, action="revoke").exists()


@pytest.mark.parametrize(
    "token", ["not-a-token", "WzEsImFiYyJd:1abc:forged", "e30:1tZz:aaaaaaaaaaaaaaaaaaaaaaaaaaa"]
)
def test_a_forged_or_garbled_token_is_a_404(editor, draft, token):
    services.share_link_create(digest=draft, by=editor)
    response = Client().get(reverse("editorial:share-preview", kwargs={"token": token}))
    assert response.status_code == 404
    _assert_private(response)


def test_a_token_for_a_deleted_or_re_keyed_link_is_a_404(editor, draft):
    link = services.share_link_create(digest=draft, by=editor)
    url = link.get_absolute_url()
    ShareLink.objects.filter(pk=link.pk).update(key="0" * 32)
    assert Client().get(url).status_code == 404


def test_an_editor_creates_a_link_in_the_admin_and_an_author_cannot(editor, draft):
    share_page = reverse("admin:papers_digest_share", args=[draft.pk])
    response = csrf_post(client_for(editor), share_page, {"note": "外审专家", "days": "3"})
    assert response.status_code == 302
    link = ShareLink.objects.get(digest=draft)
    assert link.note == "外审专家" and link.is_active
    page = client_for(editor).get(share_page).content.decode()
    # The page offers this link's address (its token is signed with the time, so it is
    # compared by what it names, not as text made a second later).
    prefix = reverse("editorial:share-preview", kwargs={"token": "TOKEN"}).split("TOKEN")[0]
    tokens = re.findall(re.escape(prefix) + r"([^/\"<\s]+)/", page)
    assert link in [workflow.share_link_from_token(token) for token in tokens]
    author = client_for(role_user("author"))
    assert csrf_post(author, share_page, {"note": "x", "days": "3"}).status_code == 403
    assert author.get(share_page).status_code == 403
    assert ShareLink.objects.count() == 1


def test_a_link_valid_for_zero_days_is_a_form_error(editor, draft):
    share_page = reverse("admin:papers_digest_share", args=[draft.pk])
    response = csrf_post(client_for(editor), share_page, {"note": "x", "days": "0"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not ShareLink.objects.exists()


@pytest.mark.parametrize("entries", [1, 20])
def test_the_share_page_costs_a_fixed_number_of_queries(editor, entries, settings):
    settings.REVIEW_COMMENT_RATE_LIMITS = []  # twenty remarks written at once, as over days
    digest = factories.digest(entries=entries, status="draft")
    link = services.share_link_create(digest=digest, by=editor)
    for n in range(entries):  # reviewers' comments, answered
        remark = services.review_comment_add(link=link, name=f"审稿人{n}", body="意见")
        services.review_comment_reply(comment=remark, by=editor, body="已改")
    url = link.get_absolute_url()
    client = Client()
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    # link with its digest and working copy, entries (with neighbours), section kinds (the
    # comment form's choices), reviewers' comments, their replies: the papers' blocks, the
    # digest's tags and the site settings come from the cache
    assert len(captured) == 5
    cache.clear()  # every cache empty, as after a deploy
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    # the same; the blocks' sections, tags, figures; the digest's tags; site settings
    assert len(captured) == 10


def test_revoking_with_a_garbled_id_is_a_404_not_an_error(editor, draft):
    share_page = reverse("admin:papers_digest_share", args=[draft.pk])
    response = csrf_post(client_for(editor), share_page, {"revoke": "abc"})
    assert response.status_code == 404
