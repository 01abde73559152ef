"""The real path of the digest by mail: the worker on the database backend, mail sent over
SMTP to a local server the test starts (aiosmtpd), a reader confirming through the link in
the mail it received, a publish mailing each confirmed subscriber exactly once, a worker
killed mid-send and restarted without sending anyone the digest twice."""

import datetime
import json
import signal
import subprocess
import sys
import time

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from editorial import services as editorial
from subscriptions import services as svc
from subscriptions.models import Delivery, Mailing, Subscriber
from tests import factories
from tests.subscription_support import SMTPServer, html_of, link_to, sign_up, text_of
from tests.test_background_worker import DATABASE_BACKEND, python
from tests.test_production_backup import ROOT, _child_env, _database_url_for_child

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def run_worker():
    call_command("worker", batch=True, reload=False, verbosity=0)


@pytest.fixture
def smtp():
    server = SMTPServer()
    yield server
    server.stop()


@pytest.fixture
def real_path(transactional_db, settings, smtp):
    """The database backend with the worker in this process, mail over SMTP to ``smtp``."""
    import importlib

    from django.apps import apps

    importlib.import_module("papers.migrations.0002_seed_reference_data").seed(apps, None)
    settings.TASKS = DATABASE_BACKEND
    settings.EMAIL_BACKEND = SMTP_BACKEND
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
    settings.SUBSCRIPTIONS_SEND_PER_SECOND = 0
    settings.SUBSCRIPTIONS_RATE_LIMITS = []
    return smtp


def editor():
    from django.contrib.auth import get_user_model

    found = get_user_model().objects.filter(username="editor").first()
    return found or factories.user("editor", staff=True, perms=["papers.publish_digest"])


def draft(**fields):
    return factories.digest(entries=2, status="draft", **fields)


def add_confirmed(address, **choices) -> Subscriber:
    subscriber = Subscriber.objects.create(
        email=address,
        key=address.replace("@", "-").replace(".", "-")[:32],
        status=Subscriber.Status.CONFIRMED,
        confirmed_at=timezone.now(),
        everything=not choices,
    )
    if "tags" in choices:
        from taggit.models import Tag

        subscriber.tags.add(*Tag.objects.filter(name__in=choices["tags"]))
    if "categories" in choices:
        subscriber.categories.add(*choices["categories"])
    return subscriber


def test_a_reader_confirms_through_the_mailed_link_and_gets_the_digest_once(real_path):
    smtp = real_path
    sign_up(email_address="duxiaoming@example.com")
    assert smtp.inbox.recipients() == []  # the request does not wait for the mail server
    run_worker()
    [confirmation] = smtp.inbox.to("duxiaoming@example.com")
    assert confirmation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = link_to(text_of(confirmation), "/subscription/confirm/")
    client = Client(enforce_csrf_checks=True)
    assert client.get(path).status_code == 200
    client.post(path, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED

    digest = draft()
    run_worker()
    assert len(smtp.inbox.to("duxiaoming@example.com")) == 1  # a draft is never mailed
    editorial.digest_publish(digest=digest, by=editor())
    run_worker()
    mails = smtp.inbox.to("duxiaoming@example.com")
    assert [m["Subject"] for m in mails[1:]] == [digest.title]
    # Published again (new times): still one copy.
    editorial.digest_publish(digest=digest, by=editor(), at=timezone.now())
    run_worker()
    assert len(smtp.inbox.to("duxiaoming@example.com")) == 2


def test_a_publish_sends_exactly_one_mail_per_confirmed_subscriber_who_wants_it(
    real_path, settings
):
    settings.SUBSCRIPTIONS_BATCH_SIZE = 3  # several batches, each a task of its own
    smtp = real_path
    lg = factories.category("cs.LG")
    cl = factories.category("cs.CL", "Computation and Language")
    digest = draft()  # its papers are cs.LG
    digest.tags.add("强化学习")
    everyone = [add_confirmed(f"reader{n}@example.com") for n in range(7)]
    by_category = add_confirmed("lg@example.com", categories=[lg])
    by_tag = add_confirmed("rl@example.com", tags=["强化学习"])
    add_confirmed("cl@example.com", categories=[cl])  # wants other topics
    pending = add_confirmed("pending@example.com")
    Subscriber.objects.filter(pk=pending.pk).update(status="pending", confirmed_at=None)
    left = add_confirmed("left@example.com")
    Subscriber.objects.filter(pk=left.pk).update(status="unsubscribed")

    editorial.digest_publish(digest=digest, by=editor())
    run_worker()
    expected = sorted([s.email for s in everyone] + [by_category.email, by_tag.email])
    assert sorted(smtp.inbox.recipients()) == expected
    mailing = Mailing.objects.get()
    assert mailing.intended == 9 and mailing.finished_at is not None
    report = svc.mailing_report([mailing])[mailing.pk]
    assert report["sent"] == 9 and report["failed"] == 0 and report["queued"] == 0


def test_the_mail_is_the_digest_with_inline_styles_absolute_links_and_a_text_part(real_path):
    smtp = real_path
    add_confirmed("reader@example.com")
    digest = draft(title="AI前沿推介(9.30)", summary="本期关注“推理”与「蒸馏」：五篇论文。")
    editorial.digest_publish(digest=digest, by=editor())
    run_worker()
    [message] = smtp.inbox.to("reader@example.com")
    assert message["Subject"] == "AI前沿推介(9.30)"
    html, text = html_of(message), text_of(message)
    assert "<style" not in html and 'style="' in html
    assert (
        "本期关注“推理”与「蒸馏」：五篇论文。" in html
        and "本期关注“推理”与「蒸馏」：五篇论文。" in text
    )
    assert "要点" in text and "- 要点第一条" in text  # the sections' own text, bullets kept
    hrefs = [h.split('"')[0] for h in html.split('href="')[1:]]
    assert hrefs and all(h.startswith(("http://testserver.example/", "https://")) for h in hrefs)
    assert f"http://testserver.example{digest.get_absolute_url()}" in text
    unsubscribe = str(message["List-Unsubscribe"]).strip().strip("<>")
    assert unsubscribe in html and unsubscribe in text  # the visible link too
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # A mail program's one-click button: a POST with no cookie, token or login.
    response = Client(enforce_csrf_checks=True).post(
        unsubscribe.removeprefix("http://testserver.example"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED
    editorial.digest_publish(digest=draft(), by=editor())
    run_worker()
    assert len(smtp.inbox.to("reader@example.com")) == 1


def test_a_scheduled_digest_goes_out_at_its_time_and_not_if_unpublished_before(real_path):
    smtp = real_path
    add_confirmed("reader@example.com")
    now = timezone.now()
    first, second = draft(), draft()
    editorial.digest_schedule(digest=first, by=editor(), at=now + datetime.timedelta(hours=2))
    editorial.digest_schedule(digest=second, by=editor(), at=now + datetime.timedelta(hours=2))
    run_worker()
    assert smtp.inbox.recipients() == []  # not yet
    editorial.digest_unpublish(digest=second, by=editor())
    with time_machine.travel(now + datetime.timedelta(hours=2, minutes=1), tick=True):
        run_worker()
    assert [m["Subject"] for m in smtp.inbox.to("reader@example.com")] == [first.title]


def test_a_permanent_refusal_stops_the_address_and_the_report_counts_it(real_path):
    smtp = real_path
    add_confirmed("gone@example.com")
    add_confirmed("here@example.com")
    smtp.inbox.refuse.add("gone@example.com")
    editorial.digest_publish(digest=draft(), by=editor())
    run_worker()
    assert smtp.inbox.recipients() == ["here@example.com"]
    gone = Subscriber.objects.get(email="gone@example.com")
    assert gone.status == Subscriber.Status.BOUNCED and "550" in gone.stop_reason
    mailing = Mailing.objects.get()
    report = svc.mailing_report([mailing])[mailing.pk]
    assert (report["sent"], report["bounced"]) == (1, 1)
    editorial.digest_publish(digest=draft(), by=editor())
    run_worker()
    assert smtp.inbox.recipients() == ["here@example.com", "here@example.com"]


def test_a_mail_server_that_is_down_delays_the_send_and_loses_nobody(real_path, settings):
    smtp = real_path
    add_confirmed("reader@example.com")
    smtp.stop()
    settings.EMAIL_TIMEOUT = 2
    editorial.digest_publish(digest=draft(), by=editor())
    run_worker()  # the attempt fails; the next one waits its back-off
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.QUEUED
    server = SMTPServer()
    try:
        settings.EMAIL_PORT = server.port
        with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2), tick=True):
            run_worker()
        assert server.inbox.recipients() == ["reader@example.com"]
    finally:
        server.stop()
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT


# --- a worker in its own process, killed mid-send --------------------------------------

COUNT = """
import json
import django
django.setup()
from django.db.models import Count
from subscriptions.models import Delivery
print(json.dumps(dict(Delivery.objects.values_list("state").annotate(n=Count("pk")).order_by())))
"""


def start_worker(env):
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--no-reload", "--interval", "0.1", "--batch"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_send_killed_mid_way_and_restarted_finishes_without_sending_anyone_twice(
    real_path, tmp_path
):
    smtp = real_path
    env = _child_env(_database_url_for_child(tmp_path), tmp_path)
    env.update(
        TEST_TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        TEST_EMAIL_BACKEND=SMTP_BACKEND,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp.port),
        SUBSCRIPTIONS_SEND_PER_SECOND="40",
        SUBSCRIPTIONS_BATCH_SIZE="25",
    )
    script = f"""
import django
django.setup()
from django.utils import timezone
from editorial import services
from subscriptions.models import Subscriber
from tests import factories
Subscriber.objects.bulk_create([
    Subscriber(email=f"reader{{n}}@example.com", key=f"key{{n}}", status="confirmed",
               confirmed_at=timezone.now())
    for n in range({(total := 60)})
])
editor = factories.user("editor", staff=True, perms=["papers.publish_digest"])
digest = factories.digest(entries=1, status="draft")
services.digest_publish(digest=digest, by=editor)
"""
    python(script, env=env)
    worker = start_worker(env)
    try:
        deadline = time.monotonic() + 60
        while len(smtp.inbox.recipients()) < 15:
            assert worker.poll() is None, worker.stdout.read()
            assert time.monotonic() < deadline, "the worker sent nothing"
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)  # mid-send: out of memory, a lost machine
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    before = len(smtp.inbox.recipients())
    assert before < total

    restarted = start_worker({**env, "TASKS_ABANDONED_AFTER": "0"})
    output = restarted.communicate(timeout=120)[0]
    assert restarted.returncode == 0, output
    received = smtp.inbox.recipients()
    assert len(received) == len(set(received))  # nobody twice
    states = json.loads(python(COUNT, env=env).strip().splitlines()[-1])
    assert states.get("sent", 0) + states.get("failed", 0) == total
    assert states.get("failed", 0) <= 1  # at most the one mail claimed when it was killed
    assert len(received) in (states["sent"], states["sent"] + states.get("failed", 0))
