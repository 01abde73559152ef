"""The sign-up form and the subscriber's page in Debian's Chromium: a reader subscribes to
chosen topics, confirms through the mailed link, changes their choices and unsubscribes."""

import pytest
from django.core import mail

from subscriptions.models import Subscriber
from tests.subscription_support import link_to
from tests.test_browser import HAVE_CHROMIUM, browser, demo  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not HAVE_CHROMIUM and not __import__("os").environ.get("CI"),
        reason="Debian's chromium is not installed (.ci/run installs it)",
    ),
]


@pytest.fixture
def site(demo, settings, live_server):  # noqa: F811
    settings.COMMENTS_MIN_FILL_SECONDS = 0  # the browser fills the form in no time
    settings.SUBSCRIPTIONS_RATE_LIMITS = []
    settings.SITE_URL = live_server.url
    return live_server.url


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        v["id"]
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def test_a_reader_subscribes_confirms_changes_choices_and_unsubscribes(browser, site):  # noqa: F811
    page = browser.new_page(locale="zh-CN")
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(site + "/")
    page.get_by_role("link", name="订阅").first.click()
    page.wait_for_url("**/subscribe/")
    assert page.locator("h1").inner_text() == "邮件订阅"
    assert serious_violations(page) == []

    # A mistyped address is a form error, and the choices are kept.
    page.fill("#subscribe-email", "reader@")
    page.check("input[name=scope][value=chosen]")
    page.check("input[name=categories][value='cs.LG']")
    page.get_by_role("button", name="订阅").click()
    assert page.locator("#subscribe-email-errors").is_visible()
    assert page.locator("input[name=categories][value='cs.LG']").is_checked()

    page.fill("#subscribe-email", "reader@example.com")
    page.get_by_role("button", name="订阅").click()
    page.wait_for_url("**/subscription/sent/")
    assert page.locator("h1").inner_text() == "请查收邮件"
    subscriber = Subscriber.objects.get()
    assert subscriber.status == "pending" and not subscriber.everything

    [confirmation] = mail.outbox
    page.goto(site + link_to(confirmation.body, "/subscription/confirm/"))
    page.get_by_role("button", name="确认").click()
    page.wait_for_url("**/subscription/*/")
    assert "订阅已确认" in page.locator(".comment-notice").first.inner_text()
    assert page.locator("input[name=categories][value='cs.LG']").is_checked()
    assert serious_violations(page) == []

    page.check("input[name=scope][value=all]")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()
    subscriber.refresh_from_db()
    assert subscriber.everything and subscriber.status == "confirmed"

    page.locator(".unsubscribe-form button").click()
    page.wait_for_url("**/unsubscribe/")
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed"
    # The one error is the mistyped address's 400; nothing broke the page's policy.
    assert [e for e in errors if "status of 400" not in e] == []
    page.close()
