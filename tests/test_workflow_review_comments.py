"""Reviewer feedback through share links: whoever holds a valid link comments on the
digest or on one section, with a name; editors see the comments beside the paper in the
editor, reply and resolve them; the authors and editors are emailed with absolute links.
The link's expiry and revocation apply to commenting too."""

import datetime
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from editorial import services
from editorial.models import ReviewComment
from tests import factories
from tests.workflow_support import change_url, client_for, csrf_post, role_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return role_user("author"), role_user("editor")


@pytest.fixture
def shared(people):
    author, editor = people
    digest = factories.digest(entries=2, status="draft", title="外审的一期")
    services.digest_record_creation(digest=digest, by=author)
    link = services.share_link_create(digest=digest, by=editor, note="王老师")
    return digest, link


def _reviewer_posts(link, **fields) -> tuple[Client, object]:
    """A reviewer without an account, CSRF checks on, opens the link and sends the form."""
    reviewer = Client(enforce_csrf_checks=True)
    page = reviewer.get(link.get_absolute_url())
    assert page.status_code == 200
    token = reviewer.cookies["csrftoken"].value
    url = reverse("editorial:share-comment", args=[link.token])
    return reviewer, reviewer.post(url, {"csrfmiddlewaretoken": token, **fields})


def test_a_reviewer_comments_on_one_section_and_the_authors_and_editors_are_told(
    shared, people, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://digest.example.com"
    author, editor = people
    digest, link = shared
    entry = digest.entries.order_by("position").first()
    target = f"{entry.paper_id}:limitations"
    page = Client().get(link.get_absolute_url()).content.decode()
    assert f'value="{target}"' in page  # each section of each paper can be chosen

    with django_capture_on_commit_callbacks(execute=True):
        reviewer, response = _reviewer_posts(
            link, name="王老师", body="不足部分漏了数据集的偏差。", target=target
        )
    assert response.status_code == 302  # not the "form expired" 403 of the reader form
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == sorted([author.email, editor.email])
    link_in_mail = "https://digest.example.com" + reverse(
        "admin:papers_entry_change", args=[entry.pk]
    )
    assert link_in_mail in message.body and "王老师" in message.body
    comment = ReviewComment.objects.get()
    assert comment.kind.slug == "limitations" and comment.paper == entry.paper
    assert comment.name == "王老师" and comment.link == link
    thanks = reviewer.get(response["Location"]).content.decode()
    assert "不足部分漏了数据集的偏差" in thanks


def test_the_sections_to_comment_on_are_grouped_under_each_paper(shared):
    digest, link = shared
    first = digest.entries.order_by("position").first()
    first.paper.title = "An Extremely Long Title About Asymptotically Optimal Description Lengths"
    first.paper.save()
    page = Client().get(link.get_absolute_url()).content.decode()
    # One group per paper, named by its position and title (a long one shortened with "…"),
    # holding its sections by their names.
    assert re.search(
        r'<optgroup label="1\. An Extremely Long Title About Asymptotically '
        r'Optimal D[a-z]*(…|\.\.\.)">',
        page,
    )
    assert page.count("<optgroup") == 2
    assert f'<option value="{first.paper_id}:limitations">不足</option>' in page


def test_the_editor_sees_the_comment_beside_the_paper_replies_and_resolves_it(shared, people):
    author, editor = people
    digest, link = shared
    entry = digest.entries.order_by("position").first()
    services.review_comment_add(
        link=link, name="王老师", body="主旨写得太长。", target=f"{entry.paper_id}:gist"
    )
    services.review_comment_add(link=link, name="李老师", body="整体不错。")
    client = client_for(editor)
    entry_page = client.get(reverse("admin:papers_entry_change", args=[entry.pk])).content.decode()
    assert "主旨写得太长" in entry_page and "整体不错" not in entry_page  # this paper's only
    digest_page = client.get(change_url(digest)).content.decode()
    assert "主旨写得太长" in digest_page and "整体不错" in digest_page

    comment = ReviewComment.objects.get(name="王老师")
    url = reverse("admin:papers_digest_review", args=[digest.pk, comment.pk])
    back = reverse("admin:papers_entry_change", args=[entry.pk])
    response = csrf_post(client, url, {"action": "reply", "body": "已缩短。", "next": back})
    assert response["Location"] == back
    csrf_post(client, url, {"action": "resolve", "next": back})
    comment.refresh_from_db()
    assert comment.resolved_at is not None and comment.resolved_by == editor
    reply = comment.replies.get()
    assert reply.body == "已缩短。" and reply.author == editor
    # The reviewer sees the answer on the shared page.
    assert "已缩短" in Client().get(link.get_absolute_url()).content.decode()


def test_a_moderator_or_a_stranger_cannot_reply_or_resolve(shared):
    digest, link = shared
    comment = services.review_comment_add(link=link, name="王老师", body="意见")
    url = reverse("admin:papers_digest_review", args=[digest.pk, comment.pk])
    moderator = client_for(role_user("moderator"))
    assert csrf_post(moderator, url, {"action": "resolve"}).status_code == 403
    assert csrf_post(client_for(None), url, {"action": "resolve"}).status_code == 302  # login
    comment.refresh_from_db()
    assert comment.resolved_at is None and not comment.replies.exists()


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_an_expired_or_revoked_link_can_no_longer_comment(shared, people, how):
    author, editor = people
    digest, link = shared
    reviewer = Client(enforce_csrf_checks=True)
    reviewer.get(link.get_absolute_url())  # the page was opened while the link worked
    if how == "revoked":
        services.share_link_revoke(link=link, by=editor)
    else:
        link.expires_at = timezone.now() - datetime.timedelta(minutes=1)
        link.created_at = link.expires_at - datetime.timedelta(days=1)
        link.save()
    url = reverse("editorial:share-comment", args=[link.token])
    token = reviewer.cookies["csrftoken"].value
    response = reviewer.post(url, {"csrfmiddlewaretoken": token, "name": "王", "body": "晚了"})
    assert response.status_code == 410
    assert not ReviewComment.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "", "body": "没有名字"},
        {"name": "王老师", "body": "   "},
        {"name": "王老师", "body": "x" * 4001},
        {"name": "王老师", "body": "意见", "target": "999999:gist"},
        {"name": "王老师", "body": "意见", "target": "abc:gist"},
        {"name": "王老师", "body": "意见", "target": "²:gist"},  # a digit to isdigit() only
        {"name": "王老师", "body": "意见", "target": "1:no-such-kind"},
    ],
)
def test_bad_input_is_a_clear_400_that_keeps_the_text(shared, fields):
    digest, link = shared
    _reviewer, response = _reviewer_posts(link, **fields)
    assert response.status_code == 400
    assert "form-errors" in response.content.decode()
    assert not ReviewComment.objects.exists()


def test_a_flood_through_one_link_is_refused_with_a_message_and_mails_nobody(
    shared, settings, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    cache.clear()
    settings.REVIEW_COMMENT_RATE_LIMITS = [(3, 60)]
    digest, link = shared
    for n in range(3):
        _reviewer, response = _reviewer_posts(link, name="访客", body=f"第{n}条")
        assert response.status_code == 302
    with django_capture_on_commit_callbacks() as mails:
        _reviewer, response = _reviewer_posts(link, name="访客", body="第四条")
    assert response.status_code == 400
    assert "第四条" in response.content.decode()  # the text is kept to send later
    assert ReviewComment.objects.count() == 3 and mails == []


def test_comments_on_a_live_digests_changes_outlive_publishing_them(people):
    author, editor = people
    digest = factories.digest(entries=1)
    copy = services.working_copy_start(digest=digest, by=editor)
    link = services.share_link_create(digest=digest, by=editor)
    paper = copy.entries.get().paper_id
    services.review_comment_add(link=link, name="王老师", body="图注要改", target=f"{paper}:gist")
    services.working_copy_publish(copy=copy, by=editor)
    comment = ReviewComment.objects.get()
    assert comment.digest == digest and comment.paper_id == paper
    entry = digest.entries.get()
    page = client_for(editor).get(reverse("admin:papers_entry_change", args=[entry.pk]))
    assert "图注要改" in page.content.decode()
    # Readers never see reviewers' comments.
    assert "图注要改" not in Client().get(digest.get_absolute_url()).content.decode()
