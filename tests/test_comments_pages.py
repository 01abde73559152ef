"""Comment display costs a fixed number of queries whatever the number of comments
(pinned comments, replies and staff badges included)."""

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from comments import services as svc
from tests import factories
from tests.test_comments_posting import csrf_client, post

pytestmark = pytest.mark.django_db


def _fill(target, count):
    """``count`` approved comments: every tenth pinned, every fifth with a staff reply."""
    staff = factories.user(f"editor-{svc.target_key(target)}", staff=True)
    for n in range(count):
        top = factories.comment(on=target, body=f"评论 {n}", is_pinned=n % 10 == 0)
        if n % 5 == 0:
            factories.comment(
                on=target, parent=top, body=f"回复 {n}", is_staff_reply=True, staff_author=staff
            )


def _queries(client, url, target=None):
    # The rendering's queries: the page cache would answer the second request itself.
    with override_settings(PAGE_CACHE_ENABLED=False):
        client.get(url)  # warm the site-settings cache
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured), response.content.decode()


@pytest.mark.parametrize("size", [1, 200])
def test_digest_page_queries_stay_flat_with_comments(size):
    digest = factories.digest(entries=3)
    _fill(digest, size)
    count, html = _queries(Client(), digest.get_absolute_url(), digest)
    assert count <= 10
    assert html.count('<article class="comment') == size + (size + 4) // 5


@pytest.mark.parametrize("size", [1, 200])
def test_entry_page_queries_stay_flat_with_comments(size):
    digest = factories.digest(entries=3)
    entry = digest.entries.get(position=2)
    _fill(entry, size)
    count, html = _queries(Client(), entry.get_absolute_url(), entry)
    assert count <= 9
    assert html.count("badge-staff") == (size + 4) // 5


def test_query_counts_are_identical_with_1_and_200_comments():
    small, large = factories.digest(entries=1), factories.digest(entries=1)
    _fill(small, 1)
    _fill(large, 200)
    factories.comment(on=large, status="pending")  # hidden comments cost nothing either
    small_entry, large_entry = small.entries.get(), large.entries.get()
    factories.comment(on=small_entry)
    for n in range(200):
        factories.comment(on=large_entry, body=f"论文评论 {n}")
    for small_target, large_target in [(small, large), (small_entry, large_entry)]:
        assert (
            _queries(Client(), small_target.get_absolute_url(), small_target)[0]
            == _queries(Client(), large_target.get_absolute_url(), large_target)[0]
        )


def test_a_reader_with_a_waiting_comment_costs_only_the_session_lookup(settings):
    settings.COMMENTS_RATE_LIMITS = []
    digest = factories.digest(entries=1)
    _fill(digest, 20)
    anonymous, _html = _queries(Client(), digest.get_absolute_url())
    reader = csrf_client()
    post(reader, digest, body="我的评论")
    with_session, html = _queries(reader, digest.get_absolute_url())
    assert "我的评论" in html
    # The session row only: the thread query reads the reader's own waiting comment with
    # the approved ones.
    assert with_session == anonymous + 1


def test_a_moderators_approval_shows_on_the_very_next_render(settings):
    digest = factories.digest(entries=1)
    _fill(digest, 3)
    waiting = factories.comment(on=digest, body="等待审核的评论", status="pending")
    url = digest.get_absolute_url()
    assert "等待审核的评论" not in Client().get(url).content.decode()
    moderator = factories.user("moderator", staff=True, perms=["comments.moderate_comment"])
    svc.comment_moderate(comment=waiting, by=moderator, status="approved")
    html = Client().get(url).content.decode()
    assert "等待审核的评论" in html and "评论 2" in html
