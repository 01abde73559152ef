"""The analytics page in Chromium (issue 20): every chart draws as a picture under the
site's CSP, with no error, Chinese labels included; a screenshot lands in var/."""

import time

import pytest
from django.conf import settings as django_settings
from django.test import Client

from readership import counting, writing
from tests import factories
from tests.test_browser import browser, pytestmark  # noqa: F401 (shared fixture and skip rule)
from tests.test_readership_analytics import fill


@pytest.fixture
def editor_page(browser, live_server, transactional_db):  # noqa: F811
    factories.user("chief", superuser=True)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "chief")
    page.fill("#id_password", "pw-for-tests-only")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    yield page, errors
    context.close()


def test_the_analytics_page_draws_every_chart_with_real_figures(editor_page, live_server):
    page, errors = editor_page
    first, _second = fill()
    # Today's figures also come the real way: readers' views, counted and written.
    for n in range(6):
        Client().get(
            first.get_absolute_url(),
            REMOTE_ADDR=f"198.51.100.{n + 1}",
            HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
            HTTP_REFERER="https://www.zhihu.com/",
        )
    writing.write_counts(moment=time.time() + counting.BATCH_SECONDS + counting.GRACE_SECONDS)

    page.goto(live_server.url + "/admin/")
    page.get_by_role("link", name="读者统计").click()
    page.wait_for_url("**/admin/analytics/")
    page.get_by_role("link", name="按周").click()
    page.wait_for_url("**grain=week")
    page.wait_for_load_state("networkidle")
    charts = page.locator("img.analytics-chart")
    assert charts.count() == 11
    widths = charts.evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert all(width >= 400 for width in widths), widths
    assert (
        page.locator("#report-digests tbody tr").first.inner_text().startswith("AI前沿推介(9.30)")
    )
    assert "量子引力" in page.locator("#report-no-results").inner_text()
    assert not errors, errors  # no CSP violation, no failed load
    out = django_settings.BASE_DIR / "var"
    out.mkdir(exist_ok=True)
    page.locator("#report-views").screenshot(path=str(out / "analytics-views.png"))
    page.screenshot(path=str(out / "analytics.png"), full_page=True)
