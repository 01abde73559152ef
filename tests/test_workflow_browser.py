"""The workflow in a real browser: two people on one digest page, the stale-edit refusal
keeping what was typed, and submitting for review with a message."""

import importlib

import pytest
from django.apps import apps

from editorial import services
from papers.models import Digest
from tests import factories
from tests.test_browser import HAVE_CHROMIUM, browser  # noqa: F401 (the shared fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Debian's chromium is not installed"),
]

PASSWORD = "pw-for-tests-only"


@pytest.fixture
def people(transactional_db):
    """An author and an editor, and a draft they both work on. A transactional test empties
    the tables the migrations filled, so the section kinds and roles are created again."""
    importlib.import_module("papers.migrations.0002_seed_reference_data").seed(apps, None)
    importlib.import_module("papers.migrations.0004_workflow_roles").create_roles(apps, None)
    from tests.workflow_support import role_user

    author, editor = role_user("author"), role_user("editor")
    digest = factories.digest(entries=1, status="draft", title="两人同时编辑的一期")
    services.revision_record(digest=digest, by=author, message="first")
    return author, editor, digest


def _logged_in_page(browser, live_server, username):  # noqa: F811 (fixture value)
    page = browser.new_page(locale="en-US")
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")
    return page


def test_two_editors_one_page_the_later_save_is_refused_and_keeps_its_text(
    browser,  # noqa: F811
    live_server,
    people,
):
    author, editor, digest = people
    url = f"{live_server.url}/admin/papers/digest/{digest.pk}/change/"
    author_page = _logged_in_page(browser, live_server, "author")
    editor_page = _logged_in_page(browser, live_server, "editor")
    author_page.goto(url)
    editor_page.goto(url)
    assert "author" in editor_page.locator(".workflow-presence").inner_text()

    author_page.fill("#id_summary", "作者先保存的摘要")
    with author_page.expect_navigation():
        author_page.click("input[name=_continue]")

    editor_page.fill("#id_summary", "编辑写了很长的一段摘要，不能丢")
    with editor_page.expect_navigation():
        editor_page.click("input[name=_continue]")
    error = editor_page.locator(".errornote, .errorlist.nonfield").all_inner_texts()
    assert any("author" in text and "Asia/Shanghai" in text for text in error), error
    assert editor_page.input_value("#id_summary") == "编辑写了很长的一段摘要，不能丢"
    digest.refresh_from_db()
    assert digest.summary == "作者先保存的摘要"

    # Saving again, knowingly, replaces the other version.
    with editor_page.expect_navigation():
        editor_page.click("input[name=_continue]")
    digest.refresh_from_db()
    assert digest.summary == "编辑写了很长的一段摘要，不能丢"
    author_page.close()
    editor_page.close()


def test_an_author_submits_for_review_with_a_message_and_the_editor_sees_it_waiting(
    browser,  # noqa: F811
    live_server,
    people,
):
    author, editor, digest = people
    page = _logged_in_page(browser, live_server, "author")
    page.goto(f"{live_server.url}/admin/papers/digest/{digest.pk}/change/")
    assert page.locator("input[name=_publish]").count() == 0
    page.fill("#id_workflow_message", "请重点看第一篇")
    with page.expect_navigation():
        page.click("input[name=_submit]")
    assert "Submitted for review" in page.locator(".messagelist").inner_text()
    assert Digest.objects.get(pk=digest.pk).status == "review"
    page.close()

    editor_page = _logged_in_page(browser, live_server, "editor")
    waiting = editor_page.locator("#editorial-dashboard .module").nth(1)
    assert "两人同时编辑的一期" in waiting.inner_text()
    with editor_page.expect_navigation():
        waiting.get_by_role("link", name="两人同时编辑的一期").click()
    assert editor_page.locator("input[name=_approve]").count() == 1
    editor_page.close()
