"""What only a browser shows about comments: the honeypot is invisible, and a reader
posts through the real form and sees their waiting comment."""

import pytest

from comments.models import Comment
from tests.test_browser import browser, demo, pytestmark  # noqa: F401 (shared fixtures)


@pytest.fixture
def quick_form(settings):
    settings.COMMENTS_MIN_FILL_SECONDS = 0  # the test types faster than a person


def test_reader_posts_a_comment_and_sees_it_waiting(browser, live_server, demo, quick_form):  # noqa: F811
    page = browser.new_page(locale="zh-CN")
    page.goto(live_server.url + "/digests/2025-09-28/ai-frontier-2025-09-28/")
    # The honeypot is rendered off-screen (bots fill it, people never see it).
    box = page.locator("#comment-website").bounding_box()
    assert box["x"] + box["width"] <= 0
    page.fill("#comment-name", "浏览器读者")
    page.fill("#comment-body", "第一篇的**结论**很有意思。")
    page.locator("#comment-form button[type=submit]").click()
    page.wait_for_url("**#comment-*")
    assert page.locator(".comment-notice").is_visible()
    pending = page.locator(".comment.is-pending")
    assert pending.locator("strong").inner_text() == "结论"
    assert Comment.objects.get(author_name="浏览器读者").status == "pending"
    page.close()
