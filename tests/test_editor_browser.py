"""The one-page editor in Debian's Chromium: the page at 1280 px (screenshot in var/), the
preview following the typing, reordering by drag and by keyboard, autosave surviving a
closed tab, a conflict between two browsers, the checks panel, and axe."""

import datetime
import importlib
import re
import time
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import OperationalError

from editorial import services
from editorial.models import ReviewComment
from papers.models import Digest, Entry, Figure, Section, SectionKind
from tests import factories
from tests.test_browser import HAVE_CHROMIUM, browser  # noqa: F401 (the shared fixture)
from tests.test_browser_reading import assert_accessible

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Debian's chromium is not installed"),
]

PASSWORD = "pw-for-tests-only"
SCREENSHOTS = Path(settings.BASE_DIR) / "var"


@pytest.fixture
def people(transactional_db):
    """An author and an editor, and a draft of three papers they work on."""
    importlib.import_module("papers.migrations.0002_seed_reference_data").seed(apps, None)
    importlib.import_module("papers.migrations.0004_workflow_roles").create_roles(apps, None)
    from tests.workflow_support import role_user

    author, editor = role_user("author"), role_user("editor")
    digest = factories.digest(entries=3, status="draft", title="编辑器测试的一期")
    services.revision_record(digest=digest, by=author, message="first")
    return author, editor, digest


def _open_editor(browser, live_server, username, digest, context=None):  # noqa: F811
    context = context or browser.new_context(
        locale="en-US", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")
    page.goto(f"{live_server.url}/admin/papers/digest/{digest.pk}/editor/")
    page.frame_locator("#editor-preview").locator("article.digest").wait_for()
    return page


def _order(page) -> list[int]:
    return [
        int(x)
        for x in page.locator("#editor-entries > li").evaluate_all(
            "items => items.map(item => item.dataset.entry)"
        )
    ]


def _wait_saved(page):
    """Until the status line says "Saved at hh:mm:ss." (expect polls without eval: CSP)."""
    from playwright.sync_api import expect

    expect(page.locator("#editor-status")).to_have_text(re.compile(r"\d\d:\d\d:\d\d"))


def _close(page):
    """Close the page's browser once its last requests (a preview a moment after typing, a
    save) are answered: the test's database is emptied next, and must not be in use."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if page.evaluate("document.getElementById('editor-form').dataset.busy || '0'") == "0":
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(200)
    page.context.close()


def _read(query):
    """``query()`` from the test's thread while the live server may be writing: SQLite's
    shared in-memory database then answers "table is locked" for a moment."""
    deadline = time.monotonic() + 5
    while True:
        try:
            return query()
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _summary(digest) -> str:
    return _read(lambda: Digest.objects.get(pk=digest.pk).summary)


def _positions(digest) -> list[int]:
    return _read(lambda: _entry_order(digest))


def _entry_order(digest) -> list[int]:
    return list(
        Entry.objects.filter(digest=digest).order_by("position").values_list("pk", flat=True)
    )


def test_the_editor_at_1280px_shows_form_checks_and_preview_and_is_accessible(
    browser,  # noqa: F811
    live_server,
    people,
):
    author, editor, digest = people
    page = _open_editor(browser, live_server, "author", digest)
    form = page.locator("#editor-form").bounding_box()
    preview = page.locator("#editor-preview").bounding_box()
    assert preview["x"] > form["x"] + form["width"] - 1  # side by side
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert page.locator("#editor-checks li").count() > 0
    # Every configured section kind, with its list-or-prose hint and counter.
    first = Entry.objects.filter(digest=digest).order_by("position").first()
    for kind in SectionKind.objects.all():
        box = page.locator(f"#id_e{first.pk}-s-{kind.slug}")
        assert box.is_visible()
        assert page.locator(f"#id_e{first.pk}-s-{kind.slug}-count").is_visible()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "editor-1280.png"))
    page.screenshot(path=str(SCREENSHOTS / "editor-1280-full.png"), full_page=True)
    assert_accessible(page)
    _close(page)


def test_typing_updates_the_preview_and_the_counter_and_the_box_grows(
    browser,  # noqa: F811
    live_server,
    people,
):
    author, editor, digest = people
    page = _open_editor(browser, live_server, "author", digest)
    first = Entry.objects.filter(digest=digest).order_by("position").first()
    page.fill(f"#id_e{first.pk}-title_zh", "实时预览的中文标题")
    frame = page.frame_locator("#editor-preview")
    frame.locator(".title-zh", has_text="实时预览的中文标题").wait_for()

    box = page.locator(f"#id_e{first.pk}-s-summary")
    height = box.bounding_box()["height"]
    box.fill("第一段**重点**。\n\n" + "很长的一段文字。" * 40)
    frame.locator("#paper-1-summary strong", has_text="重点").wait_for()
    assert box.bounding_box()["height"] > height * 2
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator("#editor-preview").screenshot(path=str(SCREENSHOTS / "editor-preview.png"))
    counter = page.locator(f"#id_e{first.pk}-s-summary-count [data-count]").inner_text()
    assert int(counter) == len("第一段**重点**。\n\n" + "很长的一段文字。" * 40)
    _close(page)


def test_papers_reorder_by_drag_and_the_saved_positions_are_one_to_n(
    browser,  # noqa: F811
    live_server,
    people,
):
    author, editor, digest = people
    page = _open_editor(browser, live_server, "author", digest)
    before = _order(page)
    page.locator(f"#entry-{before[2]} .editor-handle").drag_to(
        page.locator(f"#entry-{before[0]} .editor-entry-head"),
        target_position={"x": 40, "y": 4},
    )
    assert _order(page) == [before[2], before[0], before[1]]
    assert page.locator("#editor-entries .editor-position").all_inner_texts() == ["1", "2", "3"]
    _wait_saved(page)
    assert _positions(digest) == [before[2], before[0], before[1]]
    assert sorted(Entry.objects.filter(digest=digest).values_list("position", flat=True)) == [
        1,
        2,
        3,
    ]
    frame = page.frame_locator("#editor-preview")
    first_title = Entry.objects.get(pk=before[2]).paper.title
    frame.locator("#paper-1-title", has_text=first_title).wait_for()
    _close(page)


def test_papers_reorder_by_keyboard_buttons_and_alt_arrows(
    browser,  # noqa: F811
    live_server,
    people,
):
    author, editor, digest = people
    page = _open_editor(browser, live_server, "author", digest)
    a, b, c = _order(page)
    page.locator(f"#entry-{a} button[data-move=down]").focus()
    page.keyboard.press("Enter")
    assert _order(page) == [b, a, c]
    assert page.evaluate("document.activeElement.dataset.move") == "down"  # focus stays
    assert "2" in page.locator("#editor-status").inner_text()
    page.locator(f"#id_e{c}-title_zh").focus()
    page.keyboard.press("Alt+ArrowUp")
    page.keyboard.press("Alt+ArrowUp")
    assert _order(page) == [c, b, a]
    assert page.evaluate("document.activeElement.id") == f"id_e{c}-title_zh"
    _wait_saved(page)
    assert _positions(digest) == [c, b, a]
    _close(page)


def test_autosave_keeps_typing_when_the_tab_is_closed(browser, live_server, people):  # noqa: F811
    author, editor, digest = people
    first = Entry.objects.filter(digest=digest).order_by("position").first()
    page = _open_editor(browser, live_server, "author", digest)
    page.locator(f"#id_e{first.pk}-s-summary").fill("关页前几秒写的字")
    time.sleep(3)  # a few seconds after typing stopped
    page.context.close()
    page = _open_editor(browser, live_server, "author", digest)
    assert page.input_value(f"#id_e{first.pk}-s-summary") == "关页前几秒写的字"
    _close(page)


def test_closing_the_tab_right_after_typing_saves_on_the_way_out(
    browser,  # noqa: F811
    live_server,
    people,
):
    author, editor, digest = people
    page = _open_editor(browser, live_server, "author", digest)
    page.fill("#id_summary", "刚打完字就关了")
    page.close(run_before_unload=True)  # before the autosave's pause: pagehide sends it
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if _summary(digest) == "刚打完字就关了":
            break
        time.sleep(0.2)
    assert _summary(digest) == "刚打完字就关了"
    time.sleep(1)  # the preview sent on the way out finishes too


def test_a_conflict_between_two_browsers_is_shown_and_nothing_is_overwritten(
    browser,  # noqa: F811
    live_server,
    people,
):
    author, editor, digest = people
    author_page = _open_editor(browser, live_server, "author", digest)
    editor_page = _open_editor(browser, live_server, "editor", digest)

    editor_page.fill("#id_summary", "编辑先写的摘要")
    _wait_saved(editor_page)
    author_page.fill("#id_summary", "作者后写的摘要")
    conflict = author_page.locator("#editor-conflict")
    conflict.wait_for(state="visible")
    assert "editor" in conflict.inner_text()
    time.sleep(2.5)  # autosave has stopped: still the editor's text
    assert _summary(digest) == "编辑先写的摘要"
    assert author_page.input_value("#id_summary") == "作者后写的摘要"
    assert_accessible(author_page)

    author_page.click("#editor-overwrite")
    _wait_saved(author_page)
    assert conflict.is_hidden()
    assert _summary(digest) == "作者后写的摘要"
    _close(author_page)
    _close(editor_page)


def test_the_checks_panel_catches_each_problem_and_follows_the_typing(
    browser,  # noqa: F811
    live_server,
    people,
):
    author, editor, digest = people
    entries = list(Entry.objects.filter(digest=digest).order_by("position"))
    # A paper without an abstract, one with its author list cut short, one in a recent issue.
    Section.objects.filter(entry=entries[0], kind__slug="summary").delete()
    entries[0].paper.abstract = ""
    entries[0].paper.save()
    shortened = entries[1].paper
    shortened.authors = "A Lovelace\nC Babbage"
    shortened.arxiv_snapshot = {"authors": "A Lovelace\nC Babbage\nG Hopper\nK Johnson"}
    shortened.save()
    earlier = factories.digest(
        status="published", issue_date=digest.issue_date - datetime.timedelta(days=3)
    )
    factories.entry(digest=earlier, paper=entries[2].paper)
    no_link = entries[2].paper
    Figure.objects.filter(entry=entries[2]).update(alt_text="", source_url="", licence="")

    page = _open_editor(browser, live_server, "author", digest)
    panel = page.locator("#editor-checks")
    codes = set(panel.locator("li").evaluate_all("items => items.map(i => i.dataset.check)"))
    assert {"section", "abstract", "authors", "recent", "figure"} <= codes
    assert no_link.arxiv_id in panel.inner_text()
    text = panel.inner_text()
    assert "already featured" in text and "…" in text and "alt text" in text

    # The check goes as soon as the section is written (the panel follows the typing).
    missing = panel.locator(f"a[href='#id_e{entries[0].pk}-s-summary']")
    assert missing.count() == 1
    missing.click()
    assert page.evaluate("document.activeElement.id") == f"id_e{entries[0].pk}-s-summary"
    page.keyboard.type("补上的主旨")
    missing.wait_for(state="detached")
    figure = Figure.objects.filter(entry=entries[2]).first()
    page.fill(f"#id_f{figure.pk}-alt_text", "方法示意图")
    page.fill(f"#id_f{figure.pk}-source_url", "https://arxiv.org/abs/2509.00001")
    page.fill(f"#id_f{figure.pk}-licence", "CC BY 4.0")
    panel.locator(f"a[href='#id_f{figure.pk}-alt_text']").wait_for(state="detached")
    _close(page)


def test_an_item_not_on_arxiv_shows_its_source_and_is_not_asked_for_an_abstract(
    browser,  # noqa: F811
    live_server,
    people,
):
    author, editor, digest = people
    entry = Entry.objects.filter(digest=digest).order_by("position").first()
    type(entry.paper).objects.filter(pk=entry.paper_id).update(
        arxiv_id=None, source_url="https://news.example.org/item/1", abstract=""
    )
    page = _open_editor(browser, live_server, "author", digest)
    meta = page.locator(f"#entry-{entry.pk} .editor-paper-meta a").first
    assert meta.get_attribute("href") == "https://news.example.org/item/1"
    assert "news.example.org" in meta.inner_text()
    label = "news.example.org"
    checks = page.locator("#editor-checks li[data-check=abstract]").all_inner_texts()
    assert not any(label in text for text in checks)
    _close(page)


def _open_without_script(browser, live_server, digest):  # noqa: F811
    """The author's editor of ``digest`` in a browser with JavaScript off: (context, page)."""
    context = browser.new_context(
        locale="en-US", viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "author")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/papers/digest/{digest.pk}/editor/")
    return context, page


def test_without_javascript_the_editor_is_a_plain_form_that_saves_and_moves(
    browser,  # noqa: F811
    live_server,
    people,
):
    author, editor, digest = people
    context, page = _open_without_script(browser, live_server, digest)
    a, b, c = _order(page)
    page.fill("#id_summary", "没有脚本时写的摘要")
    with page.expect_navigation():
        page.click(f"#entry-{c} button[data-move=up]")
    assert _order(page) == [a, c, b]
    assert page.input_value("#id_summary") == "没有脚本时写的摘要"
    assert "Saved at" in page.locator(".messagelist").inner_text()
    assert _positions(digest) == [a, c, b]
    assert _summary(digest) == "没有脚本时写的摘要"
    context.close()


def test_without_javascript_add_paper_saves_the_typed_section_then_adds_the_paper(
    browser,  # noqa: F811
    live_server,
    people,
):
    author, editor, digest = people
    extra = factories.paper(arxiv_id="2509.30003", title="A Paper Added Without a Script")
    context, page = _open_without_script(browser, live_server, digest)
    a, b, c = _order(page)
    page.fill(f"#id_e{b}-s-summary", "没有脚本时写的主旨，加论文前没按保存")
    page.fill("#editor-add-arxiv", "2509.30003")
    with page.expect_navigation():
        page.click("#editor-add-button")
    added = _read(lambda: Entry.objects.get(digest=digest, paper=extra))
    assert _order(page) == [a, b, c, added.pk]
    assert page.input_value(f"#id_e{b}-s-summary") == "没有脚本时写的主旨，加论文前没按保存"
    assert "A Paper Added Without a Script" in page.locator(f"#entry-{added.pk}").inner_text()
    messages = page.locator(".messagelist").inner_text()
    assert "Saved at" in messages and "added as paper 4" in messages
    assert page.url.endswith(f"#entry-{added.pk}")
    context.close()


def test_add_and_remove_papers_and_answer_a_section_comment_without_losing_typing(
    browser,  # noqa: F811
    live_server,
    people,
):
    from playwright.sync_api import expect

    author, editor, digest = people
    editor.first_name, editor.last_name = "明", "张"
    editor.save()
    a, b, c = _entry_order(digest)
    second = Entry.objects.get(pk=b)
    link = services.share_link_create(digest=digest, by=editor, note="王老师")
    comment = services.review_comment_add(
        link=link, name="王老师", body="主旨写得太长。", target=f"{second.paper_id}:gist"
    )
    services.review_comment_add(link=link, name="李老师", body="整体不错。")
    extra = factories.paper(arxiv_id="2509.30002", title="A Paper Added in the Editor")

    page = _open_editor(browser, live_server, "editor", digest)
    # The section's comment sits under its text box; the digest's at the top.
    thread = page.locator(f"#comments-e{b}-s-gist")
    expect(thread).to_contain_text("主旨写得太长")
    box = page.locator(f"#id_e{b}-s-gist").bounding_box()
    assert thread.bounding_box()["y"] > box["y"]
    expect(page.locator("#comments-digest")).to_contain_text("整体不错")
    count = page.locator(f"#id_e{b}-s-gist-comments")
    expect(count).to_have_text("1 unresolved reviewer comment")
    expect(page.locator(f"[data-counter='e{b}-all']")).to_have_text("1 unresolved reviewer comment")

    # Typing not yet saved survives a reply and a resolve (no reload).
    page.fill("#id_summary", "回复时还没保存的摘要")
    page.fill(f"#review-reply-{comment.pk}", "已缩短。")
    page.locator(f"#review-{comment.pk} button[value='reply:{comment.pk}']").click()
    expect(page.locator(f"#review-{comment.pk} .editor-review-reply")).to_contain_text("张")
    expect(page.locator(f"#review-{comment.pk} .editor-review-reply")).to_contain_text("已缩短")
    page.locator(f"#review-{comment.pk} button[value='resolve:{comment.pk}']").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#review-{comment.pk}")).to_have_class(re.compile("is-resolved"))
    expect(count).to_have_text("Reviewer comments: all resolved")
    assert page.evaluate("document.activeElement.value") == f"reopen:{comment.pk}"  # focus stays
    assert page.input_value("#id_summary") == "回复时还没保存的摘要"
    assert _read(lambda: ReviewComment.objects.get(pk=comment.pk).resolved_at) is not None

    # Add a paper by its arxiv.org link, from the keyboard; the typing is saved first.
    page.locator("#editor-add-arxiv").fill("https://arxiv.org/abs/2509.30002v1")
    page.locator("#editor-add-arxiv").press("Enter")
    expect(page.locator("#editor-add-status")).to_contain_text("added as paper 4")
    added = _read(lambda: Entry.objects.get(digest=digest, paper=extra))
    assert _positions(digest) == [a, b, c, added.pk]
    assert _summary(digest) == "回复时还没保存的摘要"
    expect(page.locator(f"#entry-{added.pk} .editor-position")).to_have_text("4")
    page.frame_locator("#editor-preview").locator(
        "#paper-4-title", has_text="A Paper Added in the Editor"
    ).wait_for()
    # The same paper again: a clear message, nothing added.
    page.locator("#editor-add-arxiv").fill("2509.30002")
    page.locator("#editor-add-button").click()
    expect(page.locator("#editor-add-status")).to_contain_text("already in this digest")

    # Remove the first paper, confirming; positions stay 1..n and autosave goes on.
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.locator(f"#entry-{a} .editor-remove").click()
    expect(page.locator(f"#entry-{a}")).to_have_count(0)
    assert "Remove" in dialogs[0]
    assert page.locator("#editor-entries .editor-position").all_inner_texts() == ["1", "2", "3"]
    assert _positions(digest) == [b, c, added.pk]
    page.fill(f"#id_e{added.pk}-title_zh", "新加的论文的中文标题")
    _wait_saved(page)
    assert _read(lambda: Entry.objects.get(pk=added.pk).title_zh) == "新加的论文的中文标题"
    assert page.locator("#editor-conflict").is_hidden()
    assert_accessible(page)
    _close(page)
