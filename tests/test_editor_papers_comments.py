"""The one-page editor's own writes besides saving (issue 17): adding a paper by arXiv id or
link (an unknown one fetched on the worker, never during the request), removing one after a
confirmation, positions staying 1..n and the page's version following; and reviewers'
comments shown beside their section, answered and resolved from the editor. Each endpoint
refuses staff without change permission, bad ids, a stale version, and a live digest (whose
working copy is edited instead)."""

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from editorial import services
from editorial.models import ReviewComment, Revision
from papers.models import Digest, Entry, Paper
from tests import factories
from tests.arxiv_server import Reply, recorded
from tests.workflow_support import client_for as chinese_client
from tests.workflow_support import csrf_post, role_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}


def client_for(user):
    """A client whose browser asks for English (the site's default is Chinese)."""
    client = chinese_client(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def author():
    return role_user("author")


@pytest.fixture
def editor():
    return role_user("editor")


@pytest.fixture
def draft(author):
    digest = factories.digest(entries=3, status="draft", title="加减论文的一期")
    services.revision_record(digest=digest, by=author, message="first")
    return digest


def url(name, digest, *args):
    return reverse(f"admin:papers_digest_editor_{name}", args=[digest.pk, *args])


def editor_url(digest):
    return reverse("admin:papers_digest_editor", args=[digest.pk])


def order(digest) -> list[int]:
    return list(digest.entries.order_by("position").values_list("paper_id", flat=True))


def positions(digest) -> list[int]:
    return list(digest.entries.order_by("position").values_list("position", flat=True))


# --- adding a paper ------------------------------------------------------------------------


def test_a_known_paper_is_added_last_by_its_link_and_the_page_gets_its_row(draft, author):
    paper = factories.paper(arxiv_id="2509.30001")
    version = services.content_version(draft)
    response = csrf_post(
        client_for(author),
        url("add", draft),
        {"arxiv": "https://arxiv.org/abs/2509.30001v2", "base_version": version},
        **FETCH,
    )
    assert response.status_code == 200
    answer = response.json()
    entry = Entry.objects.get(digest=draft, paper=paper)
    assert entry.position == 4 and positions(draft) == [1, 2, 3, 4]
    assert answer["entry"] == entry.pk
    assert f'name="e{entry.pk}-title_zh"' in answer["html"]
    assert "added as paper 4" in answer["saved"]
    assert answer["version"] == services.content_version(draft) != version
    assert Revision.objects.filter(digest=draft).order_by("-number").first().author == author


def test_an_unknown_paper_is_fetched_from_arxiv_then_added(draft, author, fake_arxiv):
    fake_arxiv.add(Reply(recorded("two-papers.xml")))
    data = {"arxiv": "2509.22445", "base_version": services.content_version(draft)}
    response = csrf_post(client_for(author), url("add", draft), data, **FETCH)
    assert response.status_code == 200  # the tests' task backend runs the lookup at once
    paper = Paper.objects.get(arxiv_id="2509.22445")
    assert paper.author_list[0] == "Peter Shaw"
    assert order(draft)[-1] == paper.pk


def test_the_request_never_waits_for_arxiv_it_answers_202_and_the_lookup_is_followed(
    transactional_db, settings, fake_arxiv
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    author = role_user("author")
    draft = factories.digest(entries=1, status="draft")
    services.revision_record(digest=draft, by=author, message="first")
    fake_arxiv.add(Reply(recorded("two-papers.xml")))
    client = client_for(author)
    data = {"arxiv": "2509.22445", "base_version": services.content_version(draft)}
    response = csrf_post(client, url("add", draft), data, **FETCH)
    assert response.status_code == 202
    assert fake_arxiv.requests == [] and draft.entries.count() == 1  # arXiv not asked yet
    follow = response.json()["pending"]
    assert client.get(follow).json() == {"pending": True}
    # Someone else cannot follow another person's lookup.
    assert client_for(role_user("editor")).get(follow).status_code == 404

    from django.core.management import call_command

    call_command("worker", batch=True, reload=False, verbosity=0)
    assert client.get(follow).json() == {"ready": True}
    assert csrf_post(client, url("add", draft), data, **FETCH).status_code == 200
    assert draft.entries.count() == 2
    assert DBTaskResult.objects.count() == 1


def test_an_arxiv_failure_is_a_message_and_nothing_is_added(draft, author, fake_arxiv):
    fake_arxiv.add(Reply(recorded("empty.xml")))
    data = {"arxiv": "2509.99999", "base_version": services.content_version(draft)}
    response = csrf_post(client_for(author), url("add", draft), data, **FETCH)
    assert response.status_code == 400 and response.json()["message"]
    assert draft.entries.count() == 3 and not Paper.objects.filter(arxiv_id="2509.99999").exists()


def test_a_paper_already_in_the_digest_is_refused_with_a_clear_message(draft, author):
    first = draft.entries.get(position=1)
    version = services.content_version(draft)
    data = {"arxiv": first.paper.arxiv_id, "base_version": version}
    response = csrf_post(client_for(author), url("add", draft), data, **FETCH)
    assert response.status_code == 400
    assert response.json()["message"] == (
        f"arXiv:{first.paper.arxiv_id} is already in this digest, as paper 1."
    )
    assert draft.entries.count() == 3 and services.content_version(draft) == version
    chinese = csrf_post(chinese_client(author), url("add", draft), data, **FETCH)
    assert chinese.json()["message"] == f"arXiv:{first.paper.arxiv_id} 已在本期中，为第 1 篇。"


@pytest.mark.parametrize("value", ["", "not an id", "2513.00001", "²"])
def test_a_bad_arxiv_id_is_a_400_with_the_reason(draft, author, value):
    data = {"arxiv": value, "base_version": services.content_version(draft)}
    response = csrf_post(client_for(author), url("add", draft), data, **FETCH)
    assert response.status_code == 400 and "arXiv" in response.json()["message"]
    assert draft.entries.count() == 3


def test_without_javascript_adding_redirects_to_the_new_paper_with_a_message(draft, author):
    paper = factories.paper()
    client = client_for(author)
    data = {"arxiv": paper.arxiv_id, "base_version": services.content_version(draft)}
    response = csrf_post(client, url("add", draft), data)
    entry = Entry.objects.get(digest=draft, paper=paper)
    assert response.status_code == 302
    assert response["Location"] == f"{editor_url(draft)}#entry-{entry.pk}"
    assert "added as paper 4" in client.get(response["Location"]).content.decode()


def test_adding_from_a_page_with_an_old_version_is_a_conflict(draft, author, editor):
    stale = services.content_version(draft)
    services.digest_save_content(
        digest=draft, by=editor, data={"summary": "编辑改了"}, base_version=stale
    )
    paper = factories.paper()
    data = {"arxiv": paper.arxiv_id, "base_version": stale}
    response = csrf_post(client_for(author), url("add", draft), data, **FETCH)
    assert response.status_code == 409
    assert "editor" in response.json()["conflict"]
    assert not Entry.objects.filter(paper=paper).exists()


# --- removing a paper ----------------------------------------------------------------------


def test_removing_a_paper_keeps_positions_one_to_n_and_the_version_follows(draft, author):
    a, b, c = order(draft)
    middle = draft.entries.get(position=2)
    version = services.content_version(draft)
    client = client_for(author)
    response = csrf_post(
        client, url("remove", draft, middle.pk), {"base_version": version}, **FETCH
    )
    assert response.status_code == 200
    assert order(draft) == [a, c] and positions(draft) == [1, 2]
    new_version = response.json()["version"]
    assert new_version == services.content_version(draft) != version
    assert Paper.objects.filter(pk=b).exists()  # the paper stays in the site's list
    # The page saves on from the version it was given: no conflict.
    data = {
        "base_version": new_version,
        "summary": "删掉一篇之后的摘要",
        "entry": [
            str(pk) for pk in draft.entries.order_by("position").values_list("pk", flat=True)
        ],
    }
    saved = csrf_post(client, editor_url(draft), data, **FETCH)
    assert saved.status_code == 200, saved.content
    assert Digest.objects.get(pk=draft.pk).summary == "删掉一篇之后的摘要"


def test_removing_asks_for_confirmation_without_javascript(draft, author):
    entry = draft.entries.get(position=1)
    client = client_for(author)
    page = client.get(url("remove", draft, entry.pk))
    assert page.status_code == 200
    text = page.content.decode()
    assert entry.paper.arxiv_id in text and "Yes, remove it" in text
    assert draft.entries.count() == 3  # asking changed nothing
    data = {"base_version": services.content_version(draft)}
    response = csrf_post(client, url("remove", draft, entry.pk), data)
    assert response.status_code == 302 and response["Location"] == editor_url(draft)
    assert draft.entries.count() == 2 and positions(draft) == [1, 2]


def test_removing_an_entry_of_another_digest_or_a_gone_one_changes_nothing(draft, author):
    other = factories.digest(entries=1, status="draft")
    foreign = other.entries.get()
    client = client_for(author)
    version = services.content_version(draft)
    response = csrf_post(
        client, url("remove", draft, foreign.pk), {"base_version": version}, **FETCH
    )
    assert response.status_code == 400 and "no longer in the digest" in response.json()["message"]
    assert Entry.objects.filter(pk=foreign.pk).exists() and draft.entries.count() == 3
    assert client.get(url("remove", draft, foreign.pk)).status_code == 404


def test_a_paper_readers_commented_on_is_not_removed(author):
    digest = factories.digest(entries=2, status="draft")
    services.revision_record(digest=digest, by=author, message="first")
    entry = digest.entries.get(position=1)
    factories.comment(on=entry)
    data = {"base_version": services.content_version(digest)}
    response = csrf_post(client_for(author), url("remove", digest, entry.pk), data, **FETCH)
    assert response.status_code == 400 and "commented" in response.json()["message"]
    assert digest.entries.count() == 2


def test_removing_from_a_stale_page_is_a_conflict(draft, author, editor):
    stale = services.content_version(draft)
    services.digest_save_content(
        digest=draft, by=editor, data={"summary": "编辑改了"}, base_version=stale
    )
    entry = draft.entries.get(position=1)
    response = csrf_post(
        client_for(author), url("remove", draft, entry.pk), {"base_version": stale}, **FETCH
    )
    assert response.status_code == 409 and draft.entries.count() == 3


# --- a live digest: its working copy only ----------------------------------------------------


def test_on_a_live_digest_adding_and_removing_happen_in_its_working_copy_only(editor):
    live = factories.digest(entries=2, status="published")
    services.revision_record(digest=live, by=editor, message="live", published=True)
    live_papers = order(live)
    copy = services.working_copy_start(digest=live, by=editor)
    client = client_for(editor)
    paper = factories.paper()

    # Aimed at the live digest itself: refused, nothing changes.
    data = {"arxiv": paper.arxiv_id, "base_version": services.content_version(live)}
    assert csrf_post(client, url("add", live), data, **FETCH).status_code == 409
    first_live = live.entries.get(position=1)
    remove = {"base_version": services.content_version(live)}
    assert csrf_post(client, url("remove", live, first_live.pk), remove, **FETCH).status_code == 409
    assert order(live) == live_papers

    # Through the working copy's editor: the copy changes, the live version does not.
    data = {"arxiv": paper.arxiv_id, "base_version": services.content_version(copy)}
    assert csrf_post(client, url("add", copy), data, **FETCH).status_code == 200
    copied_first = copy.entries.get(position=1)
    remove = {"base_version": services.content_version(copy)}
    assert (
        csrf_post(client, url("remove", copy, copied_first.pk), remove, **FETCH).status_code == 200
    )
    assert order(copy) == [live_papers[1], paper.pk] and positions(copy) == [1, 2]
    assert order(live) == live_papers
    assert Digest.objects.get(pk=live.pk).status == Digest.Status.PUBLISHED
    # Readers get the changes when the copy is published, not before.
    services.working_copy_publish(copy=Digest.objects.get(pk=copy.pk), by=editor)
    assert order(live) == [live_papers[1], paper.pk] and positions(live) == [1, 2]


# --- permission -------------------------------------------------------------------------------


def test_staff_without_change_permission_can_neither_add_remove_nor_answer(draft, author):
    watcher = factories.user("watcher", staff=True, perms=["papers.view_digest"])
    client = client_for(watcher)
    paper = factories.paper()
    entry = draft.entries.get(position=1)
    version = services.content_version(draft)
    data = {"arxiv": paper.arxiv_id, "base_version": version}
    assert csrf_post(client, url("add", draft), data, **FETCH).status_code == 403
    assert csrf_post(client, url("remove", draft, entry.pk), data, **FETCH).status_code == 403
    assert client.get(url("remove", draft, entry.pk)).status_code == 403
    link = services.share_link_create(digest=draft, by=role_user("editor"), note="王老师")
    comment = services.review_comment_add(link=link, name="王老师", body="意见")
    answer = {"action": "resolve"}
    assert csrf_post(client, url("comment", draft, comment.pk), answer, **FETCH).status_code == 403
    reply = {"action": "reply", "body": "不该发出"}
    assert csrf_post(client, url("comment", draft, comment.pk), reply, **FETCH).status_code == 403
    moderator = client_for(role_user("moderator"))
    assert csrf_post(moderator, url("comment", draft, comment.pk), answer).status_code == 403
    comment.refresh_from_db()
    assert comment.resolved_at is None and not comment.replies.exists()
    assert draft.entries.count() == 3 and not Entry.objects.filter(paper=paper).exists()
    assert services.content_version(draft) == version


# --- reviewers' comments ---------------------------------------------------------------------


@pytest.fixture
def reviewed(draft, editor):
    link = services.share_link_create(digest=draft, by=editor, note="王老师")
    entry = draft.entries.get(position=2)
    on_section = services.review_comment_add(
        link=link, name="王老师", body="主旨写得太长。", target=f"{entry.paper_id}:gist"
    )
    on_digest = services.review_comment_add(link=link, name="李老师", body="整体不错。")
    return entry, on_section, on_digest


def _section_block(page: str, entry, slug: str) -> str:
    """The page from the section's text box to the next box of the paper."""
    start = page.index(f'id="id_e{entry.pk}-s-{slug}"')
    return page[start : page.index('class="editor-field', start)]


def test_a_section_comment_is_shown_under_its_section_and_the_digests_at_the_top(reviewed, editor):
    entry, on_section, on_digest = reviewed
    page = client_for(editor).get(editor_url(entry.digest)).content.decode()
    block = _section_block(page, entry, "gist")
    assert "主旨写得太长" in block and "王老师" in block
    assert "1 unresolved reviewer comment" in block
    assert f'href="#comments-e{entry.pk}-s-gist"' in block  # the count leads to the thread
    top = page[: page.index('id="editor-entries"')]
    assert "整体不错" in top and "主旨写得太长" not in top
    # The section's text box names the count to a screen reader.
    assert f'id_e{entry.pk}-s-gist-comments"' in page
    assert (
        f"id_e{entry.pk}-s-gist-hint id_e{entry.pk}-s-gist-count id_e{entry.pk}-s-gist-comments"
        in page
    )


def test_reply_and_resolve_from_the_editor_return_the_thread_and_the_counts(reviewed, editor):
    entry, on_section, on_digest = reviewed
    editor.first_name, editor.last_name = "明", "张"
    editor.save()
    client = client_for(editor)
    address = url("comment", entry.digest, on_section.pk)
    response = csrf_post(client, address, {"action": "reply", "body": "已缩短。"}, **FETCH)
    assert response.status_code == 200
    answer = response.json()
    assert (
        "已缩短" in answer["html"] and "张" in answer["html"] and ">editor<" not in answer["html"]
    )
    assert on_section.replies.get().name != "editor"  # the display name, not the login

    response = csrf_post(client, address, {"action": "resolve"}, **FETCH)
    answer = response.json()
    on_section.refresh_from_db()
    assert on_section.resolved_at is not None and on_section.resolved_by == editor
    assert "is-resolved" in answer["html"] and f'value="reopen:{on_section.pk}"' in answer["html"]
    assert answer["counters"][f"e{entry.pk}-s-gist"] == "Reviewer comments: all resolved"
    assert answer["counters"]["digest"] == "1 unresolved reviewer comment"

    response = csrf_post(client, address, {"action": "reopen"}, **FETCH)
    on_section.refresh_from_db()
    assert on_section.resolved_at is None
    assert response.json()["counters"][f"e{entry.pk}-all"] == "1 unresolved reviewer comment"


def test_a_reply_without_a_login_name_shows_the_sites_editors(reviewed, editor):
    entry, on_section, _on_digest = reviewed
    csrf_post(
        client_for(editor),
        url("comment", entry.digest, on_section.pk),
        {"action": "reply", "body": "收到"},
        **FETCH,
    )
    page = client_for(editor).get(editor_url(entry.digest)).content.decode()
    block = _section_block(page, entry, "gist")
    assert "收到" in block and "<strong>editor</strong>" not in block


@pytest.mark.parametrize(
    "data, status", [({"action": "reply", "body": "  "}, 400), ({"action": "shout"}, 400)]
)
def test_an_empty_reply_or_unknown_action_is_a_400_with_a_message(reviewed, editor, data, status):
    entry, on_section, _on_digest = reviewed
    response = csrf_post(
        client_for(editor), url("comment", entry.digest, on_section.pk), data, **FETCH
    )
    assert response.status_code == status and response.json()["message"]
    assert not on_section.replies.exists()


def test_a_comment_of_another_digest_is_a_404(reviewed, editor):
    entry, on_section, _on_digest = reviewed
    other = factories.digest(entries=1, status="draft")
    response = csrf_post(
        client_for(editor), url("comment", other, on_section.pk), {"action": "resolve"}, **FETCH
    )
    assert response.status_code == 404
    assert ReviewComment.objects.get(pk=on_section.pk).resolved_at is None


def test_without_javascript_a_reply_comes_back_to_the_comment(reviewed, editor):
    entry, on_section, _on_digest = reviewed
    response = csrf_post(
        client_for(editor),
        url("comment", entry.digest, on_section.pk),
        {"action": "reply", "body": "好的"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{editor_url(entry.digest)}#review-{on_section.pk}"


def test_a_comment_on_the_live_digest_shows_in_its_working_copys_editor(editor):
    live = factories.digest(entries=2, status="published")
    link = services.share_link_create(digest=live, by=editor, note="王老师")
    entry = live.entries.get(position=1)
    comment = services.review_comment_add(
        link=link, name="王老师", body="线上这段要改。", target=f"{entry.paper_id}:gist"
    )
    copy = services.working_copy_start(digest=live, by=editor)
    copied = copy.entries.get(paper=entry.paper)
    client = client_for(editor)
    page = client.get(editor_url(copy)).content.decode()
    assert "线上这段要改" in _section_block(page, copied, "gist")
    response = csrf_post(client, url("comment", copy, comment.pk), {"action": "resolve"}, **FETCH)
    assert response.status_code == 200
    comment.refresh_from_db()
    assert comment.resolved_at is not None


def test_the_editor_page_with_comments_costs_a_fixed_number_of_queries(
    editor, django_assert_max_num_queries
):
    client = client_for(editor)
    pages = []
    for papers in (1, 6):
        digest = factories.digest(entries=papers, status="draft")
        link = services.share_link_create(digest=digest, by=editor)
        for entry in digest.entries.all():
            comment = services.review_comment_add(
                link=link, name="王", body="改", target=f"{entry.paper_id}:gist"
            )
            services.review_comment_reply(comment=comment, by=editor, body="好")
        client.get(editor_url(digest))
        pages.append(digest)
    with django_assert_max_num_queries(45) as small:
        client.get(editor_url(pages[0]))
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(editor_url(pages[1]))
