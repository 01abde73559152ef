"""Bounces and complaints stop every later mail to an address: through a provider's
tracking webhook (django-anymail) and through returned mail read by process_bounces."""

import base64
import json
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from comments.models import Comment
from editorial import services as editorial
from subscriptions.models import Delivery, Subscriber, SubscriptionRecord
from tests import factories
from tests.conftest import run_commit_hooks

pytestmark = pytest.mark.django_db

AUTH = "Basic " + base64.b64encode(b"tracker:test-webhook-secret").decode()


def confirmed(address="reader@example.com"):
    return Subscriber.objects.create(
        email=address,
        key=address[:32],
        status=Subscriber.Status.CONFIRMED,
        confirmed_at=timezone.now(),
    )


def postmark(payload, auth=AUTH):
    return Client().post(
        "/anymail/postmark/tracking/",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )


def publish():
    from django.contrib.auth import get_user_model

    editor = get_user_model().objects.filter(username="editor").first() or factories.user(
        "editor", perms=["papers.publish_digest"]
    )
    digest = factories.digest(entries=1, status="draft")
    editorial.digest_publish(digest=digest, by=editor)
    run_commit_hooks()
    return digest


def test_a_hard_bounce_reported_by_the_provider_stops_the_address():
    subscriber = confirmed()
    publish()
    delivery = Delivery.objects.get()
    response = postmark(
        {
            "RecordType": "Bounce",
            "Type": "HardBounce",
            "TypeCode": 1,
            "MessageID": delivery.message_id,
            "Email": "Reader@example.com",
            "Description": "The server was unable to deliver your message",
            "Details": "smtp;550 5.1.1 The email account does not exist.",
            "BouncedAt": "2025-09-30T10:00:00Z",
        }
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    delivery.refresh_from_db()
    assert subscriber.status == Subscriber.Status.BOUNCED
    assert delivery.state == Delivery.State.BOUNCED
    mail.outbox.clear()
    publish()
    assert mail.outbox == []  # nothing more to that address


def test_a_spam_complaint_stops_digests_and_comment_notices():
    subscriber = confirmed()
    digest = factories.digest(entries=1)
    comment = factories.comment(on=digest, email="reader@example.com", notify=True)
    response = postmark(
        {
            "RecordType": "SpamComplaint",
            "Type": "SpamComplaint",
            "TypeCode": 512,
            "Email": "reader@example.com",
            "MessageID": "00000000-0000-0000-0000-000000000000",
            "BouncedAt": "2025-09-30T10:00:00Z",
        }
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    comment.refresh_from_db()
    assert subscriber.status == Subscriber.Status.COMPLAINED
    assert not comment.notify
    assert SubscriptionRecord.objects.filter(action="complained").count() == 1


def test_the_webhook_refuses_a_caller_without_its_secret():
    subscriber = confirmed()
    response = postmark(
        {"RecordType": "Bounce", "Type": "HardBounce", "TypeCode": 1, "Email": subscriber.email},
        auth="Basic " + base64.b64encode(b"tracker:guess").decode(),
    )
    assert response.status_code in (400, 401, 403)
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED


def test_a_delivery_and_an_open_change_nothing():
    subscriber = confirmed()
    postmark({"RecordType": "Delivery", "Recipient": subscriber.email, "MessageID": "x"})
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED


DSN = b"""From: MAILER-DAEMON@mx.example.net
To: webmaster@localhost
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system. Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; gone@example.com
Original-Recipient: rfc822;gone@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.com>: Recipient address rejected

Final-Recipient: rfc822; slow@example.com
Action: delayed
Status: 4.4.1

--B
Content-Type: text/rfc822-headers

Message-ID: <abc@testserver.example>
To: gone@example.com
Subject: AI

--B--
"""

ARF = b"""From: fbl@isp.example
To: webmaster@localhost
Subject: Abuse report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

A reader marked this message as spam.

--F
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeISP-FBL/1.0
Version: 1
Original-Rcpt-To: <annoyed@example.com>

--F
Content-Type: message/rfc822

From: webmaster@localhost
To: annoyed@example.com
Subject: AI
Message-ID: <def@testserver.example>

the digest
--F--
"""


def test_process_bounces_reads_a_delivery_status_report_and_stops_only_the_failed_address(
    tmp_path,
):
    gone, slow = confirmed("gone@example.com"), confirmed("slow@example.com")
    path = tmp_path / "bounce.eml"
    path.write_bytes(DSN)
    out = StringIO()
    call_command("process_bounces", str(path), stdout=out)
    gone.refresh_from_db()
    slow.refresh_from_db()
    assert gone.status == Subscriber.Status.BOUNCED and "5.1.1" in gone.stop_reason
    assert slow.status == Subscriber.Status.CONFIRMED  # a delay is not a bounce
    assert "stopped gone@example.com: bounced" in out.getvalue()


def test_process_bounces_reads_a_maildir_of_complaints_and_removes_what_it_read(tmp_path):
    annoyed = confirmed("annoyed@example.com")
    for folder in ("new", "cur", "tmp"):
        (tmp_path / folder).mkdir()
    (tmp_path / "new" / "1.eml").write_bytes(ARF)
    (tmp_path / "cur" / "2.eml").write_bytes(b"Subject: out of office\n\nback on Monday\n")
    out = StringIO()
    call_command("process_bounces", str(tmp_path), "--delete", stdout=out)
    annoyed.refresh_from_db()
    assert annoyed.status == Subscriber.Status.COMPLAINED
    assert "nothing to stop" in out.getvalue()
    assert not list((tmp_path / "new").iterdir()) and not list((tmp_path / "cur").iterdir())


def test_process_bounces_says_so_for_a_path_that_is_not_there(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no such file"):
        call_command("process_bounces", str(tmp_path / "missing"), stdout=StringIO())


def test_a_commenter_who_never_subscribed_is_found_by_a_bounce_too(tmp_path):
    digest = factories.digest(entries=1)
    comment = factories.comment(on=digest, email="gone@example.com", notify=True)
    path = tmp_path / "bounce.eml"
    path.write_bytes(DSN)
    call_command("process_bounces", str(path), stdout=StringIO())
    assert not Comment.objects.get(pk=comment.pk).notify
