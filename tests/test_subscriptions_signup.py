"""Readers subscribing by mail: the form and its defences, double opt-in, the management
page and one-click unsubscribe. Mail lands in mail.outbox (tasks run at once); the real
worker and SMTP server are in test_subscriptions_sending.py."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from comments.models import DroppedSubmissionCount
from subscriptions import services as svc
from subscriptions.models import Subscriber, SubscriptionRecord
from tests import factories
from tests.conftest import run_commit_hooks
from tests.subscription_support import link_to, sign_up

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.SUBSCRIPTIONS_RATE_LIMITS = []


def confirmed(address="reader@example.com", **choices) -> Subscriber:
    sign_up(email_address=address, **choices)
    subscriber = Subscriber.objects.get(email=address)
    return svc.subscriber_confirm(subscriber=subscriber)


def test_a_reader_signs_up_and_is_sent_only_a_confirmation_link():
    response = sign_up(email_address="  Reader@Example.com ")
    assert response.status_code == 303
    assert response["Location"] == "/subscription/sent/"
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "reader@example.com"
    assert subscriber.status == Subscriber.Status.PENDING
    assert [m.to for m in mail.outbox] == [["reader@example.com"]]
    message = mail.outbox[0]
    assert "/subscription/confirm/" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith("<http://testserver.example/")


def test_the_confirmation_link_shows_a_button_and_only_pressing_it_confirms():
    sign_up()
    path = link_to(mail.outbox[0].body, "/subscription/confirm/")
    client = Client(enforce_csrf_checks=True)
    page = client.get(path)  # what a mail scanner does
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    token = client.cookies["csrftoken"].value
    done = client.post(path, HTTP_X_CSRFTOKEN=token)
    assert done.status_code == 303
    assert done["Location"].startswith("/subscription/")
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.CONFIRMED and subscriber.confirmed_at
    page = client.get(done["Location"])
    assert "reader@example.com" in page.content.decode()


def test_a_confirmation_link_older_than_48_hours_has_expired():
    sign_up()
    path = link_to(mail.outbox[0].body, "/subscription/confirm/")
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=48, minutes=1)):
        page = Client().get(path)
    assert page.status_code == 410
    assert "48" in page.content.decode()
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_a_changed_link_is_refused_with_a_message():
    sign_up()
    path = link_to(mail.outbox[0].body, "/subscription/confirm/")
    for bad in (path[:-3] + "xx/", "/subscription/nonsense/", "/subscription/a:b/unsubscribe/"):
        response = Client().post(bad)
        assert response.status_code == 400, bad
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_signing_up_an_address_many_times_sends_one_confirmation_an_hour():
    for _ in range(5):
        assert sign_up().status_code == 303
    assert len(mail.outbox) == 1
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=61)):
        sign_up()
    assert len(mail.outbox) == 2
    assert Subscriber.objects.count() == 1


def test_signing_up_a_subscribed_address_mails_its_page_and_changes_nothing(settings):
    subscriber = confirmed(scope="all")
    mail.outbox.clear()
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        response = sign_up(scope="chosen", categories=["cs.LG"])
    assert response["Location"] == "/subscription/sent/"  # the page says the same to all
    subscriber.refresh_from_db()
    assert subscriber.everything and subscriber.status == Subscriber.Status.CONFIRMED
    assert len(mail.outbox) == 1
    assert f"/subscription/{svc.manage_token(subscriber)}/" in mail.outbox[0].body


def test_an_invalid_address_gets_a_form_error_and_nothing_is_stored():
    for bad in ("not-an-address", "a@", "小明@", ""):
        response = sign_up(email_address=bad)
        assert response.status_code == 400, bad
        assert 'id="subscribe-email-errors"' in response.content.decode()
    assert not Subscriber.objects.exists() and mail.outbox == []


def test_choosing_topics_needs_at_least_one_tag_or_category():
    factories.category("cs.CL", "Computation and Language")
    response = sign_up(scope="chosen")
    assert response.status_code == 400
    assert "at least one tag or category" in response.content.decode() or "至少" in (
        response.content.decode()
    )
    assert sign_up(scope="chosen", categories=["cs.CL"]).status_code == 303
    subscriber = Subscriber.objects.get()
    assert not subscriber.everything
    assert [c.code for c in subscriber.categories.all()] == ["cs.CL"]


def test_the_form_refuses_a_post_without_its_csrf_token():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/subscribe/", {"email": "reader@example.com", "scope": "all"})
    assert response.status_code == 403
    assert not Subscriber.objects.exists()


def test_a_bot_filling_the_honeypot_sees_the_same_page_and_nothing_is_sent():
    response = sign_up(website="http://spam.example")
    assert response.status_code == 303 and response["Location"] == "/subscription/sent/"
    too_fast = sign_up(email_address="fast@example.com", stamp=svc_stamp_now())
    assert too_fast["Location"] == "/subscription/sent/"
    assert not Subscriber.objects.exists() and mail.outbox == []
    counts = dict(DroppedSubmissionCount.objects.values_list("reason", "count"))
    assert counts == {"subscribe-honeypot": 1, "subscribe-too-fast": 1}


def svc_stamp_now():
    from comments.services import form_stamp_value

    return form_stamp_value()


def test_sign_ups_from_one_address_are_rate_limited(settings):
    settings.SUBSCRIPTIONS_RATE_LIMITS = [(2, 60)]
    assert sign_up(email_address="a@example.com").status_code == 303
    assert sign_up(email_address="b@example.com").status_code == 303
    refused = sign_up(email_address="c@example.com")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert sorted(Subscriber.objects.values_list("email", flat=True)) == [
        "a@example.com",
        "b@example.com",
    ]


def test_one_click_unsubscribe_works_without_a_login_or_a_csrf_token():
    subscriber = confirmed()
    url = f"/subscription/{svc.manage_token(subscriber)}/unsubscribe/"
    client = Client(enforce_csrf_checks=True)
    assert client.get(url).status_code == 200  # a scanner following the link
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert client.post(url, {"List-Unsubscribe": "One-Click"}).status_code == 200  # twice: fine
    record = SubscriptionRecord.objects.filter(action="unsubscribed").get()
    assert record.subscriber == subscriber


def test_the_management_page_changes_choices_and_subscribes_again():
    factories.category("cs.CL", "Computation and Language")
    subscriber = confirmed()
    client = Client(enforce_csrf_checks=True)
    url = f"/subscription/{svc.manage_token(subscriber)}/"
    page = client.get(url)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    token = client.cookies["csrftoken"].value
    saved = client.post(url, {"scope": "chosen", "categories": ["cs.CL"]}, HTTP_X_CSRFTOKEN=token)
    assert saved.status_code == 303
    subscriber.refresh_from_db()
    assert not subscriber.everything
    client.post(f"{url}unsubscribe/")
    client.post(url, {"action": "resubscribe"}, HTTP_X_CSRFTOKEN=token)
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED


def test_the_public_sign_up_page_is_cached_and_costs_few_queries(
    settings, django_assert_max_num_queries
):
    settings.PAGE_CACHE_ENABLED = True
    for size in (1, 12):
        for _ in range(size):
            digest = factories.digest(entries=2)
            digest.tags.add(f"话题{digest.pk}")
        from django.core.cache import caches

        for alias in caches:
            caches[alias].clear()
        with django_assert_max_num_queries(8):
            first = Client().get("/subscribe/?tag=" + f"话题{digest.pk}")
        assert first.status_code == 200
        assert f'value="话题{digest.pk}" checked' in first.content.decode()
        with django_assert_max_num_queries(8):
            Client().get("/subscribe/")
        with django_assert_max_num_queries(0):
            again = Client().get("/subscribe/")
        assert again["X-Page-Cache"] == "hit"


def test_a_made_up_tag_or_category_in_the_address_is_shown_but_never_stored(settings):
    settings.PAGE_CACHE_ENABLED = True
    for query in ("tag=nonsense", "category=xx.NO"):
        Client().get(f"/subscribe/?{query}")
        again = Client().get(f"/subscribe/?{query}")
        assert again.status_code == 200 and again["X-Page-Cache"] != "hit"


def test_one_reminder_at_most_goes_to_an_unconfirmed_address():
    sign_up()
    subscriber = Subscriber.objects.get()
    asked = subscriber.confirmation_sent_at.isoformat()
    later = timezone.now() + datetime.timedelta(hours=25)
    with time_machine.travel(later):
        assert svc.remind_unconfirmed.call(subscriber.pk, asked) == "reminded"
        assert svc.remind_unconfirmed.call(subscriber.pk, asked) == "already reminded"
    run_commit_hooks()
    assert len(mail.outbox) == 2
    assert "/subscription/confirm/" in mail.outbox[1].body
    with time_machine.travel(later + datetime.timedelta(hours=49)):
        assert svc.forget_unconfirmed.call(subscriber.pk) == "removed"
    assert not Subscriber.objects.exists()


def test_the_daily_sweep_forgets_every_address_that_never_confirmed_and_keeps_the_rest():
    now = timezone.now()
    day = datetime.timedelta(days=1)

    def subscriber(email, status, *, asked, reminded=None, confirmed=None):
        return Subscriber.objects.create(
            email=email,
            key=email[:32],
            status=status,
            confirmation_sent_at=asked,
            reminded_at=reminded,
            confirmed_at=confirmed,
        )

    Status = Subscriber.Status
    # Signed up again after the reminder: the per-address task found its link fresh then.
    subscriber("again@example.com", Status.PENDING, asked=now - 3 * day, reminded=now - 5 * day)
    # Pressed "unsubscribe" in the confirmation mail, never confirmed.
    subscriber("nope@example.com", Status.UNSUBSCRIBED, asked=now - 3 * day)
    kept = {
        subscriber("fresh@example.com", Status.PENDING, asked=now - datetime.timedelta(hours=2)),
        subscriber("reminded@example.com", Status.PENDING, asked=now - 3 * day, reminded=now - day),
        subscriber(
            "left@example.com", Status.UNSUBSCRIBED, asked=now - 9 * day, confirmed=now - 8 * day
        ),
        subscriber(
            "reader@example.com", Status.CONFIRMED, asked=now - 9 * day, confirmed=now - 8 * day
        ),
        subscriber("bounced@example.com", Status.BOUNCED, asked=now - 9 * day),
    }
    assert svc.forget_never_confirmed.call() == "Removed 2 unconfirmed sign-up(s)."
    assert set(Subscriber.objects.all()) == kept
    record = SubscriptionRecord.objects.get(action=SubscriptionRecord.Action.EXPIRED)
    assert "2" in record.reason


def test_the_worker_starts_one_daily_sweep_however_often_it_starts(settings):
    from django_tasks_db.models import DBTaskResult

    from background.tasks import worker_ready

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.SUBSCRIPTIONS_WORKER_SWEEPS = True
    worker_ready.send(sender=None)
    worker_ready.send(sender=None)
    waiting = DBTaskResult.objects.filter(task_path=svc.forget_never_confirmed.module_path)
    assert waiting.count() == 1
