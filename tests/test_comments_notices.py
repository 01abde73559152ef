"""Commenters who tick "tell me" are mailed once per event: when their comment is approved,
and when staff or another reader answers it; with a signed link to the thread and a
one-click way to stop."""

import pytest
from django.core import mail
from django.test import Client

from comments import services as svc
from comments.models import Comment
from tests import factories
from tests.conftest import run_commit_hooks
from tests.subscription_support import link_to, old_stamp

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.COMMENTS_RATE_LIMITS = []


def post(client, target, **fields):
    client.get(target.get_absolute_url())
    data = {
        "target": svc.target_key(target),
        "stamp": old_stamp(),
        "website": "",
        "name": "小明",
        "email": "xiaoming@example.com",
        "notify": "on",
        "body": "第三篇的消融实验很扎实。",
    }
    data.update(fields)
    response = client.post("/comments/", data, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    run_commit_hooks()
    return response


def moderator():
    from django.contrib.auth import get_user_model

    found = get_user_model().objects.filter(username="moderator").first()
    return found or factories.moderator()


def test_a_commenter_who_asked_is_told_once_when_the_comment_is_approved():
    digest = factories.digest(entries=1)
    post(Client(enforce_csrf_checks=True), digest)
    comment = Comment.objects.get()
    assert comment.notify and mail.outbox == []  # nothing while it waits
    by = moderator()
    svc.comment_moderate(comment=comment, by=by, status="approved")
    run_commit_hooks()
    assert [m.to for m in mail.outbox] == [["xiaoming@example.com"]]
    message = mail.outbox[0]
    assert "第三篇的消融实验很扎实。" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Rejected and approved again: the same event, not told twice.
    svc.comment_moderate(comment=comment, by=by, status="rejected")
    svc.comment_moderate(comment=comment, by=by, status="approved")
    run_commit_hooks()
    assert len(mail.outbox) == 1
    # The signed link leads to the comment in its thread.
    response = Client().get(link_to(message.body, "/comments/link/"))
    assert response.status_code == 302
    assert response["Location"] == f"{digest.get_absolute_url()}#comment-{comment.pk}"


def test_a_commenter_who_did_not_tick_the_box_is_never_mailed():
    digest = factories.digest(entries=1)
    post(Client(enforce_csrf_checks=True), digest, notify="")
    comment = Comment.objects.get()
    svc.comment_moderate(comment=comment, by=moderator(), status="approved")
    svc.comment_reply(comment=comment, by=moderator(), body="谢谢指正。")
    run_commit_hooks()
    assert mail.outbox == []


def test_ticking_the_box_without_an_email_is_a_form_error():
    digest = factories.digest(entries=1)
    response = post(Client(enforce_csrf_checks=True), digest, email="")
    assert response.status_code == 400
    assert "comment-email-errors" in response.content.decode()
    assert not Comment.objects.exists()


def test_a_staff_answer_is_told_once_and_its_approval_is_not_told_separately():
    digest = factories.digest(entries=1)
    post(Client(enforce_csrf_checks=True), digest)
    comment = Comment.objects.get()
    svc.comment_reply(comment=comment, by=moderator(), body="谢谢，我们会在下期补充。")
    run_commit_hooks()
    assert len(mail.outbox) == 1  # answered (which also approved it): one mail
    assert "谢谢，我们会在下期补充。" in mail.outbox[0].body


def test_a_readers_answer_is_told_when_it_is_approved_and_not_to_oneself():
    digest = factories.digest(entries=1)
    first = factories.comment(on=digest, email="xiaoming@example.com", notify=True)
    post(
        Client(enforce_csrf_checks=True),
        digest,
        parent=str(first.pk),
        name="小红",
        email="xiaohong@example.com",
        notify="",
        body="同意，尤其是第二组实验。",
    )
    reply = Comment.objects.get(parent=first)
    assert mail.outbox == []  # the answer waits for moderation
    svc.comment_moderate(comment=reply, by=moderator(), status="approved")
    run_commit_hooks()
    assert [m.to for m in mail.outbox] == [["xiaoming@example.com"]]
    assert "同意，尤其是第二组实验。" in mail.outbox[0].body
    # Answering oneself tells nobody.
    post(Client(enforce_csrf_checks=True), digest, parent=str(first.pk), body="补充一点。")
    own = Comment.objects.get(parent=first, email="xiaoming@example.com")
    svc.comment_moderate(comment=own, by=moderator(), status="approved")
    run_commit_hooks()
    assert [m.to for m in mail.outbox] == [["xiaoming@example.com"], ["xiaoming@example.com"]]
    assert "published" in mail.outbox[1].subject or "发布" in mail.outbox[1].subject


def test_one_click_stops_every_notice_to_the_commenter():
    digest = factories.digest(entries=1)
    first = factories.comment(on=digest, email="xiaoming@example.com", notify=True)
    svc.comment_reply(comment=first, by=moderator(), body="谢谢。")
    run_commit_hooks()
    stop = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    path = stop.removeprefix("http://testserver.example")
    client = Client(enforce_csrf_checks=True)
    assert client.get(path).status_code == 200
    assert Comment.objects.get(pk=first.pk).notify  # a GET changes nothing
    assert client.post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert not Comment.objects.get(pk=first.pk).notify
    svc.comment_reply(comment=first, by=moderator(), body="再补充一句。")
    run_commit_hooks()
    assert len(mail.outbox) == 1
    assert Client().post("/comments/notices/stop/forged/").status_code == 400
