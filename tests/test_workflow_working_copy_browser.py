"""Changes to a live digest in a real browser: an editor edits it while a reader (another
browser context) keeps reading the live version; an author submits the changes, an editor
publishes them, and the reader then sees them. Restoring a revision keeps it online."""

import importlib

import pytest
from django.apps import apps

from editorial import services
from papers.models import Digest
from tests import factories
from tests.test_browser import HAVE_CHROMIUM, browser  # noqa: F401 (the shared fixture)
from tests.test_workflow_browser import _logged_in_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Debian's chromium is not installed"),
]


@pytest.fixture
def people(transactional_db):
    """An author, an editor and a live digest. A transactional test empties the tables the
    migrations filled, so the section kinds and roles are created again."""
    importlib.import_module("papers.migrations.0002_seed_reference_data").seed(apps, None)
    importlib.import_module("papers.migrations.0004_workflow_roles").create_roles(apps, None)
    from tests.workflow_support import role_user

    author, editor = role_user("author"), role_user("editor")
    digest = factories.digest(entries=1, title="线上的一期", summary="读者看到的线上摘要")
    services.revision_record(digest=digest, by=editor, message="published", published=True)
    return author, editor, digest


def _summary(page) -> str:
    return page.locator("main").inner_text()


def test_a_reader_keeps_the_live_version_until_the_reviewed_changes_are_published(
    browser,  # noqa: F811
    live_server,
    people,
):
    author, editor, digest = people
    reader = browser.new_page(locale="zh-CN")  # a context of its own: no session
    public = live_server.url + digest.get_absolute_url()
    reader.goto(public)
    assert "读者看到的线上摘要" in _summary(reader)

    # The editor presses "Edit" on the live digest and saves a new summary.
    editor_page = _logged_in_page(browser, live_server, "editor")
    editor_page.goto(f"{live_server.url}/admin/papers/digest/{digest.pk}/change/")
    assert editor_page.locator("#id_summary").count() == 0  # the live rows are read-only
    with editor_page.expect_navigation():
        editor_page.click("input[name=_edit_live]")
    copy = Digest.objects.get(working_copy_of=digest)
    assert editor_page.url.endswith(f"/admin/papers/digest/{copy.pk}/change/")
    assert "unpublished changes" in editor_page.locator(".workflow-copy").inner_text()
    editor_page.fill("#id_summary", "改过但还没审的摘要")
    with editor_page.expect_navigation():
        editor_page.click("input[name=_continue]")

    reader.reload()
    assert "读者看到的线上摘要" in _summary(reader)
    assert "改过但还没审的摘要" not in reader.content()

    # The preview shows the changes, to staff only.
    editor_page.goto(f"{live_server.url}/admin/papers/digest/{copy.pk}/preview/")
    assert "改过但还没审的摘要" in _summary(editor_page)

    # The author submits the changes for review.
    author_page = _logged_in_page(browser, live_server, "author")
    author_page.goto(f"{live_server.url}/admin/papers/digest/{copy.pk}/change/")
    assert author_page.locator("input[name=_publish]").count() == 0
    author_page.fill("#id_workflow_message", "摘要改好了")
    with author_page.expect_navigation():
        author_page.click("input[name=_submit]")
    assert Digest.objects.get(pk=copy.pk).status == "review"
    reader.reload()
    assert "改过但还没审的摘要" not in reader.content()

    # The editor compares them with the live version, then approves them.
    editor_page.goto(f"{live_server.url}/admin/papers/digest/{digest.pk}/changes/")
    assert "改过但还没审的摘要" in editor_page.locator(".workflow-diff").inner_text()
    editor_page.goto(f"{live_server.url}/admin/papers/digest/{copy.pk}/change/")
    with editor_page.expect_navigation():
        editor_page.click("input[name=_approve]")
    assert editor_page.url.endswith(f"/admin/papers/digest/{digest.pk}/change/")
    assert not Digest.objects.filter(pk=copy.pk).exists()

    reader.reload()
    assert "改过但还没审的摘要" in _summary(reader)
    assert "读者看到的线上摘要" not in reader.content()
    for page in (reader, editor_page, author_page):
        page.close()


def test_restoring_a_revision_in_the_browser_keeps_the_digest_online(
    browser,  # noqa: F811
    live_server,
    people,
):
    author, editor, digest = people
    Digest.objects.filter(pk=digest.pk).update(summary="第二版的线上摘要")
    services.revision_record(digest=digest, by=editor, message="second")
    editor_page = _logged_in_page(browser, live_server, "editor")
    editor_page.goto(f"{live_server.url}/admin/papers/digest/{digest.pk}/revisions/1/restore/")
    with editor_page.expect_navigation():
        editor_page.click("#content-main input[type=submit]")
    copy = Digest.objects.get(working_copy_of=digest)
    assert editor_page.url.endswith(f"/admin/papers/digest/{copy.pk}/change/")

    reader = browser.new_page()
    response = reader.goto(live_server.url + digest.get_absolute_url())
    assert response.status == 200 and "第二版的线上摘要" in _summary(reader)
    assert Digest.objects.get(pk=digest.pk).is_published
    reader.close()
    editor_page.close()


def test_a_reviewer_comments_on_one_section_and_the_editor_resolves_it(
    browser,  # noqa: F811
    live_server,
    people,
):
    """Through a share link, in a browser without an account (its CSRF cookie set by the
    page itself), then in the editor."""
    from editorial.models import ReviewComment

    author, editor, digest = people
    services.working_copy_start(digest=digest, by=editor)
    link = services.share_link_create(digest=digest, by=editor, note="王老师")
    entry = digest.entries.get()
    reviewer = browser.new_page(locale="zh-CN")
    reviewer.goto(live_server.url + link.get_absolute_url())
    reviewer.select_option("#review-target", f"{entry.paper_id}:limitations")
    reviewer.fill("#review-name", "王老师")
    reviewer.fill("#review-body", "不足部分应提到数据集偏差。")
    with reviewer.expect_navigation():
        reviewer.click("#review button[type=submit]")
    assert "不足部分应提到数据集偏差" in reviewer.locator("#review").inner_text()
    comment = ReviewComment.objects.get()
    assert comment.kind.slug == "limitations"

    editor_page = _logged_in_page(browser, live_server, "editor")
    editor_page.goto(f"{live_server.url}/admin/papers/entry/{entry.pk}/change/")
    # Redirected to the paper in the working copy, the remark beside it.
    box = editor_page.locator(f"#review-{comment.pk}")
    assert "不足部分应提到数据集偏差" in box.inner_text()
    box.locator("textarea").fill("已补上。")
    with editor_page.expect_navigation():
        box.locator("button[value=reply]").click()
    with editor_page.expect_navigation():
        editor_page.locator(f"#review-{comment.pk} button[value=resolve]").click()
    comment.refresh_from_db()
    assert comment.resolved_by == editor and comment.replies.get().body == "已补上。"
    reviewer.reload()
    assert "已补上" in reviewer.locator("#review").inner_text()
    reviewer.close()
    editor_page.close()
