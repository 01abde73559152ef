"""The one-page editor's pages through the test client: the page, the plain-form save that
works without JavaScript (move buttons included), the autosave's JSON answers, the conflict,
the permission checks, and the preview rendered by the public templates."""

import pytest
from django.urls import reverse

from editorial import services
from papers.models import Digest, Entry
from tests import factories
from tests.workflow_support import client_for, csrf_post, role_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def author():
    return role_user("author")


@pytest.fixture
def editor():
    return role_user("editor")


@pytest.fixture
def draft(author):
    digest = factories.digest(entries=2, status="draft", title="编辑器里的一期")
    services.revision_record(digest=digest, by=author, message="first")
    return digest


def editor_url(digest):
    return reverse("admin:papers_digest_editor", args=[digest.pk])


def preview_url(digest):
    return reverse("admin:papers_digest_editor_preview", args=[digest.pk])


def form_data(digest, **overrides) -> dict:
    """The editor's form as the page posts it (field names of editorial/editor/forms.py)."""
    data = {
        "base_version": services.content_version(digest),
        "title": digest.title,
        "slug": digest.slug,
        "issue_date": digest.issue_date.isoformat(),
        "summary": digest.summary,
        "tags": "",
        "entry": [],
    }
    for entry in digest.entries.order_by("position"):
        data["entry"].append(str(entry.pk))
        data[f"e{entry.pk}-title_zh"] = entry.title_zh
        data[f"e{entry.pk}-tags"] = ""
        for section in entry.sections.all():
            data[f"e{entry.pk}-s-{section.kind.slug}"] = section.body
        for figure in entry.figures.all():
            for name in ("caption", "alt_text", "source_url", "licence"):
                data[f"f{figure.pk}-{name}"] = getattr(figure, name)
    data.update(overrides)
    return data


def test_the_editor_page_shows_every_entry_section_figure_and_the_checks(draft, author):
    response = client_for(author).get(editor_url(draft))
    assert response.status_code == 200
    page = response.content.decode()
    for entry in draft.entries.all():
        assert f'name="e{entry.pk}-title_zh"' in page
        for section in entry.sections.all():
            assert f'name="e{entry.pk}-s-{section.kind.slug}"' in page
        for figure in entry.figures.all():
            assert f'name="f{figure.pk}-alt_text"' in page
    assert 'id="editor-checks"' in page
    assert 'data-check="figure"' in page  # the factory's figures have no alt text
    assert (
        response["Cache-Control"].startswith("private") or "no-store" in response["Cache-Control"]
    )


def test_the_change_page_links_to_the_editor_for_those_who_may_edit(draft, author):
    change = reverse("admin:papers_digest_change", args=[draft.pk])
    assert editor_url(draft) in client_for(author).get(change).content.decode()
    live = factories.digest(entries=1, status="published")
    change = reverse("admin:papers_digest_change", args=[live.pk])
    assert editor_url(live) not in client_for(author).get(change).content.decode()


def test_the_editor_of_a_live_digest_opens_its_working_copy():

    editor = role_user("editor")
    live = factories.digest(entries=1, status="published")
    client = client_for(editor)
    response = client.get(editor_url(live))  # no copy yet: "Edit" on the digest's page
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:papers_digest_change", args=[live.pk])
    copy = services.working_copy_start(digest=live, by=editor)
    response = client.get(editor_url(live))
    assert response.status_code == 302 and response["Location"] == editor_url(copy)
    assert client.get(editor_url(copy)).status_code == 200


def test_a_plain_form_post_saves_and_comes_back_to_the_editor(draft, author):
    client = client_for(author)
    response = csrf_post(client, editor_url(draft), form_data(draft, summary="无脚本也能保存"))
    assert response.status_code == 302 and response["Location"] == editor_url(draft)
    draft.refresh_from_db()
    assert draft.summary == "无脚本也能保存"


def test_a_move_button_without_javascript_moves_the_paper_and_saves(draft, author):
    first, second = draft.entries.order_by("position")
    data = form_data(draft, move=f"{second.pk}:up")
    response = csrf_post(client_for(author), editor_url(draft), data)
    assert response["Location"].endswith(f"#entry-{second.pk}")
    assert Entry.objects.get(pk=second.pk).position == 1
    assert Entry.objects.get(pk=first.pk).position == 2


def test_the_autosave_gets_json_with_the_new_version(draft, author):
    response = csrf_post(
        client_for(author),
        editor_url(draft),
        form_data(draft, summary="自动保存"),
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["version"] == services.content_version(draft)
    assert answer["changed"] is True


def test_a_conflicting_autosave_is_409_saying_who_saved_and_writes_nothing(draft, author, editor):
    opened = form_data(draft, summary="作者的文字")
    csrf_post(client_for(editor), editor_url(draft), form_data(draft, summary="编辑的文字"))
    response = csrf_post(
        client_for(author), editor_url(draft), opened, HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.status_code == 409
    answer = response.json()
    assert "editor" in answer["conflict"] and answer["who"] == "editor"
    assert answer["latest_version"] == services.content_version(draft)
    draft.refresh_from_db()
    assert draft.summary == "编辑的文字"


def test_a_conflicting_plain_post_shows_the_page_again_with_the_typed_text(draft, author, editor):
    opened = form_data(draft, summary="作者很长的一段文字")
    csrf_post(client_for(editor), editor_url(draft), form_data(draft, summary="编辑先存"))
    response = csrf_post(client_for(author), editor_url(draft), opened)
    page = response.content.decode()
    assert response.status_code == 409
    assert "作者很长的一段文字" in page and "editor" in page
    # The page is now based on the latest version: saving again replaces it, knowingly.
    assert f'value="{services.content_version(draft)}"' in page


def test_invalid_input_is_a_400_naming_the_field_not_a_500(draft, author):
    entry = draft.entries.first()
    data = form_data(draft, **{f"e{entry.pk}-title_zh": "题" * 400})
    response = csrf_post(client_for(author), editor_url(draft), data, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400
    assert f"e{entry.pk}-title_zh" in response.json()["errors"]
    garbled = form_data(draft, entry=["x"])
    response = csrf_post(client_for(author), editor_url(draft), garbled)
    assert response.status_code == 302


def test_no_post_changes_a_published_digest_in_place_not_even_a_crafted_one(author):
    live = factories.digest(entries=1, status="published", summary="线上")
    client = client_for(author)
    assert client.get(editor_url(live)).status_code == 302  # to "Edit" (a working copy)
    response = csrf_post(client, editor_url(live), form_data(live, summary="作者改"))
    assert response.status_code == 302
    data = form_data(live, summary="作者改")
    response = csrf_post(client, editor_url(live), data, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 409 and response.json()["message"]  # "reload…"
    assert Digest.objects.get(pk=live.pk).summary == "线上"


def test_staff_without_change_permission_get_403(draft):
    staff = factories.user("watcher", staff=True, perms=["papers.view_digest"])
    client = client_for(staff)
    assert client.get(editor_url(draft)).status_code == 403
    assert csrf_post(client, preview_url(draft), form_data(draft)).status_code == 403
    assert client.get(preview_url(draft)).status_code == 403


def test_readers_are_sent_to_the_login(draft):
    response = client_for(None).get(editor_url(draft))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_preview_renders_the_typed_text_with_the_public_templates(draft, author):
    entry = draft.entries.order_by("position").first()
    data = form_data(
        draft,
        title="预览标题",
        **{
            f"e{entry.pk}-title_zh": "正在输入的中文标题",
            f"e{entry.pk}-s-summary": "**加粗**的主旨",
        },
    )
    response = csrf_post(client_for(author), preview_url(draft), data)
    assert response.status_code == 200
    html = response.json()["html"]
    assert html.lstrip().startswith('<article class="digest"')  # the public page's article
    assert '<h1 id="digest-title">预览标题</h1>' in html
    assert '<p class="title-zh" lang="zh-Hans">正在输入的中文标题</p>' in html
    assert "<strong>加粗</strong>的主旨" in html
    assert 'class="entry"' in html and "arXiv:" in html
    # Nothing was saved.
    assert Entry.objects.get(pk=entry.pk).title_zh != "正在输入的中文标题"


def test_the_preview_follows_the_typed_order(draft, author):
    first, second = draft.entries.order_by("position")
    data = form_data(draft, entry=[str(second.pk), str(first.pk)])
    html = csrf_post(client_for(author), preview_url(draft), data).json()["html"]
    assert html.index(second.paper.title) < html.index(first.paper.title)


def test_the_preview_escapes_what_is_typed(draft, author):
    entry = draft.entries.first()
    data = form_data(
        draft,
        title="<script>alert(1)</script>",
        **{
            f"e{entry.pk}-title_zh": "<img src=x onerror=alert(2)>",
            f"e{entry.pk}-s-summary": "<script>alert(3)</script> [x](javascript:alert(4))",
        },
    )
    html = csrf_post(client_for(author), preview_url(draft), data).json()["html"]
    assert "<script>" not in html and "<img src=x" not in html
    assert 'href="javascript:' not in html  # left as text, never a link
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_preview_returns_the_checks_of_the_typed_content(draft, author):
    entry = draft.entries.first()
    data = form_data(draft, **{f"e{entry.pk}-s-summary": ""})
    checks = csrf_post(client_for(author), preview_url(draft), data).json()["checks"]
    assert f"#id_e{entry.pk}-s-summary" in checks


def test_the_preview_frame_is_the_public_page_allowed_only_in_this_site(draft, author):
    response = client_for(author).get(preview_url(draft))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert '<article class="digest"' in page and "编辑器里的一期" in page


def test_the_editor_page_costs_a_fixed_number_of_queries(author, django_assert_max_num_queries):
    client = client_for(author)
    small = factories.digest(entries=1, status="draft")
    large = factories.digest(entries=8, status="draft")
    for digest in (small, large):  # session, site settings and presence rows warmed
        client.get(editor_url(digest))
    with django_assert_max_num_queries(40) as small_run:
        client.get(editor_url(small))
    with django_assert_max_num_queries(len(small_run.captured_queries)):
        client.get(editor_url(large))
