"""Reading in Debian's Chromium: from the home page to a digest, a tag filter, a Chinese
search, the language and theme switches, with axe-core (bundled in the PyPI package
axe-playwright-python, never downloaded at test time) run on every page."""

import pytest

from tests import test_browser

CHROMIUM, HAVE_CHROMIUM = test_browser.CHROMIUM, test_browser.HAVE_CHROMIUM
browser = test_browser.browser  # the module-scoped Chromium fixture
demo = test_browser.demo  # the demo content behind a live server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason=f"{CHROMIUM} is not installed"),
]


def assert_accessible(page):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, f"{page.url}: " + "\n".join(serious)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_reader_browses_filters_and_searches_with_no_serious_axe_violations(
    browser, live_server, demo, scheme
):
    page = browser.new_page(locale="zh-CN", color_scheme=scheme)
    page.goto(live_server.url + "/")
    assert_accessible(page)
    page.get_by_role("link", name="AI前沿推介(9.28)").first.click()
    page.wait_for_url("**/digests/2025-09-28/**")
    assert_accessible(page)
    page.locator("#paper-1 .entry-title a").click()
    page.wait_for_url("**/2509.22445/")
    assert_accessible(page)

    # Filter by a tag: the tag page lists only its entries, with a chip-free preset heading.
    page.goto(live_server.url + "/tags/")
    assert_accessible(page)
    page.locator(".browse-list a").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("标签")
    assert page.locator(".entry-row").count() >= 1
    assert_accessible(page)

    # Search in Chinese from the box in the header: matches are highlighted.
    page.fill("#site-search-q", "推理")
    page.get_by_role("button", name="搜索", exact=True).click()
    page.wait_for_url("**/search/?q=*")
    assert page.locator(".entry-row").count() >= 1
    assert page.locator(".snippet mark, .row-summary mark").count() >= 1 or (
        page.locator("mark").count() >= 1
    )
    assert_accessible(page)

    # Add a filter: it shows as a chip, and removing the chip restores the list.
    page.fill("#filter-category", "CL")
    page.get_by_role("button", name="应用筛选").click()
    page.wait_for_load_state()
    assert page.locator(".chip").count() == 2
    assert_accessible(page)
    page.close()


def test_reader_switches_language_and_theme_and_the_theme_is_remembered(browser, live_server, demo):
    page = browser.new_page(locale="zh-CN", color_scheme="light")
    page.goto(live_server.url + "/papers/")
    toggle = page.locator(".theme-toggle")
    assert toggle.inner_text() == "主题：跟随系统"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    toggle.click()  # light
    toggle.click()  # dark
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != background
    assert_accessible(page)
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.locator(".theme-toggle").click()  # back to the system setting
    assert page.evaluate("document.documentElement.dataset.theme") is None

    page.select_option("#language-select", "en")
    page.get_by_role("button", name="切换").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Papers"
    assert page.locator("#site-search-q").get_attribute("placeholder").startswith("Search")
    assert_accessible(page)
    page.close()


@pytest.mark.parametrize("chosen", [False, True], ids=["system-dark", "chosen-dark"])
def test_a_digest_prints_black_on_white_from_a_dark_screen(browser, live_server, demo, chosen):
    """The print stylesheet wins over the dark theme, whether the system's or the reader's
    own choice (which is more specific than site.css's print colours)."""
    page = browser.new_page(locale="zh-CN", color_scheme="dark")
    page.goto(live_server.url + "/digests/2025-09-28/ai-frontier-2025-09-28/")
    if chosen:
        page.locator(".theme-toggle").click()  # light
        page.locator(".theme-toggle").click()  # dark
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    style = "getComputedStyle(document.querySelector('{}')).{}"
    assert page.evaluate(style.format(".entry-title", "color")) != "rgb(0, 0, 0)"  # dark screen
    page.emulate_media(media="print")
    for selector in ("body", ".entry-title", ".critique"):
        assert page.evaluate(style.format(selector, "color")) == "rgb(0, 0, 0)", selector
    assert page.evaluate(style.format("body", "backgroundColor")) == "rgb(255, 255, 255)"
    assert page.locator(".reading-bar").is_hidden()
    page.close()


def test_list_and_comparison_fit_a_360px_phone(browser, live_server, demo):
    page = browser.new_page(locale="zh-CN", viewport={"width": 360, "height": 740})
    for path in ("/papers/", "/search/?q=推理", "/sections/limitations/"):
        page.goto(live_server.url + path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, path
    page.goto(live_server.url + "/papers/")
    boxes = page.locator(".compare-pick input")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name="对比所选").click()
    page.wait_for_url("**/compare/?e=*")
    assert page.locator("table.compare tbody tr").count() == 8
    assert_accessible(page)
    page.close()


def test_a_published_page_counts_its_reader_once_without_a_script(
    browser, live_server, demo, settings
):
    from papers.models import Digest
    from readership import counting

    digest = Digest.objects.get(issue_date="2025-09-28")
    # Headless Chromium says "HeadlessChrome", which the counter rightly ignores as a bot.
    page = browser.new_page(
        user_agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
        java_script_enabled=False,
    )
    page.goto(live_server.url + digest.get_absolute_url())
    page.reload()
    assert counting.pending("digest", [digest.pk])[digest.pk] == 1
    assert {c["name"] for c in page.context.cookies()} <= {"csrftoken"}  # none of ours
    page.close()
