"""The search page in Debian's Chromium at a phone's and a desktop's width, in light and dark:
highlighted results, facets with counts, removable filters and no-result suggestions, with
axe-core run on each state (issue 21, parts 2 and 3)."""

import pytest

from tests import test_browser
from tests.test_browser_reading import assert_accessible

CHROMIUM, HAVE_CHROMIUM = test_browser.CHROMIUM, test_browser.HAVE_CHROMIUM
browser = test_browser.browser  # the module-scoped Chromium fixture
demo = test_browser.demo  # the demo content behind a live server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason=f"{CHROMIUM} is not installed"),
]


def _fits(page):
    """Nothing is wider than the window (no sideways scrolling)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


@pytest.mark.parametrize("width", [390, 1280])
def test_search_facets_chips_and_suggestions_are_usable_and_accessible(
    browser, live_server, demo, width
):
    page = browser.new_page(locale="zh-CN", viewport={"width": width, "height": 900})
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.goto(live_server.url + "/search/?q=LLM")
        assert page.locator(".entry-row").count() >= 1
        assert page.locator(".entry-row-title mark, .title-zh mark, .snippet mark").count() >= 1
        facets = page.get_by_role("navigation", name="缩小结果范围")
        assert facets.get_by_role("heading", name="标签").count() == 1
        _fits(page)
        assert_accessible(page)

    # A tag of the result narrows it: one click, the count follows, a chip says so.
    page.emulate_media(color_scheme="light")
    tag = page.locator('.facet[aria-labelledby="facet-tag"] a.facet-value').first
    label = tag.inner_text()
    expected = int(tag.locator("xpath=..").locator(".count").inner_text())
    tag.click()
    page.wait_for_url("**tag=*")
    assert page.locator(".entry-row").count() == min(expected, 20)
    chips = page.locator(".chip")
    assert chips.count() == 2
    assert label in chips.nth(1).inner_text()
    _fits(page)
    assert_accessible(page)

    # Removing the chip is one click back to the search alone.
    chips.nth(1).click()
    page.wait_for_load_state()
    assert "tag=" not in page.url and page.locator(".chip").count() == 1

    # Nothing found: close tags and the list without the rarest filter are offered.
    page.goto(live_server.url + "/search/?q=强化&affiliation=nowhere-institute")
    suggestions = page.locator(".search-suggestions")
    assert suggestions.get_by_role("link", name="强化学习").count() == 1
    suggestions.get_by_role("link", name="去掉它再试").click()
    page.wait_for_load_state()
    assert page.locator(".entry-row").count() >= 1
    _fits(page)
    assert_accessible(page)
    page.close()
