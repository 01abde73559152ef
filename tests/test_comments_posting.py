"""Readers posting comments: the form, pre-moderation, replies, closed threads, refused
targets, hostile input. Rate limits and spam rules are in test_comments_spam.py."""

import datetime
import re
import time

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from comments import services as svc
from comments.models import Comment, CommentClosure, DroppedSubmissionCount, ModerationRecord
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.COMMENTS_RATE_LIMITS = []


def old_stamp(seconds: int = 30) -> str:
    """The hidden stamp of a form served ``seconds`` ago (a person takes a while to type)."""
    return signing.dumps(int(time.time()) - seconds, salt=svc._STAMP_SALT)


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def post(client, target, *, stamp=None, **fields):
    """Post the comment form as a browser would: load the page, then send the form."""
    page = client.get(target.get_absolute_url())
    assert page.status_code == 200
    data = {
        "target": svc.target_key(target),
        "stamp": stamp if stamp is not None else old_stamp(),
        "website": "",
        "name": "小明",
        "email": "",
        "body": "这篇论文的实验部分很扎实。",
    }
    data.update(fields)
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
    return client.post("/comments/", data, HTTP_X_CSRFTOKEN=token)


def test_published_digest_and_entry_pages_have_a_comment_form():
    digest = factories.digest(entries=1)
    client = csrf_client()
    for target in (digest, digest.entries.get()):
        html = client.get(target.get_absolute_url()).content.decode()
        assert 'id="comments"' in html
        assert 'action="/comments/"' in html
        assert f'name="target" value="{svc.target_key(target)}"' in html
        assert 'name="csrfmiddlewaretoken"' in html
        assert re.search(r'class="comment-hp" aria-hidden="true"', html)
        stamp = re.search(r'name="stamp" value="([^"]+)"', html).group(1)
        assert svc.stamp_age(stamp) is not None


def test_a_posted_comment_waits_for_moderation_and_only_its_author_sees_it():
    digest = factories.digest(entries=1)
    reader, stranger = csrf_client(), csrf_client()
    response = post(reader, digest, body="我认为第二篇最有意思。")
    assert response.status_code == 303
    comment = Comment.objects.get()
    assert comment.status == Comment.Status.PENDING
    assert response["Location"] == f"{digest.get_absolute_url()}#comment-{comment.pk}"
    page = reader.get(response["Location"])
    html = page.content.decode()
    assert 'class="comment-notice"' in html
    assert 'class="badge badge-pending"' in html
    assert "我认为第二篇最有意思。" in html
    assert "private" in page["Cache-Control"]
    other = stranger.get(digest.get_absolute_url())
    assert "我认为第二篇最有意思。" not in other.content.decode()
    assert page["X-Page-Cache"] == "bypass"  # rendered for the author alone
    assert other["X-Page-Cache"] != "bypass"  # the shared cached page
    assert ModerationRecord.objects.filter(comment=comment, action="submitted").exists()


def test_posting_without_a_csrf_token_is_refused():
    digest = factories.digest()
    client = csrf_client()
    client.get(digest.get_absolute_url())
    response = client.post(
        "/comments/",
        {"target": svc.target_key(digest), "stamp": old_stamp(), "name": "x", "body": "hi"},
    )
    assert response.status_code == 403
    assert not Comment.objects.exists()


def test_extra_post_fields_cannot_set_status_pin_ip_or_staff_flag():
    digest = factories.digest()
    client = csrf_client()
    post(
        client,
        digest,
        status="approved",
        is_pinned="on",
        pinned="1",
        ip_address="203.0.113.9",
        ip="203.0.113.9",
        is_staff_reply="1",
        held_reason="",
    )
    comment = Comment.objects.get()
    assert comment.status == Comment.Status.PENDING
    assert not comment.is_pinned and not comment.is_staff_reply
    assert comment.ip_address == "127.0.0.1"


@pytest.mark.parametrize("status", ["draft", "review"])
def test_comments_on_unpublished_digests_or_their_entries_are_404(status):
    digest = factories.digest(entries=1, status=status)
    client = csrf_client()
    client.get("/")  # a CSRF cookie from any page
    token = client.cookies["csrftoken"].value
    for target in (digest, digest.entries.get()):
        response = client.post(
            "/comments/",
            {"target": svc.target_key(target), "stamp": old_stamp(), "name": "x", "body": "hi"},
            HTTP_X_CSRFTOKEN=token,
        )
        assert response.status_code == 404
    assert not Comment.objects.exists()


def test_comments_on_scheduled_missing_or_malformed_targets_are_refused():
    scheduled = factories.digest(published_at=timezone.now() + datetime.timedelta(hours=2))
    client = csrf_client()
    client.get("/")
    token = client.cookies["csrftoken"].value
    for target, expected in [
        (f"digest:{scheduled.pk}", 404),
        ("digest:999999", 404),
        ("entry:999999", 404),
        ("paper:1", 400),
        ("digest:abc", 400),
        ("", 400),
    ]:
        response = client.post(
            "/comments/",
            {"target": target, "stamp": old_stamp(), "name": "x", "body": "hi"},
            HTTP_X_CSRFTOKEN=token,
        )
        assert response.status_code == expected, target
    assert not Comment.objects.exists()


def test_archived_digests_and_closed_threads_refuse_comments_and_show_why():
    archived = factories.digest(status="archived")
    closed = factories.digest(entries=1)
    CommentClosure.objects.create(digest=closed)
    client = csrf_client()
    for target in (archived, closed, closed.entries.get()):
        html = client.get(target.get_absolute_url()).content.decode()
        assert 'class="comments-closed"' in html
        assert 'action="/comments/"' not in html
        response = post(client, target)
        assert response.status_code == 400
    assert not Comment.objects.exists()


def test_comments_close_automatically_after_the_configured_days(settings):
    settings.COMMENTS_CLOSE_AFTER_DAYS = 7
    old = factories.digest(published_at=timezone.now() - datetime.timedelta(days=8))
    recent = factories.digest(published_at=timezone.now() - datetime.timedelta(days=6))
    client = csrf_client()
    assert post(client, old).status_code == 400
    assert post(client, recent).status_code == 303
    settings.COMMENTS_CLOSE_AFTER_DAYS = 0  # never
    assert post(client, old, body="另一条评论").status_code == 303


def test_approved_comments_show_pinned_first_with_time_and_staff_badge(client):
    digest = factories.digest()
    first = factories.comment(on=digest, body="最早的一条评论")
    pinned = factories.comment(on=digest, body="被精选的评论", is_pinned=True)
    factories.comment(on=digest, body="被拒绝的评论", status="rejected")
    factories.comment(on=digest, body="待审核的评论", status="pending")
    staff = factories.user("editor", staff=True)
    factories.comment(
        on=digest, parent=first, body="作者的回复", is_staff_reply=True, staff_author=staff
    )
    html = client.get(digest.get_absolute_url()).content.decode()
    assert html.index("被精选的评论") < html.index("最早的一条评论") < html.index("作者的回复")
    assert "被拒绝的评论" not in html and "待审核的评论" not in html
    assert 'class="badge badge-staff"' in html
    assert 'class="badge badge-pinned"' in html
    block = html[html.index(f'id="comment-{pinned.pk}"') :]
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT', block)
    assert '<span class="comment-count">(3)</span>' in html  # two comments and a reply
    assert f'href="/comments/{first.pk}/reply/"' in html


def test_a_reader_replies_one_level_deep():
    digest = factories.digest()
    top = factories.comment(on=digest)
    reply = factories.comment(on=digest, parent=top)
    client = csrf_client()
    assert client.get(f"/comments/{top.pk}/reply/").status_code == 200
    post(client, digest, parent=str(reply.pk), body="回复一条回复")
    new = Comment.objects.get(body="回复一条回复")
    assert new.parent_id == top.pk  # a reply to a reply joins the thread


def test_replies_to_hidden_comments_or_other_pages_are_refused():
    digest, other = factories.digest(), factories.digest()
    pending = factories.comment(on=digest, status="pending")
    elsewhere = factories.comment(on=other)
    client = csrf_client()
    assert post(client, digest, parent=str(pending.pk), body="a").status_code == 400
    assert post(client, digest, parent=str(elsewhere.pk), body="b").status_code == 400
    assert post(client, digest, parent="999999", body="c").status_code == 400
    assert client.get(f"/comments/{pending.pk}/reply/").status_code == 404
    assert Comment.objects.count() == 2


def test_a_too_long_comment_gets_a_form_error_and_keeps_the_text(settings):
    settings.COMMENTS_MAX_LENGTH = 100
    digest = factories.digest()
    response = post(csrf_client(), digest, body="长" * 101)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="comment-body-errors"' in html
    assert "长" * 101 in html
    assert not Comment.objects.exists()


def test_a_one_megabyte_post_is_refused_before_it_is_read():
    digest = factories.digest()
    response = post(csrf_client(), digest, body="x" * (1024 * 1024))
    assert response.status_code == 413
    assert not Comment.objects.exists()


def test_nul_bytes_are_refused_and_bidi_overrides_removed():
    digest = factories.digest()
    client = csrf_client()
    assert post(client, digest, body="abc\x00def").status_code == 400
    assert post(client, digest, name="小\x00明").status_code == 400
    assert not Comment.objects.exists()
    post(client, digest, name="Eve\u202egnp.exe", body="看这里\u202e\u2066txt.exe\u2069")
    comment = Comment.objects.get()
    assert comment.author_name == "Evegnp.exe"
    assert "\u202e" not in comment.body and "\u2066" not in comment.body
    assert "\u202e" not in comment.body_html


HOSTILE = [
    "<script>alert('x')</script>",
    "[click](javascript:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<img src=x onerror="alert(1)">',
    "<a href=\"javascript:alert(1)\">x</a> <iframe src='//evil.example'></iframe>",
    "![pic](javascript:alert(1)) [ok](https://example.org/paper)",
]


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_bodies_are_stored_as_typed_and_rendered_inert(body):
    digest = factories.digest()
    post(csrf_client(), digest, body=body)
    comment = Comment.objects.get()
    assert comment.body == body  # the moderator sees what was sent
    Comment.objects.filter(pk=comment.pk).update(status="approved")
    html = Client().get(digest.get_absolute_url()).content.decode()
    section = html[html.index('id="comments"') :]
    assert "<script>alert" not in section
    assert "<img" not in section and "<iframe" not in section
    assert re.search(r"<a\s[^>]*href=\"?\s*(javascript|data):", section, re.I) is None
    assert re.search(r"<[^>]+\sonerror=", section) is None
    for link in re.findall(r"<a [^>]*href=\"https?://[^>]*>", comment.body_html):
        assert 'rel="nofollow ugc noopener"' in link


def test_markdown_links_get_nofollow_ugc_noopener():
    comment = factories.comment(on=factories.digest(), body="见 [论文](https://arxiv.org/abs/1)")
    assert comment.body_html == (
        '<p>见 <a href="https://arxiv.org/abs/1" rel="nofollow ugc noopener">论文</a></p>'
    )


def test_the_honeypot_drops_the_comment_but_shows_the_same_message():
    digest = factories.digest()
    client = csrf_client()
    response = post(client, digest, website="http://spam.example")
    assert response.status_code == 303
    assert not Comment.objects.exists()
    page = client.get(response["Location"])
    assert 'class="comment-notice"' in page.content.decode()
    assert "private" in page["Cache-Control"]  # the notice is for this reader only
    assert DroppedSubmissionCount.objects.get(reason="honeypot").count == 1


def test_forms_sent_too_fast_or_without_a_valid_stamp_are_dropped(settings):
    settings.COMMENTS_MIN_FILL_SECONDS = 5
    digest = factories.digest()
    client = csrf_client()
    assert post(client, digest, stamp=old_stamp(1)).status_code == 303
    assert post(client, digest, stamp="forged", body="二").status_code == 303
    assert post(client, digest, stamp="", body="三").status_code == 303
    assert not Comment.objects.exists()
    counts = dict(DroppedSubmissionCount.objects.values_list("reason", "count"))
    assert counts == {"too-fast": 1, "no-stamp": 2}
    assert post(client, digest, stamp=old_stamp(6), body="四").status_code == 303
    assert Comment.objects.count() == 1


def test_an_expired_form_asks_the_reader_to_send_again(settings):
    settings.COMMENTS_FORM_MAX_AGE_SECONDS = 3600
    digest = factories.digest()
    response = post(csrf_client(), digest, stamp=old_stamp(7200), body="保留的文字")
    assert response.status_code == 400
    assert "保留的文字" in response.content.decode()
    assert not Comment.objects.exists()


def test_the_same_comment_sent_twice_is_stored_once():
    digest = factories.digest()
    client = csrf_client()
    first = post(client, digest, body="同样的内容")
    second = post(client, digest, body="同样的  内容")  # whitespace differences too
    assert Comment.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert post(client, factories.digest(), body="同样的内容").status_code == 303
    assert Comment.objects.count() == 2  # another target is another comment


def test_the_same_text_from_another_reader_is_stored_but_held_as_a_spam_signal(settings):
    settings.COMMENTS_AUTO_APPROVE_AFTER = 1
    digest = factories.digest()
    factories.comment(on=digest, email="regular@example.com")
    post(Client(enforce_csrf_checks=True, REMOTE_ADDR="192.0.2.1"), digest, body="谢谢分享")
    post(
        Client(enforce_csrf_checks=True, REMOTE_ADDR="192.0.2.2"),
        digest,
        body="谢谢分享",
        email="regular@example.com",
    )
    assert Comment.objects.filter(body="谢谢分享").count() == 2
    second = Comment.objects.get(body="谢谢分享", email="regular@example.com")
    assert second.status == Comment.Status.PENDING  # held despite the commenter's history
    assert "1" in second.held_reason


def test_a_reader_reports_a_comment_once():
    digest = factories.digest()
    comment = factories.comment(on=digest)
    client = csrf_client()
    client.get(digest.get_absolute_url())
    token = client.cookies["csrftoken"].value
    for _ in range(2):
        response = client.post(f"/comments/{comment.pk}/flag/", HTTP_X_CSRFTOKEN=token)
        assert response.status_code == 303
    comment.refresh_from_db()
    assert comment.flag_count == 1
    assert csrf_client().post(f"/comments/{comment.pk}/flag/").status_code == 403  # no CSRF


def test_the_reply_page_of_a_closed_thread_says_so():
    digest = factories.digest()
    top = factories.comment(on=digest)
    CommentClosure.objects.create(digest=digest)
    response = Client().get(f"/comments/{top.pk}/reply/")
    assert response.status_code == 400
    assert 'name="body"' not in response.content.decode()
    assert (
        f'href="/comments/{top.pk}/reply/"'
        not in Client().get(digest.get_absolute_url()).content.decode()
    )


def test_flags_are_rate_limited_per_address(settings):
    settings.COMMENTS_FLAG_RATE_LIMITS = [(2, 3600)]
    digest = factories.digest()
    comments = [factories.comment(on=digest) for _ in range(3)]
    client = Client(REMOTE_ADDR="192.0.2.50")
    codes = [client.post(f"/comments/{c.pk}/flag/").status_code for c in comments]
    assert codes == [303, 303, 429]
    assert sum(Comment.objects.values_list("flag_count", flat=True)) == 2


def test_the_413_page_is_a_readable_page():
    digest = factories.digest()
    response = post(csrf_client(), digest, body="y" * (64 * 1024))
    assert response.status_code == 413
    assert "<h1" in response.content.decode()
