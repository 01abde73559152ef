"""The audit log records every transition (who, when, from, to, message); editors are told
by email when something waits for review; the admin index is an editorial dashboard."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from editorial import services
from editorial.models import AuditRecord
from tests import factories
from tests.workflow_support import change_url, client_for, csrf_post, digest_form_data, role_user

pytestmark = pytest.mark.django_db

WHEN = datetime.datetime(2030, 2, 3, 4, 5, tzinfo=datetime.UTC)


def test_every_transition_writes_one_audit_record(time_machine):
    time_machine.move_to(WHEN, tick=False)
    author, editor = role_user("author"), role_user("editor")
    digest = factories.digest(entries=1, status="draft")
    later = WHEN + datetime.timedelta(days=1)
    steps = [
        (lambda: services.digest_submit(digest=digest, by=author, message="请审"), author),
        (lambda: services.digest_send_back(digest=digest, by=editor, message="补图"), editor),
        (lambda: services.digest_submit(digest=digest, by=author, message="补好了"), author),
        (lambda: services.digest_approve(digest=digest, by=editor, message="好"), editor),
        (lambda: services.digest_unpublish(digest=digest, by=editor, message="撤下"), editor),
        (lambda: services.digest_schedule(digest=digest, by=editor, at=later), editor),
        (lambda: services.digest_unpublish(digest=digest, by=editor), editor),
        (lambda: services.digest_publish(digest=digest, by=editor, at=WHEN), editor),
        (lambda: services.digest_archive(digest=digest, by=editor, message="旧了"), editor),
    ]
    for step, _user in steps:
        step()
    records = list(AuditRecord.objects.filter(digest=digest).order_by("id"))
    assert [(r.action, r.from_status, r.to_status) for r in records] == [
        ("submit", "draft", "review"),
        ("send_back", "review", "draft"),
        ("submit", "draft", "review"),
        ("approve", "review", "published"),
        ("unpublish", "published", "draft"),
        ("schedule", "draft", "published"),
        ("unpublish", "published", "draft"),
        ("publish", "draft", "published"),
        ("archive", "published", "archived"),
    ]
    assert [r.actor for r in records] == [user for _step, user in steps]
    assert [r.message for r in records][:4] == ["请审", "补图", "补好了", "好"]
    assert all(r.created_at == WHEN for r in records)
    assert records[5].effective_at == later


def test_a_transition_from_the_wrong_state_is_refused_and_not_recorded():
    from django.core.exceptions import ValidationError

    editor = role_user("editor")
    draft = factories.digest(entries=1, status="draft")
    for attempt in (
        lambda: services.digest_approve(digest=draft, by=editor),
        lambda: services.digest_send_back(digest=draft, by=editor, message="x"),
        lambda: services.digest_archive(digest=draft, by=editor),
        lambda: services.digest_unpublish(digest=draft, by=editor),
    ):
        with pytest.raises(ValidationError):
            attempt()
    review = factories.digest(entries=1, status="review")
    with pytest.raises(ValidationError):
        services.digest_send_back(digest=review, by=editor, message="  ")
    assert not AuditRecord.objects.exists()


def test_sending_back_without_a_message_is_an_error_on_the_page():
    editor = role_user("editor")
    digest = factories.digest(entries=1, status="review")
    client = client_for(editor)
    response = csrf_post(client, change_url(digest), digest_form_data(digest, _send_back="1"))
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert any("message" in str(m).lower() or "说明" in str(m) for m in page.context["messages"])
    digest.refresh_from_db()
    assert digest.status == "review"


def test_editors_get_an_email_when_a_digest_is_submitted(django_capture_on_commit_callbacks):
    author, editor = role_user("author"), role_user("editor")
    role_user("moderator")
    digest = factories.digest(entries=1, status="draft", title="等审的一期")
    with django_capture_on_commit_callbacks(execute=True):
        response = csrf_post(
            client_for(author),
            change_url(digest),
            digest_form_data(digest, _submit="1", workflow_message="第三篇需要看一下"),
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [editor.email]
    assert "等审的一期" in message.subject
    assert "第三篇需要看一下" in message.body and "author" in message.body
    link = "http://testserver.example" + reverse("admin:papers_digest_change", args=[digest.pk])
    assert link in message.body  # absolute: a mail client has no host to resolve it against
    assert message.from_email == settings.DEFAULT_FROM_EMAIL


def test_the_admin_index_is_an_editorial_dashboard(time_machine):
    time_machine.move_to(WHEN, tick=False)
    author, editor = role_user("author"), role_user("editor")
    mine = factories.digest(entries=1, status="draft", title="我的草稿")
    services.revision_record(digest=mine, by=author)
    factories.digest(entries=1, status="draft", title="别人的草稿")
    factories.digest(entries=1, status="review", title="等审的")
    factories.digest(
        entries=1,
        status="published",
        published_at=WHEN + datetime.timedelta(hours=4),
        title="明天的",
    )
    factories.digest(entries=1, status="published", title="刚发布的")

    html = client_for(author).get(reverse("admin:index")).content.decode()
    dashboard = html[html.index('id="editorial-dashboard"') :]
    mine_block = dashboard[: dashboard.index("等审的")]
    assert "我的草稿" in mine_block and "别人的草稿" not in mine_block
    assert "等审的" in dashboard and "刚发布的" in dashboard
    assert "明天的" in dashboard and "2030-02-03 16:05 (Asia/Shanghai)" in dashboard
    # Authors cannot moderate: no comment-moderation box.
    assert 'id="comment-queue"' not in dashboard
    assert client_for(editor).get(reverse("admin:index")).status_code == 200


def test_the_dashboard_costs_a_fixed_number_of_queries():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    editor = role_user("editor")
    client = client_for(editor)

    def count():
        client.get(reverse("admin:index"))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("admin:index")).status_code == 200
        return len(captured)

    def add(n):
        for _ in range(n):
            mine = factories.digest(entries=2, status="draft")
            services.revision_record(digest=mine, by=editor)
            factories.digest(entries=2, status="review")
            factories.digest(entries=1, status="published", published_at=timezone.now())
            factories.digest(
                entries=1,
                status="published",
                published_at=timezone.now() + datetime.timedelta(days=1),
            )

    add(1)
    small = count()
    add(20)
    assert count() == small == 9


def test_the_author_sees_why_a_digest_was_sent_back_until_resubmitting():
    author, editor = role_user("author"), role_user("editor")
    digest = factories.digest(entries=1, status="review")
    services.digest_send_back(digest=digest, by=editor, message="第二篇的不足写得太少")
    client = client_for(author)
    assert "第二篇的不足写得太少" in client.get(change_url(digest)).content.decode()
    services.digest_submit(digest=digest, by=author)
    services.digest_send_back(digest=digest, by=editor, message="再看看摘要")
    html = client.get(change_url(digest)).content.decode()
    assert "再看看摘要" in html and "第二篇的不足写得太少" not in html


def test_the_author_is_told_by_email_when_a_digest_comes_back(
    django_capture_on_commit_callbacks,
):
    author, editor = role_user("author"), role_user("editor")
    digest = factories.digest(entries=1, status="draft", title="要退回的一期")
    services.digest_submit(digest=digest, by=author)
    with django_capture_on_commit_callbacks(execute=True):
        services.digest_send_back(digest=digest, by=editor, message="图一缺少来源")
    assert [m.to for m in mail.outbox] == [[author.email]]
    assert "要退回的一期" in mail.outbox[0].subject and "图一缺少来源" in mail.outbox[0].body


def test_creating_a_digest_in_the_admin_is_audited_with_a_first_revision():
    author = role_user("author")
    paper = factories.paper()
    data = {
        "title": "新的一期",
        "slug": "new-issue",
        "issue_date": "2030-01-05",
        "summary": "",
        "tags": "",
        "base_revision": "0",
        "workflow_message": "从零开始",
        "published_at_0": "",
        "published_at_1": "",
        "expires_at_0": "",
        "expires_at_1": "",
        "entries-TOTAL_FORMS": "1",
        "entries-INITIAL_FORMS": "0",
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
        "entries-0-position": "1",
        "entries-0-paper": paper.pk,
        "entries-0-title_zh": "第一篇",
        "entries-0-tags": "",
    }
    response = csrf_post(client_for(author), reverse("admin:papers_digest_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    record = AuditRecord.objects.get(action="create")
    assert record.actor == author and record.message == "从零开始" and record.to_status == "draft"
    revision = record.digest.revisions.get()
    assert revision.number == 1 and revision.snapshot["entries"][0]["title_zh"] == "第一篇"


def test_the_audit_log_outlives_a_deleted_digest():
    editor = role_user("editor")
    digest = factories.digest(entries=1, status="draft", title="将被删除的一期")
    services.digest_submit(digest=digest, by=editor)
    response = csrf_post(
        client_for(editor),
        reverse("admin:papers_digest_delete", args=[digest.pk]),
        {"post": "yes"},
    )
    assert response.status_code == 302
    records = AuditRecord.objects.order_by("id")
    assert [r.action for r in records] == ["submit", "delete"]
    assert all(r.digest is None and "将被删除的一期" in r.digest_label for r in records)
    assert records.last().actor == editor


def test_an_author_cannot_delete_a_digest():
    digest = factories.digest(entries=1, status="draft")
    response = csrf_post(
        client_for(role_user("author")),
        reverse("admin:papers_digest_delete", args=[digest.pk]),
        {"post": "yes"},
    )
    assert response.status_code == 403
    assert digest.__class__.objects.filter(pk=digest.pk).exists()


def test_an_archived_digest_stays_readable_marked_and_leaves_the_home_page(client):
    digest = factories.digest(entries=1, status="published", title="要归档的一期")
    assert "要归档的一期" in client.get(reverse("reading:home")).content.decode()
    services.digest_archive(digest=digest, by=role_user("editor"))
    page = client.get(digest.get_absolute_url())
    assert page.status_code == 200 and 'class="badge"' in page.content.decode()
    assert "要归档的一期" not in client.get(reverse("reading:home")).content.decode()
