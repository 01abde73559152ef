"""The import page in Chromium: paste, preview, create; an oversized paste is stopped in the
browser with the precise message."""

from pathlib import Path

import pytest

from papers.models import Digest
from tests import factories
from tests.test_browser import browser, pytestmark  # noqa: F401 (shared fixture and skip rule)

TEXT = (Path(__file__).parent / "samples" / "digest-text.txt").read_text(encoding="utf-8")


@pytest.fixture
def editor_page(browser, live_server, transactional_db):  # noqa: F811
    import importlib

    from django.apps import apps

    importlib.import_module("papers.migrations.0002_seed_reference_data").seed(apps, None)
    factories.user("chief", superuser=True)
    page = browser.new_page(locale="en-US")
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "chief")
    page.fill("#id_password", "pw-for-tests-only")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    yield page
    page.close()


def test_an_editor_pastes_previews_and_creates_a_draft(editor_page, live_server):
    page = editor_page
    page.goto(live_server.url + "/admin/papers/digest/")
    page.get_by_role("link", name="Import digest").click()
    page.fill("textarea[name=text]", TEXT)
    page.click("input[name=_preview]")
    preview = page.locator(".import-preview")
    assert "Sparse Mixtures of Tiny Experts" in preview.inner_text()
    assert "神秘段落" in preview.inner_text()
    assert Digest.objects.count() == 0
    page.click("input[name=_create]")  # refused: the sample keeps one unknown section
    assert "the draft was not created" in page.locator(".errorlist").inner_text()
    assert Digest.objects.count() == 0
    page.check("input[name=allow_unplaced]")
    page.click("input[name=_create]")
    page.wait_for_url("**/admin/papers/digest/*/change/")
    assert "as a draft" in page.locator(".messagelist").inner_text()
    assert Digest.objects.get().entries.count() == 2


def test_an_editor_maps_a_label_sets_the_date_and_chooses_for_unlinked_items(
    editor_page, live_server
):
    text = (Path(__file__).parent / "samples" / "layouts" / "07-mixed-daily.md").read_text(
        encoding="utf-8"
    )
    text = text.replace("要点：\n- 损失", "动机：想知道模型该做多大。\n\n要点：\n- 损失")
    page = editor_page
    page.goto(live_server.url + "/admin/papers/digest/import/")
    page.fill("textarea[name=text]", text)
    page.click("input[name=_preview]")
    preview = page.locator(".import-preview").inner_text()
    assert "Scaling Laws for Neural Language Models" in preview
    # By default: the two news items with a link are entries sourced by it, the one without
    # any link a row of its own, in its place.
    assert preview.count("not on arXiv; source") == 2
    assert preview.count("has no link at all") == 1
    assert "could not be placed in a section" in preview
    # The editor's choices: the label, the date, the items without a link.
    page.select_option("select[name='map:动机']", "gist")
    page.fill("input[name=issue_date]", "2023-11-09")
    page.check("input[name=unlinked][value=skip]")
    page.click("input[name=_preview]")
    preview = page.locator(".import-preview").inner_text()
    assert "2023-11-09" in preview
    assert "could not be placed" not in preview
    assert preview.count("skipped, as chosen") == 2 and "not on arXiv; source" not in preview
    page.click("input[name=_create]")
    page.wait_for_url("**/admin/papers/digest/*/change/")
    digest = Digest.objects.get()
    assert digest.issue_date.isoformat() == "2023-11-09"
    assert digest.entries.count() == 3 and "OpenAI" not in digest.summary
    entry = digest.entries.get(paper__arxiv_id="2001.08361")
    assert entry.sections.get(kind__slug="gist").body == "想知道模型该做多大。"


def test_an_oversized_paste_is_stopped_before_it_is_sent(editor_page, live_server):
    page = editor_page
    page.goto(live_server.url + "/admin/papers/digest/import/")
    page.evaluate(
        "document.querySelector('textarea[name=text]').value = 'x'.repeat(3 * 1024 * 1024)"
    )
    messages = []
    page.on("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
    page.click("input[name=_preview]")
    page.wait_for_timeout(200)
    assert messages and "larger than 2.0 MB" in messages[0]
    assert page.url.endswith("/admin/papers/digest/import/")
