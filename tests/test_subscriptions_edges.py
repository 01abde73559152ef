"""Edges of sending found in review: a provider refusing one address, a go-live moved in the
middle of a send, an erasure that must leave no address, odd input to the sign-up page and to
the bounce reader."""

import datetime

import pytest
from anymail.exceptions import AnymailRecipientsRefused
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.test import Client

from subscriptions import bounces
from subscriptions import services as svc
from subscriptions.models import Delivery, Mailing, Subscriber, SubscriptionRecord
from tests import factories
from tests.test_subscriptions_bounces import confirmed

pytestmark = pytest.mark.django_db

REFUSED = "suppressed@example.com"


class ProviderRefusingOne(EmailBackend):
    """A provider (anymail) that will not deliver to one suppressed address."""

    def send_messages(self, messages):
        if any(REFUSED in m.to for m in messages):
            raise AnymailRecipientsRefused("the address is on the provider's suppression list")
        return super().send_messages(messages)


def live_digest(**fields):
    return factories.digest(entries=1, status="published", **fields)


def test_a_provider_refusing_one_address_fails_it_alone_and_the_mailing_goes_on(settings):
    settings.EMAIL_BACKEND = "tests.test_subscriptions_edges.ProviderRefusingOne"
    settings.SUBSCRIPTIONS_SEND_PER_SECOND = 0
    for address in ("first@example.com", REFUSED, "last@example.com"):
        confirmed(address)
    digest = live_digest()
    mailing = svc.mailing_prepare(digest, digest.published_at)
    sent, more = svc.send_batch(mailing)
    assert (sent, more) == (2, False)
    assert sorted(m.to[0] for m in mail.outbox) == ["first@example.com", "last@example.com"]
    refused = Subscriber.objects.get(email=REFUSED)
    assert refused.status == Subscriber.Status.BOUNCED
    assert Delivery.objects.get(subscriber=refused).state == Delivery.State.BOUNCED


def test_a_refusal_marks_that_digests_delivery_never_an_earlier_one(settings):
    settings.SUBSCRIPTIONS_SEND_PER_SECOND = 0
    reader = confirmed(REFUSED)
    first = live_digest(issue_date=datetime.date(2025, 9, 1))
    svc.send_batch(svc.mailing_prepare(first, first.published_at))
    settings.EMAIL_BACKEND = "tests.test_subscriptions_edges.ProviderRefusingOne"
    second = live_digest(issue_date=datetime.date(2025, 9, 2))
    svc.send_batch(svc.mailing_prepare(second, second.published_at))
    states = dict(Delivery.objects.filter(subscriber=reader).values_list("digest_id", "state"))
    assert states == {first.pk: Delivery.State.SENT, second.pk: Delivery.State.BOUNCED}


def test_a_go_live_moved_in_the_middle_of_a_send_still_reaches_everyone(settings):
    settings.SUBSCRIPTIONS_SEND_PER_SECOND = 0
    for n in range(5):
        confirmed(f"reader{n}@example.com")
    digest = live_digest()
    old = svc.mailing_prepare(digest, digest.published_at)
    svc.send_batch(old, size=2)
    moved = digest.published_at + datetime.timedelta(minutes=5)
    new = svc.mailing_prepare(digest, moved)
    svc.send_batch(new)
    assert len(mail.outbox) == 5 and len({m.to[0] for m in mail.outbox}) == 5
    old.refresh_from_db()
    assert old.finished_at is not None and Mailing.objects.filter(finished_at=None).count() == 0


def test_an_erased_address_is_left_in_no_answer_of_a_mail_server():
    reader = confirmed("gone@example.com")
    digest = live_digest()
    mailing = Mailing.objects.create(digest=digest, go_live=digest.published_at)
    Delivery.objects.create(
        mailing=mailing,
        digest=digest,
        subscriber=reader,
        state=Delivery.State.FAILED,
        error="550 5.1.1 <gone@example.com>: no such user",
    )
    svc.address_stop(email="gone@example.com", kind="bounced", reason="550 <gone@example.com>")
    editor = factories.user("editor", staff=True, perms=["subscriptions.delete_subscriber"])
    assert svc.subscriber_erase(email="gone@example.com", by=editor) == 1
    assert not any("gone@" in e for e in Delivery.objects.values_list("error", flat=True))
    assert not any(
        "gone@" in r for r in SubscriptionRecord.objects.values_list("reason", flat=True)
    )


def test_a_nul_in_the_sign_up_pages_address_names_nothing():
    response = Client().get("/subscribe/?tag=%00&category=cs.LG%00&tag=" + "x" * 50)
    assert response.status_code == 200


def test_a_bounce_with_an_eight_bit_diagnostic_is_read_not_a_crash():
    diagnostic = "smtp; 550 用户不存在".encode("gbk")
    raw = (
        b"From: MAILER-DAEMON@mx.example.cn\r\nTo: digest@example.com\r\n"
        b"Subject: Undelivered\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.cn\r\n\r\n"
        b"Final-Recipient: rfc822; gone@example.cn\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: " + diagnostic + b"\r\n\r\n--b--\r\n"
    )
    stops = bounces.read_report(raw)
    assert [(s.email, s.kind) for s in stops] == [("gone@example.cn", "bounced")]
