"""Subscribers in the back office: the CSV export and erasure by address (audited,
permission checked on the server), the send report, and the digest's mail page where
editors preview the mail and send a test to themselves before publishing."""

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.utils import timezone

from subscriptions.models import Subscriber, SubscriptionRecord
from tests import factories
from tests.conftest import run_commit_hooks

pytestmark = pytest.mark.django_db


def staff(name, group=None, email=""):
    account = factories.user(name, staff=True)
    account.email = email
    account.save()
    if group:
        account.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(account)
    return account, client


def confirmed(address):
    return Subscriber.objects.create(
        email=address,
        key=address[:32],
        status=Subscriber.Status.CONFIRMED,
        confirmed_at=timezone.now(),
    )


def test_an_editor_exports_the_subscribers_as_csv_and_the_export_is_recorded():
    confirmed("a@example.com")
    confirmed("b@example.com")
    editor, client = staff("editor", "Editor")
    response = client.get("/admin/subscriptions/subscriber/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["email", "status", "every_digest"]
    assert [r[0] for r in rows[1:]] == ["a@example.com", "b@example.com"]
    record = SubscriptionRecord.objects.get(action="exported")
    assert record.actor == editor and "2" in record.reason


def test_an_address_that_starts_like_a_formula_is_exported_as_text():
    # "=" and "+" may start an address's local part: a spreadsheet must not run it.
    confirmed("=1+2@example.com")
    _editor, client = staff("editor", "Editor")
    response = client.get("/admin/subscriptions/subscriber/export/")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["'=1+2@example.com"]


def test_an_author_can_neither_export_nor_erase():
    confirmed("a@example.com")
    _author, client = staff("author", "Author")
    assert client.get("/admin/subscriptions/subscriber/export/").status_code == 403
    response = client.post(
        "/admin/subscriptions/subscriber/erase/", {"email": "a@example.com", "confirm": "on"}
    )
    assert response.status_code == 403
    assert Subscriber.objects.count() == 1


def test_an_editor_erases_an_address_and_the_record_keeps_no_address():
    subscriber = confirmed("leave.me@example.com")
    SubscriptionRecord.objects.create(action="confirmed", subscriber=subscriber)
    editor, client = staff("editor", "Editor")
    form = "/admin/subscriptions/subscriber/erase/"
    assert client.post(form, {"email": "not an address", "confirm": "on"}).status_code == 200
    response = client.post(
        form, {"email": "Leave.Me@example.com", "reason": "asked on 3 May", "confirm": "on"}
    )
    assert response.status_code == 302
    assert not Subscriber.objects.exists()
    record = SubscriptionRecord.objects.get(action="erased")
    assert record.actor == editor and "asked on 3 May" in record.reason
    assert not any("leave.me" in r.reason for r in SubscriptionRecord.objects.all())


def test_the_send_report_lists_intended_sent_failed_and_bounced():
    from editorial import services as editorial

    confirmed("a@example.com")
    confirmed("b@example.com")
    editor, client = staff("editor", "Editor")
    digest = factories.digest(entries=1, status="draft")
    editorial.digest_publish(digest=digest, by=editor)
    run_commit_hooks()
    page = client.get("/admin/subscriptions/mailing/")
    assert page.status_code == 200
    html = page.content.decode()
    assert digest.title in html
    mail_page = client.get(f"/admin/papers/digest/{digest.pk}/mail/").content.decode()
    assert "<td>2</td><td>2</td><td>0</td><td>0</td>" in mail_page


def test_an_editor_previews_the_mail_of_a_draft_and_sends_a_test_to_themselves_only():
    confirmed("reader@example.com")
    editor, client = staff("editor", "Editor", email="editor@example.com")
    digest = factories.digest(entries=2, status="draft", title="AI前沿推介(10.1)")
    page = client.get(f"/admin/papers/digest/{digest.pk}/mail/")
    assert page.status_code == 200
    preview = client.get(f"/admin/papers/digest/{digest.pk}/mail/html/")
    assert preview.status_code == 200
    assert 'style="' in preview.content.decode() and "AI前沿推介(10.1)" in preview.content.decode()
    csp = preview["Content-Security-Policy"]
    assert "'unsafe-inline'" in csp and "sandbox" in csp and "script-src 'self'" in csp
    text = client.get(f"/admin/papers/digest/{digest.pk}/mail/text/")
    assert (
        text["Content-Type"].startswith("text/plain")
        and "AI前沿推介(10.1)" in text.content.decode()
    )
    response = client.post(f"/admin/papers/digest/{digest.pk}/mail/", {"to": "x@example.com"})
    assert response.status_code == 302
    run_commit_hooks()
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["editor@example.com"], mail.outbox[0].subject)
    ]
    assert "AI前沿推介(10.1)" in mail.outbox[0].subject
    assert SubscriptionRecord.objects.filter(action="test_sent", actor=editor).exists()


def test_staff_without_the_right_cannot_preview_or_send_a_test():
    digest = factories.digest(entries=1, status="draft")
    _moderator, client = staff("moderator", "Moderator", email="m@example.com")
    assert client.get(f"/admin/papers/digest/{digest.pk}/mail/").status_code == 403
    assert client.post(f"/admin/papers/digest/{digest.pk}/mail/").status_code == 403
    assert client.get(f"/admin/papers/digest/{digest.pk}/mail/html/").status_code == 403
    run_commit_hooks()
    assert mail.outbox == []
