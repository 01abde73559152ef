"""Under the Content-Security-Policy, the public pages and the admin's JavaScript still work
in a real browser (Debian's Chromium), and the browser reports no violation."""

import pytest
from django.contrib.auth import get_user_model

from tests.test_browser import browser, demo, pytestmark  # noqa: F401 (fixtures and markers)


def _watch_csp(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


def test_public_pages_load_without_a_single_policy_violation(browser, live_server, demo):  # noqa: F811
    page = browser.new_page(locale="zh-CN")
    violations = _watch_csp(page)
    for path in ("/", "/digests/2025-09-28/ai-frontier-2025-09-28/", "/no-such-page/"):
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
    assert violations == []
    # The stylesheet applied (a blocked stylesheet would leave the browser's default margin).
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"
    page.close()


@pytest.fixture
def editor_login(live_server, demo):  # noqa: F811
    get_user_model().objects.create_superuser("chief", password="pw-for-browser-tests")
    return ("chief", "pw-for-browser-tests")


def test_the_admins_javascript_runs_under_the_policy(browser, live_server, editor_login):  # noqa: F811
    page = browser.new_page(locale="en-US")
    violations = _watch_csp(page)
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", editor_login[0])
    page.fill("#id_password", editor_login[1])
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto(live_server.url + "/admin/papers/digest/add/")
    # prepopulate.js fills the slug from the title as the editor types.
    page.locator("#id_title").press_sequentially("Weekly Robots Roundup")
    assert page.input_value("#id_slug") == "weekly-robots-roundup"
    # The changelist's "select all" checkbox is driven by actions.js.
    page.goto(live_server.url + "/admin/papers/digest/")
    page.check("#action-toggle")
    assert page.locator("input.action-select:checked").count() >= 1
    assert violations == []
    page.close()
