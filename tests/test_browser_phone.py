"""A digest read on a 390 px phone in Debian's Chromium (issue 21, part 4): the contents
menu and the way back to the top stay reachable while scrolling, sections fold by touch and
by keyboard with the folds kept in the address, everything also works without JavaScript;
light and dark, axe clean, no layout shift, no policy violation (the JSON-LD is data)."""

import json

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

DIGEST = "/digests/2025-09-28/ai-frontier-2025-09-28/"
PHONE = {"width": 390, "height": 844}

# Layout shifts the page made by itself (not just after an input), as Chrome measures CLS.
CLS = """() => new Promise(resolve => {
  let total = 0;
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  }).observe({type: "layout-shift", buffered: true});
  setTimeout(() => resolve(total), 300);
})"""


def phone(browser, scheme, *, javascript=True):
    context = browser.new_context(
        locale="zh-CN",
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        color_scheme=scheme,
        java_script_enabled=javascript,
    )
    page = context.new_page()
    page.csp_violations = []
    page.on(
        "console",
        lambda m: page.csp_violations.append(m.text) if "Content Security" in m.text else None,
    )
    return page


def bar_covers_nothing(page, selector):
    """The element ``selector`` starts below the sticky bar (an anchor is never hidden)."""
    bar = page.locator(".jump-bar").bounding_box()
    target = page.locator(selector).bounding_box()
    return target["y"] >= bar["y"] + bar["height"] - 1


def scroll_y(page):
    return page.evaluate("window.scrollY")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_phone_reader_jumps_folds_and_returns_to_the_top_by_touch(
    browser, live_server, demo, scheme
):
    page = phone(browser, scheme)
    page.goto(live_server.url + DIGEST)
    assert page.evaluate(CLS) < 0.01
    assert_accessible(page)

    # Deep in the page, the bar is still on screen, at the top.
    page.locator("#paper-4").scroll_into_view_if_needed()
    page.mouse.wheel(0, 1500)
    page.wait_for_timeout(100)
    assert scroll_y(page) > 3000
    bar = page.locator(".jump-bar").bounding_box()
    assert 0 <= bar["y"] <= 1 and bar["height"] < 70

    # Contents: tap, choose paper 3; the menu closes, the paper's title shows below the bar.
    page.get_by_text("目录", exact=True).tap()
    menu = page.locator(".jump-bar .jump-list")
    assert menu.is_visible()
    assert_accessible(page)
    menu.get_by_role("link").nth(2).tap()
    page.wait_for_url("**#paper-3")
    assert not menu.is_visible()
    assert page.locator("#paper-3-title").is_visible()
    assert bar_covers_nothing(page, "#paper-3-title")

    # Fold a section by touch: its text hides and the fold is in the address, so a reload
    # (or a shared link) shows it folded.
    gist = page.locator("#paper-3-gist")
    gist.locator("summary").tap()
    assert gist.locator(".body").is_hidden()
    page.wait_for_url("**#closed=paper-3-gist")  # the toggle event comes a moment later
    page.reload()
    assert page.locator("#paper-3-gist .body").is_hidden()
    assert page.locator("#paper-3-innovation .body").is_visible()
    page.locator("#paper-3-gist summary").tap()
    assert page.locator("#paper-3-gist .body").is_visible()
    page.wait_for_function("!location.hash.includes('closed')")

    # Back to the top.
    page.mouse.wheel(0, 2000)
    page.locator(".to-top").tap()
    page.wait_for_function("window.scrollY < 5")
    assert page.csp_violations == []
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_keyboard_reader_reaches_the_contents_folds_and_the_top(
    browser, live_server, demo, scheme
):
    page = phone(browser, scheme)
    page.goto(live_server.url + DIGEST)
    # Reading order: the bar comes right after the title, before its contents box.
    order = page.evaluate(
        """() => [...document.querySelectorAll('h1, .jump-bar, .toc-box, #paper-1')]
             .map(e => e.id || e.className)"""
    )
    assert order == ["digest-title", "jump-bar", "toc-box", "paper-1"]

    summary = page.locator(".jump-menu > summary")
    summary.focus()
    page.keyboard.press("Enter")
    assert page.locator(".jump-bar .jump-list").is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#paper-1"
    page.keyboard.press("Escape")  # closes the menu, back on its button
    assert page.locator(".jump-bar .jump-list").is_hidden()
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the second paper
    page.wait_for_url("**#paper-2")
    assert bar_covers_nothing(page, "#paper-2-title")

    # A fold by keyboard: Space on the section's heading folds it, Enter opens it again.
    fold = page.locator("#paper-2-limitations summary")
    fold.focus()
    page.keyboard.press("Space")
    assert page.locator("#paper-2-limitations .body").is_hidden()
    page.wait_for_url("**#closed=paper-2-limitations")
    page.keyboard.press("Enter")
    assert page.locator("#paper-2-limitations .body").is_visible()

    # The way back to the top: a link, and the next Tab starts from the page's header.
    page.locator(".to-top").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("window.scrollY < 5")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#top') !== null")
    assert_accessible(page)
    page.context.close()


def test_without_javascript_sections_fold_and_the_contents_menu_works(browser, live_server, demo):
    page = phone(browser, "light", javascript=False)
    page.goto(live_server.url + DIGEST)
    page.locator(".jump-menu > summary").tap()
    page.locator(".jump-bar .jump-list a").nth(3).tap()
    page.wait_for_url("**#paper-4")
    assert bar_covers_nothing(page, "#paper-4-title")
    gist = page.locator("#paper-4-gist")
    gist.locator("summary").tap()
    assert gist.locator(".body").is_hidden()
    page.locator(".to-top").tap()
    page.wait_for_function("window.scrollY < 5")
    page.context.close()


def test_a_link_to_a_folded_section_opens_it(browser, live_server, demo):
    page = phone(browser, "light")
    page.goto(live_server.url + DIGEST + "#closed=paper-1-summary")
    assert page.locator("#paper-1-summary .body").is_hidden()
    page.evaluate("location.hash = 'paper-1-summary'")
    page.wait_for_function("document.querySelector('#paper-1-summary details').open")
    page.context.close()


def test_a_malformed_fragment_leaves_the_folds_working(browser, live_server, demo):
    page = phone(browser, "light")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url + DIGEST + "#%E4")  # half a character: decoding it throws
    gist = page.locator("#paper-1-gist")
    gist.locator("summary").tap()
    assert gist.locator(".body").is_hidden()
    page.wait_for_function("location.hash.includes('closed=')")
    assert errors == []
    page.context.close()


def test_the_paper_page_has_the_same_bar_with_its_sections(browser, live_server, demo):
    page = phone(browser, "dark")
    page.goto(live_server.url + DIGEST + "2509.22445/")
    assert page.evaluate(CLS) < 0.01
    page.locator(".jump-menu > summary").tap()
    page.locator(".jump-list").get_by_role("link", name="不足").tap()
    page.wait_for_url("**#limitations")
    assert bar_covers_nothing(page, "#limitations-h")
    assert_accessible(page)
    assert page.csp_violations == []
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_home_page_shows_each_papers_one_line_summary_without_shifting(
    browser, live_server, demo, scheme
):
    page = phone(browser, scheme)
    page.goto(live_server.url + "/")
    assert page.evaluate(CLS) < 0.01
    first = page.locator(".digest-card .toc li").first
    assert first.locator(".toc-summary").inner_text().strip()
    assert_accessible(page)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    page.context.close()


def test_the_structured_data_is_json_of_the_right_types_and_breaks_no_policy(
    browser, live_server, demo
):
    page = phone(browser, "light")
    pages = (("/", "Blog"), (DIGEST, "BlogPosting"), (DIGEST + "2509.22445/", "ScholarlyArticle"))
    for path, kind in pages:
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
        text = page.locator('script[type="application/ld+json"]').text_content()
        data = json.loads(text)
        assert data["@context"] == "https://schema.org" and data["@type"] == kind
    assert page.csp_violations == []
    page.context.close()
