"""Anti-spam rules: rate limits (and spoofed headers), shared limits through Redis,
the blocklist, link counts, auto-approval by history, and readers' flags."""

import threading

import pytest
from django.core.cache import caches
from django.test import Client, RequestFactory

from comments import services as svc
from comments.models import BlockedTerm, Comment, ModerationRecord
from tests import factories
from tests.redis_support import redis_caches, requires_redis
from tests.test_comments_posting import csrf_client, post

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/4"


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """Tests of other rules post several comments; rate-limit tests set their own limits."""
    settings.COMMENTS_RATE_LIMITS = []


class FrozenClock:
    """The rate limiter's clock, moved by hand (no test sleeps)."""

    def __init__(self, start=1_800_000_000):  # a multiple of 3600: windows start here
        self.now = float(start)

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    frozen = FrozenClock()
    monkeypatch.setattr(svc, "clock", frozen)
    return frozen


@pytest.fixture
def stamp_now(monkeypatch, clock):
    """Forms served 30 s before the frozen clock's now."""
    from django.core import signing

    return lambda: signing.dumps(int(clock.now) - 30, salt=svc._STAMP_SALT)


def test_a_second_comment_from_one_ip_within_15_seconds_gets_a_readable_429(
    settings, clock, stamp_now
):
    settings.COMMENTS_RATE_LIMITS = [(1, 15), (10, 3600)]
    digest = factories.digest()
    client = csrf_client()
    assert post(client, digest, body="一", stamp=stamp_now()).status_code == 303
    clock.now += 5
    response = post(client, digest, body="二", stamp=stamp_now())
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 10
    html = response.content.decode()
    assert "<h1" in html and "二" in html  # a page, with the reader's text kept
    clock.now += 10
    assert post(client, digest, body="三", stamp=stamp_now()).status_code == 303
    assert list(Comment.objects.values_list("body", flat=True).order_by("id")) == ["一", "三"]


def test_ten_comments_an_hour_per_ip(settings, clock, stamp_now):
    settings.COMMENTS_RATE_LIMITS = [(1, 15), (10, 3600)]
    digest = factories.digest()
    client = csrf_client()
    for n in range(10):
        assert post(client, digest, body=f"评论{n}", stamp=stamp_now()).status_code == 303
        clock.now += 16
    assert post(client, digest, body="第十一条", stamp=stamp_now()).status_code == 429
    clock.now += 3600
    assert post(client, digest, body="下一个小时", stamp=stamp_now()).status_code == 303


def test_the_same_email_is_limited_across_addresses(settings, clock, stamp_now):
    settings.COMMENTS_RATE_LIMITS = [(1, 15)]
    digest = factories.digest()
    one = Client(enforce_csrf_checks=True, REMOTE_ADDR="192.0.2.1")
    two = Client(enforce_csrf_checks=True, REMOTE_ADDR="192.0.2.2")
    assert post(one, digest, email="a@example.com", body="甲", stamp=stamp_now()).status_code == 303
    response = post(two, digest, email="A@Example.com", body="乙", stamp=stamp_now())
    assert response.status_code == 429
    three = Client(enforce_csrf_checks=True, REMOTE_ADDR="192.0.2.3")
    assert (
        post(three, digest, email="b@example.com", body="丙", stamp=stamp_now()).status_code == 303
    )


def test_a_spoofed_x_forwarded_for_does_not_dodge_the_limit(settings, clock, stamp_now):
    settings.COMMENTS_RATE_LIMITS = [(1, 15)]
    settings.TRUSTED_PROXY_COUNT = 0
    digest = factories.digest()
    client = csrf_client()
    client.defaults["HTTP_X_FORWARDED_FOR"] = "203.0.113.1"
    assert post(client, digest, body="一", stamp=stamp_now()).status_code == 303
    client.defaults["HTTP_X_FORWARDED_FOR"] = "203.0.113.2"
    assert post(client, digest, body="二", stamp=stamp_now()).status_code == 429
    assert Comment.objects.get().ip_address == "127.0.0.1"


def test_behind_a_trusted_proxy_the_address_it_saw_is_used(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    factory = RequestFactory()
    request = factory.get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.20"
    )
    assert svc.client_ip(request) == "198.51.100.20"  # "1.1.1.1" was written by the client
    request = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert svc.client_ip(request) == "10.0.0.2"
    request = factory.get("/", REMOTE_ADDR="10.0.0.2")
    assert svc.client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 2
    request = factory.get(
        "/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.20, 10.0.0.2"
    )
    assert svc.client_ip(request) == "198.51.100.20"


@requires_redis(REDIS_URL)
def test_rate_limits_are_shared_by_app_servers_through_redis(settings, clock):
    settings.CACHES = redis_caches(REDIS_URL, "test-comments")
    settings.COMMENTS_RATE_LIMITS = [(2, 60)]
    caches["default"].clear()
    try:
        results = []

        def server():  # each thread has its own cache connection, like another app server
            results.append(svc.rate_limited("post-ip", "198.51.100.99"))

        threads = [threading.Thread(target=server) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [0, 0, 60, 60]
    finally:
        caches["default"].clear()


def test_blocked_terms_hold_a_comment_whatever_the_commenters_history(settings):
    settings.COMMENTS_AUTO_APPROVE_AFTER = 1
    digest = factories.digest()
    factories.comment(on=digest, email="trusted@example.com")
    BlockedTerm.objects.create(term="Casino.example")
    BlockedTerm.objects.create(term="127.0.0.")
    post(csrf_client(), digest, email="trusted@example.com", body="visit casino.example now")
    held = Comment.objects.get(body="visit casino.example now")
    assert held.status == Comment.Status.PENDING
    assert "casino.example" in held.held_reason and "127.0.0." in held.held_reason
    record = ModerationRecord.objects.get(comment=held)
    assert record.action == "submitted" and "casino.example" in record.reason


@pytest.mark.parametrize(
    ("field", "value"), [("name", "Casino King"), ("email", "me@casino.example")]
)
def test_blocked_terms_match_the_name_and_email_too(field, value):
    BlockedTerm.objects.create(term="casino")
    post(csrf_client(), factories.digest(), **{field: value})
    assert "casino" in Comment.objects.get().held_reason


def test_too_many_links_hold_a_comment(settings):
    settings.COMMENTS_MAX_LINKS = 2
    settings.COMMENTS_AUTO_APPROVE_AFTER = 1
    digest = factories.digest()
    factories.comment(on=digest, email="regular@example.com")
    body = "https://a.example https://b.example [c](https://c.example)"
    post(csrf_client(), digest, email="regular@example.com", body=body)
    comment = Comment.objects.get(body=body)
    assert comment.status == Comment.Status.PENDING
    assert "3" in comment.held_reason


def test_commenters_with_enough_approved_comments_are_approved_when_enabled(settings):
    digest = factories.digest()
    for _ in range(2):
        factories.comment(on=digest, email="fan@example.com")
    settings.COMMENTS_AUTO_APPROVE_AFTER = 0  # off
    client = csrf_client()
    post(client, digest, email="fan@example.com", body="关闭时")
    assert Comment.objects.get(body="关闭时").status == Comment.Status.PENDING
    settings.COMMENTS_AUTO_APPROVE_AFTER = 3
    post(client, digest, email="fan@example.com", body="不够三条")
    assert Comment.objects.get(body="不够三条").status == Comment.Status.PENDING
    settings.COMMENTS_AUTO_APPROVE_AFTER = 2
    response = post(client, digest, email="FAN@example.com", body="够了")
    comment = Comment.objects.get(body="够了")
    assert comment.status == Comment.Status.APPROVED
    assert "够了" in Client().get(digest.get_absolute_url()).content.decode()
    assert ModerationRecord.objects.get(comment=comment).action == "auto_approved"
    assert response.status_code == 303


def test_a_commenter_with_spam_in_their_history_is_never_auto_approved(settings):
    settings.COMMENTS_AUTO_APPROVE_AFTER = 1
    digest = factories.digest()
    factories.comment(on=digest, email="mixed@example.com")
    factories.comment(on=digest, email="mixed@example.com", status="spam")
    post(csrf_client(), digest, email="mixed@example.com", body="新评论")
    assert Comment.objects.get(body="新评论").status == Comment.Status.PENDING


def test_enough_flags_from_different_readers_send_a_comment_back_to_the_queue(settings):
    settings.COMMENTS_FLAGS_TO_REQUEUE = 3
    digest = factories.digest()
    comment = factories.comment(on=digest, body="有争议的评论", is_pinned=True)
    for n in range(3):
        reader = Client(REMOTE_ADDR=f"192.0.2.{n + 1}")
        assert reader.post(f"/comments/{comment.pk}/flag/").status_code == 303
        comment.refresh_from_db()
        assert comment.status == ("pending" if n == 2 else "approved")
    assert not comment.is_pinned
    assert "3" in comment.held_reason
    assert ModerationRecord.objects.filter(comment=comment, action="requeued").count() == 1
    assert "有争议的评论" not in Client().get(digest.get_absolute_url()).content.decode()


def test_one_reader_cannot_flag_three_times_by_dropping_the_cookie(settings):
    settings.COMMENTS_FLAGS_TO_REQUEUE = 3
    comment = factories.comment(on=factories.digest())
    for _ in range(3):
        Client().post(f"/comments/{comment.pk}/flag/")  # a new session each time
    comment.refresh_from_db()
    assert comment.flag_count == 1 and comment.status == "approved"


def test_staff_replies_and_hidden_comments_cannot_be_flagged():
    digest = factories.digest()
    top = factories.comment(on=digest)
    reply = factories.comment(on=digest, parent=top, is_staff_reply=True)
    pending = factories.comment(on=digest, status="pending")
    for target in (reply, pending):
        assert Client().post(f"/comments/{target.pk}/flag/").status_code == 404


def test_after_a_moderator_reapproves_a_flagged_comment_flags_count_afresh(settings):
    settings.COMMENTS_FLAGS_TO_REQUEUE = 2
    comment = factories.comment(on=factories.digest())
    for n in (1, 2):
        Client(REMOTE_ADDR=f"192.0.2.{n}").post(f"/comments/{comment.pk}/flag/")
    comment.refresh_from_db()
    assert comment.status == "pending"
    svc.comment_moderate(comment=comment, by=factories.moderator(), status="approved")
    Client(REMOTE_ADDR="192.0.2.1").post(f"/comments/{comment.pk}/flag/")  # already flagged
    Client(REMOTE_ADDR="192.0.2.3").post(f"/comments/{comment.pk}/flag/")
    comment.refresh_from_db()
    assert (comment.status, comment.flag_count) == ("approved", 1)


def test_the_form_stamp_is_signed_once_per_second_and_key(clock, settings):
    """Every response of a cached page with a comment form fills in a stamp; within one
    second it is the same signed text, and it always tells its own second."""
    first = svc.form_stamp_value()
    assert svc.form_stamp_value() == first
    clock.now += 0.5
    assert svc.form_stamp_value() == first  # the same second
    clock.now += 1
    later = svc.form_stamp_value()
    assert later != first
    clock.now += 10
    assert svc.stamp_age(later) == pytest.approx(10.5)
    settings.SECRET_KEY = "another-key-for-this-test-only-" + "x" * 40
    assert svc.stamp_age(svc.form_stamp_value()) == pytest.approx(0.5)  # signed anew
