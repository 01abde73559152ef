"""What only a browser shows: the demo site read in Debian's Chromium through Playwright."""

import os
import shutil
from io import StringIO

import pytest
from django.core.management import call_command

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = os.path.exists(CHROMIUM)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not HAVE_CHROMIUM and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (.ci/run installs it)",
    ),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # (building data) are safe because nothing else runs in this thread meanwhile.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    """The demo content, served by a live server. A transactional test empties the database
    after each test, migration-seeded rows included, so they are seeded again here."""
    import importlib

    from django.apps import apps

    importlib.import_module("papers.migrations.0002_seed_reference_data").seed(apps, None)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path
    call_command("load_demo", stdout=StringIO())


def test_reader_goes_from_home_to_a_digest_and_a_section_anchor(browser, live_server, demo):
    page = browser.new_page(locale="zh-CN")
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "最新推介"
    page.get_by_role("link", name="AI前沿推介(9.28)").click()
    page.wait_for_url("**/digests/2025-09-28/**")
    assert page.locator("h1").inner_text() == "AI前沿推介(9.28)"
    toc = page.locator(".toc li")
    assert toc.count() == 5
    assert toc.first.inner_text().startswith("[LG]")
    headings = page.locator("#paper-1 .critique h3").all_inner_texts()
    assert headings == ["要点", "主旨", "创新", "贡献", "提升", "不足", "心得", "一句话总结"]
    # Figures load (decoded images have a natural width).
    image = page.locator("#paper-1 .figure img").first
    image.scroll_into_view_if_needed()
    image.evaluate("img => img.decode()")
    assert image.evaluate("img => img.naturalWidth") == 640
    page.locator("#paper-1 .entry-title a").click()
    page.wait_for_url("**/2509.22445/")
    page.get_by_text("目录", exact=True).click()  # the sections are in the contents menu
    page.get_by_role("link", name="不足").first.click()
    assert page.url.endswith("#limitations")
    page.close()


def test_pages_fit_a_360px_phone_without_sideways_scrolling(browser, live_server, demo):
    page = browser.new_page(viewport={"width": 360, "height": 740})
    for path in ("/", "/digests/2025-09-28/ai-frontier-2025-09-28/"):
        page.goto(live_server.url + path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, path
    page.close()


def test_english_reader_switches_the_interface_language(browser, live_server, demo):
    page = browser.new_page(locale="zh-CN")
    page.goto(live_server.url + "/")
    page.select_option("#language-select", "en")
    page.get_by_role("button", name="切换").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Latest digests"
    page.close()
