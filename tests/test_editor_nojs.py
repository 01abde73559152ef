"""The one-page editor without JavaScript: "Add paper", "Remove" and a reviewer comment's
Reply / Resolve / Reopen are buttons of the editor's form (``then``), so the whole form is
posted as a browser without a script posts it. The typed text is saved first; then the paper
is added, the removal asked for, the comment answered, from the version just saved. A save
that is refused (a stale page, an invalid field) does nothing else and shows the typed text
again, with what was typed in the add box and the reply box."""

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from editorial import services
from editorial.models import ReviewComment
from papers.models import Digest, Entry
from tests import factories
from tests.arxiv_server import Reply, recorded
from tests.test_editor_papers_comments import client_for
from tests.test_editor_views import editor_url, form_data
from tests.workflow_support import csrf_post, role_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def author():
    return role_user("author")


@pytest.fixture
def editor():
    return role_user("editor")


@pytest.fixture
def draft(author):
    digest = factories.digest(entries=3, status="draft", title="无脚本的一期")
    services.revision_record(digest=digest, by=author, message="first")
    return digest


@pytest.fixture
def remark(draft, editor):
    """A reviewer's comment on the second paper's gist."""
    link = services.share_link_create(digest=draft, by=editor, note="王老师")
    entry = draft.entries.get(position=2)
    return services.review_comment_add(
        link=link, name="王老师", body="主旨写得太长。", target=f"{entry.paper_id}:gist"
    )


def summary(digest) -> str:
    return Digest.objects.get(pk=digest.pk).summary


def remove_url(digest, entry):
    return reverse("admin:papers_digest_editor_remove", args=[digest.pk, entry.pk])


# --- add ------------------------------------------------------------------------------------


def test_add_paper_saves_the_typed_text_then_adds_the_paper(draft, author):
    paper = factories.paper(arxiv_id="2509.30011")
    client = client_for(author)
    data = form_data(draft, summary="加论文前写的摘要", arxiv="2509.30011", then="add")
    response = csrf_post(client, editor_url(draft), data)
    entry = Entry.objects.get(digest=draft, paper=paper)
    assert response.status_code == 302
    assert response["Location"] == f"{editor_url(draft)}#entry-{entry.pk}"
    assert summary(draft) == "加论文前写的摘要"
    assert entry.position == 4
    page = client.get(response["Location"]).content.decode()
    assert "Saved at" in page and "arXiv:2509.30011 added as paper 4." in page
    assert "加论文前写的摘要" in page and f'name="e{entry.pk}-title_zh"' in page


def test_enter_in_the_add_box_saves_and_adds_too(draft, author):
    """Enter in the add box submits the form by its first button ("Save now", no ``then``):
    the id typed there is not silently dropped."""
    paper = factories.paper(arxiv_id="2509.30012")
    data = form_data(draft, summary="按回车加论文", arxiv="https://arxiv.org/abs/2509.30012v1")
    response = csrf_post(client_for(author), editor_url(draft), data)
    entry = Entry.objects.get(digest=draft, paper=paper)
    assert response["Location"].endswith(f"#entry-{entry.pk}")
    assert summary(draft) == "按回车加论文"


def test_adding_a_paper_already_there_saves_the_text_and_says_why_nothing_was_added(draft, author):
    first = draft.entries.get(position=1)
    client = client_for(author)
    data = form_data(draft, summary="重复添加前的摘要", arxiv=first.paper.arxiv_id, then="add")
    response = csrf_post(client, editor_url(draft), data)
    assert response.status_code == 302 and response["Location"] == editor_url(draft)
    assert summary(draft) == "重复添加前的摘要" and draft.entries.count() == 3
    page = client.get(response["Location"]).content.decode()
    assert f"{first.paper.arxiv_id} is already in this digest, as paper 1." in page


def test_an_unknown_paper_is_asked_of_arxiv_and_the_editor_told_to_press_add_again(
    transactional_db, settings, fake_arxiv
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    author = role_user("author")
    draft = factories.digest(entries=1, status="draft")
    services.revision_record(digest=draft, by=author, message="first")
    fake_arxiv.add(Reply(recorded("two-papers.xml")))
    client = client_for(author)
    data = form_data(draft, summary="等 arXiv 时写的摘要", arxiv="2509.22445", then="add")
    response = csrf_post(client, editor_url(draft), data)
    assert response.status_code == 302 and response["Location"] == editor_url(draft)
    assert summary(draft) == "等 arXiv 时写的摘要"
    assert draft.entries.count() == 1 and DBTaskResult.objects.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "Asking arXiv for 2509.22445" in page and "again in a moment" in page

    from django.core.management import call_command

    call_command("worker", batch=True, reload=False, verbosity=0)
    # Pressing "Add paper" again (the page's version is the saved one) adds it.
    again = form_data(draft, arxiv="2509.22445", then="add")
    response = csrf_post(client, editor_url(draft), again)
    assert draft.entries.count() == 2
    assert response["Location"].endswith(f"#entry-{draft.entries.get(position=2).pk}")


# --- remove ---------------------------------------------------------------------------------


def test_remove_saves_the_typed_text_then_asks_to_confirm_and_removes(draft, author):
    a, b, c = draft.entries.order_by("position")
    client = client_for(author)
    data = form_data(draft, summary="删论文前写的摘要", then=f"remove:{b.pk}")
    response = csrf_post(client, editor_url(draft), data)
    assert response.status_code == 302 and response["Location"] == remove_url(draft, b)
    assert summary(draft) == "删论文前写的摘要"
    assert draft.entries.count() == 3  # only asked, not removed yet
    confirm = client.get(response["Location"])
    page = confirm.content.decode()
    assert "Saved at" in page and "Yes, remove it" in page and b.paper.arxiv_id in page
    # The confirmation is based on the version just saved: removing is no conflict.
    version = confirm.context["version"]
    assert version == services.content_version(draft)
    response = csrf_post(client, remove_url(draft, b), {"base_version": version})
    assert response.status_code == 302 and response["Location"] == editor_url(draft)
    assert list(draft.entries.order_by("position")) == [a, c]
    assert summary(draft) == "删论文前写的摘要"


# --- reviewers' comments --------------------------------------------------------------------


def test_reply_saves_the_typed_text_then_stores_the_reply(draft, author, remark):
    client = client_for(author)
    data = form_data(
        draft,
        summary="回复前写的摘要",
        then=f"reply:{remark.pk}",
        **{f"review-body-{remark.pk}": "已缩短。"},
    )
    response = csrf_post(client, editor_url(draft), data)
    assert response.status_code == 302
    assert response["Location"] == f"{editor_url(draft)}#review-{remark.pk}"
    assert summary(draft) == "回复前写的摘要"
    assert remark.replies.get().body == "已缩短。"
    page = client.get(response["Location"]).content.decode()
    assert "Saved at" in page and "Reply sent." in page and "已缩短。" in page


def test_resolve_and_reopen_save_the_typed_text_then_mark_the_comment(draft, author, remark):
    client = client_for(author)
    csrf_post(
        client, editor_url(draft), form_data(draft, summary="一", then=f"resolve:{remark.pk}")
    )
    assert summary(draft) == "一"
    assert ReviewComment.objects.get(pk=remark.pk).resolved_by == author
    csrf_post(client, editor_url(draft), form_data(draft, summary="二", then=f"reopen:{remark.pk}"))
    assert summary(draft) == "二"
    assert ReviewComment.objects.get(pk=remark.pk).resolved_at is None


def test_an_empty_reply_saves_the_text_and_says_to_write_one(draft, author, remark):
    client = client_for(author)
    data = form_data(draft, summary="空回复", then=f"reply:{remark.pk}")
    response = csrf_post(client, editor_url(draft), data)
    assert summary(draft) == "空回复" and not remark.replies.exists()
    assert "Write a reply first." in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    "then, message",
    [
        ("remove:{entry}", "This paper is no longer in the digest. Reload the page."),
        ("reply:{comment}", "This comment is no longer there. Reload the page."),
    ],
)
def test_a_paper_or_comment_gone_meanwhile_saves_the_text_and_says_so(
    draft, author, editor, remark, then, message
):
    other = factories.digest(entries=1, status="draft")
    foreign = other.entries.get()
    elsewhere = services.review_comment_add(
        link=services.share_link_create(digest=other, by=editor),
        name="李老师",
        body="别的一期",
    )
    client = client_for(author)
    asked = then.format(entry=foreign.pk, comment=elsewhere.pk)
    data = form_data(
        draft, summary="目标已不在", then=asked, **{f"review-body-{elsewhere.pk}": "x"}
    )
    response = csrf_post(client, editor_url(draft), data)
    assert response.status_code == 302 and response["Location"] == editor_url(draft)
    assert summary(draft) == "目标已不在"
    assert message in client.get(response["Location"]).content.decode()
    assert Entry.objects.filter(pk=foreign.pk).exists() and not elsewhere.replies.exists()


# --- a refused save: nothing else happens ----------------------------------------------------


def _actions(draft, remark):
    second = draft.entries.get(position=2)
    paper = factories.paper(arxiv_id="2509.30013")
    return {
        "add": {"then": "add", "arxiv": paper.arxiv_id},
        "remove": {"then": f"remove:{second.pk}"},
        "reply": {"then": f"reply:{remark.pk}", f"review-body-{remark.pk}": "不该发出的回复"},
        "resolve": {"then": f"resolve:{remark.pk}"},
    }


def _nothing_done(draft, remark):
    assert draft.entries.count() == 3
    assert not Entry.objects.filter(paper__arxiv_id="2509.30013").exists()
    remark.refresh_from_db()
    assert not remark.replies.exists() and remark.resolved_at is None


@pytest.mark.parametrize("action", ["add", "remove", "reply", "resolve"])
def test_a_stale_page_shows_the_conflict_and_does_nothing_else(
    draft, author, editor, remark, action
):
    opened = form_data(draft, summary="作者没存上的摘要", **_actions(draft, remark)[action])
    csrf_post(client_for(editor), editor_url(draft), form_data(draft, summary="编辑先存"))
    response = csrf_post(client_for(author), editor_url(draft), opened)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Not saved: editor saved this digest" in page
    assert "作者没存上的摘要" in page  # the typed text is still there
    assert summary(draft) == "编辑先存"
    _nothing_done(draft, remark)
    if action == "add":  # and what was typed in the add box and the reply box
        assert 'name="arxiv" value="2509.30013"' in page
    if action == "reply":
        assert f'name="review-body-{remark.pk}" rows="2" data-action-field>不该发出的回复<' in page


@pytest.mark.parametrize("action", ["add", "remove", "reply", "resolve"])
def test_an_invalid_field_shows_the_error_and_does_nothing_else(draft, author, remark, action):
    entry = draft.entries.get(position=1)
    version = services.content_version(draft)
    data = form_data(
        draft,
        summary="标题太长时写的摘要",
        **{f"e{entry.pk}-title_zh": "题" * 400},
        **_actions(draft, remark)[action],
    )
    response = csrf_post(client_for(author), editor_url(draft), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="id_e{entry.pk}-title_zh-error"' in page and "标题太长时写的摘要" in page
    assert services.content_version(draft) == version and summary(draft) != "标题太长时写的摘要"
    _nothing_done(draft, remark)


# --- who may, and the autosave ----------------------------------------------------------------


def test_staff_who_may_only_view_can_neither_save_nor_act(draft, remark):
    watcher = factories.user("watcher", staff=True, perms=["papers.view_digest"])
    version = services.content_version(draft)
    for action in _actions(draft, remark).values():
        data = form_data(draft, summary="旁观者的摘要", **action)
        assert csrf_post(client_for(watcher), editor_url(draft), data).status_code == 403
    assert services.content_version(draft) == version
    _nothing_done(draft, remark)


def test_the_autosave_never_acts_on_these_buttons(draft, author, remark):
    """The script sends them to their own addresses; a request of the script to the editor's
    address is only ever a save."""
    for action in _actions(draft, remark).values():
        data = form_data(draft, summary="自动保存", **action)
        response = csrf_post(
            client_for(author), editor_url(draft), data, HTTP_X_REQUESTED_WITH="fetch"
        )
        assert response.status_code == 200 and "version" in response.json()
    assert summary(draft) == "自动保存"
    _nothing_done(draft, remark)
