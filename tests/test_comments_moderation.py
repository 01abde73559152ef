"""Moderators: the queue, bulk decisions, pins, staff replies, closing threads, erasure,
notifications, and a permission test for every action someone without the right might try."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from comments import services as svc
from comments.models import Comment, CommentClosure, ModerationRecord
from pagecache import store as pages
from tests import factories
from tests.test_comments_posting import csrf_client, post

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/comments/comment/"


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.COMMENTS_RATE_LIMITS = []


def logged_in(account) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(account)
    client.get("/admin/")  # the CSRF cookie
    return client


def admin_post(client, url, data):
    return client.post(url, data, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)


def bulk(client, action, comments):
    return admin_post(
        client,
        CHANGELIST,
        {"action": action, "_selected_action": [str(c.pk) for c in comments], "index": "0"},
    )


def staff_without_moderation():
    """Staff who may view and change comments in the admin, but not moderate them."""
    account = factories.user("clerk", staff=True)
    for codename in ("view_comment", "change_comment", "add_commentclosure"):
        account.user_permissions.add(Permission.objects.get(codename=codename))
    return account


def test_the_moderator_group_exists_with_the_moderation_permission():
    group = Group.objects.get(name="Moderator")
    assert group.permissions.filter(codename="moderate_comment").exists()
    moderator = factories.moderator()
    assert moderator.has_perm("comments.moderate_comment")


def test_the_queue_lists_pending_first_with_reason_ip_agent_and_history():
    digest = factories.digest(entries=1)
    old_pending = factories.comment(
        on=digest, status="pending", body="较早的待审评论", held_reason="Held: 3 links."
    )
    factories.comment(on=digest, body="已通过的评论", email="fan@example.com")
    factories.comment(
        on=digest.entries.get(),
        status="pending",
        body="新的待审评论",
        email="fan@example.com",
        user_agent="Mozilla/5.0 TestBrowser",
    )
    client = logged_in(factories.moderator())
    html = client.get(CHANGELIST).content.decode()
    assert html.index("新的待审评论") < html.index("较早的待审评论") < html.index("已通过的评论")
    assert "Held: 3 links." in html
    assert "198.51.100.7" in html
    assert "Mozilla/5.0 TestBrowser" in html
    assert re.search(r"2 comments: 1 approved, 0 spam|2 条评论", html)
    assert old_pending.excerpt in html
    history_url = re.search(r'href="(/admin/comments/comment/\?email_hash=[0-9a-f]+)"', html)
    commenter_only = client.get(history_url.group(1).replace("&amp;", "&")).content.decode()
    assert "新的待审评论" in commenter_only and "较早的待审评论" not in commenter_only


def test_the_queue_filters_by_state_and_by_digest():
    one, two = factories.digest(entries=1), factories.digest()
    factories.comment(on=one.entries.get(), body="第一期论文下的评论", status="pending")
    factories.comment(on=two, body="第二期的评论", status="pending")
    factories.comment(on=two, body="第二期已通过", status="approved")
    client = logged_in(factories.moderator())
    html = client.get(f"{CHANGELIST}?on_digest={one.pk}").content.decode()
    assert "第一期论文下的评论" in html and "第二期的评论" not in html
    html = client.get(f"{CHANGELIST}?status__exact=approved").content.decode()
    assert "第二期已通过" in html and "第二期的评论" not in html


@pytest.mark.parametrize(
    ("action", "field", "expected"),
    [
        ("approve_selected", "status", "approved"),
        ("reject_selected", "status", "rejected"),
        ("spam_selected", "status", "spam"),
        ("pin_selected", "is_pinned", True),
    ],
)
def test_moderators_decide_in_bulk_and_each_decision_is_recorded(action, field, expected):
    digest = factories.digest()
    comments = [factories.comment(on=digest, status="pending") for _ in range(3)]
    moderator = factories.moderator()
    response = bulk(logged_in(moderator), action, comments)
    assert response.status_code == 302
    for comment in comments:
        comment.refresh_from_db()
        assert getattr(comment, field) == expected
        assert ModerationRecord.objects.filter(comment=comment, actor=moderator).exists()


def test_unpinning_and_approval_show_on_the_page_at_once():
    digest = factories.digest()
    comment = factories.comment(on=digest, status="pending", body="马上可见的评论")
    reader = Client()
    assert "马上可见的评论" not in reader.get(digest.get_absolute_url()).content.decode()
    client = logged_in(factories.moderator())
    bulk(client, "approve_selected", [comment])
    assert "马上可见的评论" in reader.get(digest.get_absolute_url()).content.decode()
    bulk(client, "pin_selected", [comment])
    assert "badge-pinned" in reader.get(digest.get_absolute_url()).content.decode()
    bulk(client, "unpin_selected", [comment])
    assert "badge-pinned" not in reader.get(digest.get_absolute_url()).content.decode()


def test_a_decision_announces_one_change_after_its_commit(django_capture_on_commit_callbacks):
    digest = factories.digest()
    comment = factories.comment(on=digest, status="pending")
    before = pages.generation()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        svc.comment_moderate(comment=comment, by=factories.moderator(), status="approved")
    assert pages.generation() == before  # nothing before the commit
    # One invalidation (and the related papers' check, reading/related.py, which finds their
    # text unchanged and computes nothing).
    invalidations = [c for c in callbacks if c.__qualname__.startswith("content_changed")]
    assert len(invalidations) == 1
    invalidations[0]()
    assert pages.generation() != before


def test_a_staff_reply_is_published_with_a_badge_and_approves_its_parent():
    digest = factories.digest(entries=1)
    entry = digest.entries.get()
    comment = factories.comment(on=entry, status="pending", body="请问代码开源吗?")
    moderator = factories.moderator()
    moderator.first_name = "编辑部"
    moderator.save()
    client = logged_in(moderator)
    url = f"{CHANGELIST}{comment.pk}/change/"
    response = admin_post(client, url, {"decision": "", "reply": "代码已在 GitHub 开源。"})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == "approved"
    reply = Comment.objects.get(parent=comment)
    assert reply.is_staff_reply and reply.staff_author == moderator
    html = Client().get(entry.get_absolute_url()).content.decode()
    assert html.index("请问代码开源吗?") < html.index("代码已在 GitHub 开源。")
    assert 'class="badge badge-staff"' in html and "编辑部" in html


def test_a_staff_reply_never_shows_the_login_name(english):
    digest = factories.digest(entries=1)
    comment = factories.comment(on=digest, status="approved", body="有数据集链接吗?")
    moderator = factories.moderator()  # no full name set
    reply = svc.comment_reply(comment=comment, by=moderator, body="数据集在论文附录里。")
    assert reply.author_name == "AI前沿推介 editors"
    html = Client().get(digest.get_absolute_url()).content.decode()
    assert moderator.get_username() not in html


def test_the_change_page_decides_one_comment():
    comment = factories.comment(on=factories.digest(), status="pending")
    client = logged_in(factories.moderator())
    url = f"{CHANGELIST}{comment.pk}/change/"
    assert client.get(url).status_code == 200
    admin_post(client, url, {"decision": "spam", "reply": ""})
    comment.refresh_from_db()
    assert comment.status == "spam"


def test_replies_cannot_be_pinned_and_spam_cannot_be_replied_to():
    digest = factories.digest()
    top = factories.comment(on=digest)
    reply = factories.comment(on=digest, parent=top)
    spam = factories.comment(on=digest, status="spam")
    moderator = factories.moderator()
    with pytest.raises(ValidationError):
        svc.comment_set_pinned(comment=reply, by=moderator, pinned=True)
    with pytest.raises(ValidationError):
        svc.comment_reply(comment=spam, by=moderator, body="hi")
    reply.refresh_from_db()
    assert not reply.is_pinned and not spam.replies.exists()


def test_closing_and_reopening_a_thread_through_the_admin():
    digest = factories.digest()
    moderator = factories.moderator()
    client = logged_in(moderator)
    admin_post(client, "/admin/comments/commentclosure/add/", {"digest": str(digest.pk)})
    assert CommentClosure.objects.filter(digest=digest).exists()
    assert post(csrf_client(), digest).status_code == 400
    closure = CommentClosure.objects.get()
    admin_post(client, f"/admin/comments/commentclosure/{closure.pk}/delete/", {"post": "yes"})
    assert not CommentClosure.objects.exists()
    actions = list(ModerationRecord.objects.filter(digest=digest).values_list("action", flat=True))
    assert sorted(actions) == ["closed", "opened"]
    assert post(csrf_client(), digest).status_code == 303


@pytest.mark.parametrize("mode", ["anonymise", "delete"])
def test_erasing_a_commenter_removes_their_personal_data_with_an_audit_record(mode):
    digest = factories.digest()
    mine = [
        factories.comment(on=digest, email="leaver@example.com", author_name="要离开的人")
        for _ in range(2)
    ]
    other = factories.comment(on=digest, email="stays@example.com")
    client = logged_in(factories.moderator())
    assert client.get(f"{CHANGELIST}erase/").status_code == 200
    response = admin_post(
        client,
        f"{CHANGELIST}erase/",
        {"email": "Leaver@example.com", "mode": mode, "reason": "读者来信", "confirm": "on"},
    )
    assert response.status_code == 302
    left = Comment.objects.filter(pk__in=[c.pk for c in mine])
    if mode == "delete":
        assert not left.exists()
    else:
        assert left.count() == 2
        for comment in left:
            assert (comment.author_name, comment.email, comment.email_hash) == ("", "", "")
            assert comment.ip_address is None and comment.user_agent == ""
    assert not Comment.objects.filter(email="leaver@example.com").exists()
    assert Comment.objects.get(pk=other.pk).email == "stays@example.com"
    record = ModerationRecord.objects.get(action="erased")
    assert "2" in record.reason and "leaver" not in record.reason.lower()
    assert "要离开的人" not in Client().get(digest.get_absolute_url()).content.decode()


def test_the_admin_index_shows_the_queue_counts_to_moderators_only():
    digest = factories.digest()
    for _ in range(3):
        factories.comment(on=digest, status="pending")
    html = logged_in(factories.moderator()).get("/admin/").content.decode()
    assert 'id="comment-queue"' in html
    assert re.search(r"status__exact=pending\">[^<]+</a></th><td>3</td>", html)
    editor = factories.user("editor", staff=True, perms=["papers.view_digest"])
    assert 'id="comment-queue"' not in logged_in(editor).get("/admin/").content.decode()


# --- permissions: every action, by someone without the moderation permission ---------

BULK_ACTIONS = [
    "approve_selected",
    "reject_selected",
    "spam_selected",
    "pin_selected",
    "unpin_selected",
]


@pytest.mark.parametrize("action", BULK_ACTIONS)
def test_staff_without_the_permission_cannot_run_a_bulk_action(action):
    comment = factories.comment(on=factories.digest(), status="pending", is_pinned=False)
    before = (comment.status, comment.is_pinned)
    response = bulk(logged_in(staff_without_moderation()), action, [comment])
    assert response.status_code == 403
    comment.refresh_from_db()
    assert (comment.status, comment.is_pinned) == before
    assert not ModerationRecord.objects.exists()


@pytest.mark.parametrize("action", BULK_ACTIONS)
def test_readers_and_anonymous_users_cannot_run_a_bulk_action(action):
    comment = factories.comment(on=factories.digest(), status="pending")
    reader = factories.user("plain-reader")
    for client in (logged_in(reader), Client(enforce_csrf_checks=True)):
        client.get("/admin/login/")
        response = bulk(client, action, [comment])
        assert response.status_code == 302  # to the login page
        assert "/admin/login/" in response["Location"]
    comment.refresh_from_db()
    assert comment.status == "pending"


@pytest.mark.parametrize(
    "data",
    [
        {"decision": "approve", "reply": ""},
        {"decision": "reject", "reply": ""},
        {"decision": "spam", "reply": ""},
        {"decision": "pin", "reply": ""},
        {"decision": "unpin", "reply": ""},
        {"decision": "", "reply": "一条冒充的回复"},
    ],
)
def test_crafted_change_page_posts_without_the_permission_are_403(data):
    comment = factories.comment(on=factories.digest(), status="pending")
    client = logged_in(staff_without_moderation())
    response = admin_post(client, f"{CHANGELIST}{comment.pk}/change/", data)
    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.status == "pending" and not comment.replies.exists()


def test_the_erase_page_is_403_without_the_permission():
    comment = factories.comment(on=factories.digest(), email="keep@example.com")
    client = logged_in(staff_without_moderation())
    assert client.get(f"{CHANGELIST}erase/").status_code == 403
    response = admin_post(
        client,
        f"{CHANGELIST}erase/",
        {"email": "keep@example.com", "mode": "delete", "confirm": "on"},
    )
    assert response.status_code == 403
    assert Comment.objects.filter(pk=comment.pk, email="keep@example.com").exists()


def test_closing_a_thread_is_403_without_the_permission():
    digest = factories.digest()
    client = logged_in(staff_without_moderation())
    response = admin_post(client, "/admin/comments/commentclosure/add/", {"digest": str(digest.pk)})
    assert response.status_code == 403
    assert not CommentClosure.objects.exists()


def test_every_service_refuses_a_user_without_the_permission():
    digest = factories.digest()
    comment = factories.comment(on=digest, status="pending")
    clerk = staff_without_moderation()
    calls = [
        lambda: svc.comment_moderate(comment=comment, by=clerk, status="approved"),
        lambda: svc.comment_moderate(comment=comment, by=clerk, status="spam"),
        lambda: svc.comment_set_pinned(comment=comment, by=clerk, pinned=True),
        lambda: svc.comment_reply(comment=comment, by=clerk, body="x"),
        lambda: svc.comments_close(digest=digest, by=clerk),
        lambda: svc.comments_reopen(digest=digest, by=clerk),
        lambda: svc.commenter_erase(email="a@example.com", by=clerk, delete=True),
        lambda: svc.comment_moderate(comment=comment, by=None, status="approved"),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    comment.refresh_from_db()
    assert comment.status == "pending"
    assert not ModerationRecord.objects.exists()


# --- telling moderators ---------------------------------------------------------------


def _age(comment, minutes):
    Comment.objects.filter(pk=comment.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes)
    )


def test_moderators_get_one_email_when_comments_wait_too_long(
    settings, django_capture_on_commit_callbacks
):
    settings.COMMENTS_NOTIFY_AFTER_MINUTES = 30
    settings.COMMENTS_NOTIFY_INTERVAL_MINUTES = 60
    moderator = factories.moderator()
    moderator.email = "mod@example.com"
    moderator.save()
    digest = factories.digest()
    fresh = factories.comment(on=digest, status="pending")

    def notify():
        with django_capture_on_commit_callbacks(execute=True):
            call_command("notify_moderators")

    notify()
    assert len(mail.outbox) == 0  # nothing has waited 30 minutes yet
    _age(fresh, 45)
    notify()
    notify()  # idempotent within the interval
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["mod@example.com"]
    assert mail.outbox[0].from_email == settings.DEFAULT_FROM_EMAIL
    assert "http://testserver.example/admin/comments/comment/" in mail.outbox[0].body
    ModerationRecord.objects.filter(action="notified").update(
        created_at=timezone.now() - datetime.timedelta(minutes=61)
    )
    notify()
    assert len(mail.outbox) == 2


def test_a_waiting_comment_has_the_worker_look_again_when_it_becomes_overdue(
    transactional_db, settings, django_capture_on_commit_callbacks
):
    import importlib

    from django.apps import apps
    from django_tasks_db.models import DBTaskResult

    # The worker commits as in production; a transactional test starts without seeded rows.
    importlib.import_module("papers.migrations.0002_seed_reference_data").seed(apps, None)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.COMMENTS_NOTIFY_AFTER_MINUTES = 30
    settings.COMMENTS_MODERATOR_EMAILS = ["queue@example.com"]
    digest = factories.digest()
    with django_capture_on_commit_callbacks(execute=True):
        post(csrf_client(), digest, body="等着审核的一条")
    comment = Comment.objects.get(body="等着审核的一条")
    check = DBTaskResult.objects.get(task_path__endswith="check_moderation_queue")
    assert comment.created_at + datetime.timedelta(minutes=30) < check.run_after
    assert check.run_after < comment.created_at + datetime.timedelta(minutes=31)
    assert mail.outbox == []  # nothing is sent from the reader's request

    _age(comment, 31)
    DBTaskResult.objects.filter(pk=check.pk).update(run_after=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("worker", batch=True, reload=False, verbosity=0)
    # The check queued a mail; the same worker sends it on its next round.
    call_command("worker", batch=True, reload=False, verbosity=0)
    assert [m.to for m in mail.outbox] == [["queue@example.com"]]
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 2


def test_the_change_page_shows_the_comment_rendered_and_inert():
    comment = factories.comment(
        on=factories.digest(), status="pending", body="<script>alert(1)</script> **要点**"
    )
    html = logged_in(factories.moderator()).get(f"{CHANGELIST}{comment.pk}/change/")
    html = html.content.decode()
    assert "<strong>要点</strong>" in html
    assert "<script>alert(1)" not in html
    assert 'name="reply"' in html and 'name="decision"' in html


def test_staff_without_the_permission_see_the_comment_but_no_decision_or_reply_box():
    comment = factories.comment(on=factories.digest(), status="pending")
    html = logged_in(staff_without_moderation()).get(f"{CHANGELIST}{comment.pk}/change/")
    html = html.content.decode()
    assert comment.body in html
    assert 'name="reply"' not in html and 'name="decision"' not in html
