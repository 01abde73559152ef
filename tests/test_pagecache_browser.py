"""The page cache in Chromium: two readers served one cached page each get a working
language switch (their tokens arrive inside the gzip stream put together for each), and
the view count shown is the current one, not the cached copy's."""

import pytest

from tests import test_browser

CHROMIUM, HAVE_CHROMIUM = test_browser.CHROMIUM, test_browser.HAVE_CHROMIUM
browser = test_browser.browser  # the module-scoped Chromium fixture
demo = test_browser.demo  # the demo content behind a live server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason=f"{CHROMIUM} is not installed"),
]
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


def test_readers_of_a_cached_page_are_counted_and_can_switch_language(
    browser, live_server, demo, settings
):
    from papers.models import Digest
    from readership import counting

    digest = Digest.objects.get(issue_date="2025-09-28")
    url = live_server.url + digest.get_absolute_url()
    for reader in range(2):
        # Two readers: on one test machine they share an address, so their browsers differ
        # (a reader is an address and a browser: readership/counting.py).
        agent = DESKTOP if reader == 0 else DESKTOP.replace("Chrome/120.0", "Chrome/121.0")
        context = browser.new_context(user_agent=agent, locale="zh-CN")
        page = context.new_page()
        violations = []
        page.on("console", lambda m, v=violations: v.append(m.text) if m.type == "error" else None)
        response = page.goto(url)
        assert response.headers["x-page-cache"] == ("miss" if reader == 0 else "hit")
        assert response.headers["content-encoding"] == "gzip"  # Chromium asks for it
        assert "x-readership-page" not in response.headers
        # Counted on the server, from the page cache too, with no script.
        assert counting.pending("digest", [digest.pk])[digest.pk] == reader + 1
        page.get_by_label("语言").select_option("en")
        page.get_by_role("button", name="切换").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "en"
        assert not violations, violations
        context.close()
