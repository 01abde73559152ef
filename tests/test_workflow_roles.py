"""Who may do what: every role × every editorial action, tried through the real admin URLs
(change-form buttons, list actions, the restore page) with CSRF enforced. A refused action
changes nothing, whatever the POST says."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from editorial import services
from editorial.models import AuditRecord
from papers.models import Digest
from tests import factories
from tests.workflow_support import (
    ROLES,
    change_url,
    client_for,
    csrf_post,
    digest_form_data,
    role_user,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:papers_digest_changelist"
FUTURE = datetime.datetime(2099, 1, 2, 8, 0, tzinfo=datetime.UTC)


def _button(name, **extra):
    def attempt(client, digest):
        return csrf_post(
            client, change_url(digest), digest_form_data(digest, **{name: "1"}, **extra)
        )

    return attempt


def _list_action(action):
    def attempt(client, digest):
        return csrf_post(
            client, reverse(CHANGELIST), {"action": action, "_selected_action": [digest.pk]}
        )

    return attempt


def _schedule(client, digest):
    data = digest_form_data(
        digest, _publish="1", published_at_0="2099-01-02", published_at_1="16:00:00"
    )
    return csrf_post(client, change_url(digest), data)


def _edit_live(client, digest):
    return csrf_post(client, change_url(digest), {"_edit_live": "1", "workflow_message": ""})


def _publish_changes(client, digest):
    """Changes to a live digest made in its working copy, then published with its button."""
    copy = services.working_copy_start(digest=digest, by=factories.user("setup", superuser=True))
    data = digest_form_data(copy, title="改过的标题", _publish="1")
    return csrf_post(client, change_url(copy), data)


def _restore(client, digest):
    url = reverse("admin:papers_digest_restore", args=[digest.pk, 1])
    return csrf_post(client, url, {"message": "back to the first version"})


def _change_content(client, digest):
    data = digest_form_data(digest, title="改过的标题", summary="偷偷改了摘要")
    return csrf_post(client, change_url(digest), data)


def _with_two_revisions(digest):
    superuser = factories.user("setup", superuser=True)
    services.revision_record(digest=digest, by=superuser, message="first")
    Digest.objects.filter(pk=digest.pk).update(title="第二版标题")
    services.revision_record(digest=digest, by=superuser, message="second")
    return digest


# action: (starting status, attempt, "it happened", roles allowed)
ACTIONS = {
    "submit": ("draft", _button("_submit"), lambda d: d.status == "review", {"author", "editor"}),
    "submit (list action)": (
        "draft",
        _list_action("submit_selected"),
        lambda d: d.status == "review",
        {"author", "editor"},
    ),
    "approve": ("review", _button("_approve"), lambda d: d.status == "published", {"editor"}),
    "approve (list action)": (
        "review",
        _list_action("approve_selected"),
        lambda d: d.status == "published",
        {"editor"},
    ),
    "send back": (
        "review",
        _button("_send_back", workflow_message="请补充第二篇的不足部分"),
        lambda d: d.status == "draft",
        {"editor"},
    ),
    "publish": ("draft", _button("_publish"), lambda d: d.status == "published", {"editor"}),
    "publish (list action)": (
        "draft",
        _list_action("publish_selected"),
        lambda d: d.status == "published",
        {"editor"},
    ),
    "schedule": (
        "draft",
        _schedule,
        lambda d: d.status == "published" and d.published_at == FUTURE,
        {"editor"},
    ),
    "unpublish": ("published", _button("_unpublish"), lambda d: d.status == "draft", {"editor"}),
    "unpublish (list action)": (
        "published",
        _list_action("unpublish_selected"),
        lambda d: d.status == "draft",
        {"editor"},
    ),
    "archive": ("published", _button("_archive"), lambda d: d.status == "archived", {"editor"}),
    "archive (list action)": (
        "published",
        _list_action("archive_selected"),
        lambda d: d.status == "archived",
        {"editor"},
    ),
    "restore a revision": (
        "draft",
        _restore,
        lambda d: d.revisions.count() == 3 and d.title != "第二版标题",
        {"editor"},
    ),
    # Nobody changes a live digest in place: its changes go to a working copy.
    "change published content": (
        "published",
        _change_content,
        lambda d: d.title == "改过的标题",
        set(),
    ),
    "edit published content in a working copy": (
        "published",
        _edit_live,
        lambda d: Digest.objects.filter(working_copy_of=d).exists(),
        {"author", "editor"},
    ),
    "publish the changes to a live digest": (
        "published",
        _publish_changes,
        lambda d: d.title == "改过的标题" and not Digest.objects.filter(working_copy_of=d).exists(),
        {"editor"},
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_role_may_do_exactly_its_actions(role, action):
    status, attempt, happened, allowed = ACTIONS[action]
    digest = factories.digest(entries=1, status=status)
    if action == "restore a revision":
        _with_two_revisions(digest)
    before = {f.name: getattr(digest, f.name) for f in Digest._meta.concrete_fields}
    user = role_user(role)

    response = attempt(client_for(user), digest)

    digest.refresh_from_db()
    if role in allowed:
        assert response.status_code == 302, response.content.decode()[:1500]
        assert happened(digest), f"{role} could not {action}"
    else:
        assert not happened(digest), f"{role} managed to {action}"
        after = {f.name: getattr(digest, f.name) for f in Digest._meta.concrete_fields}
        changed = {k for k in before if before[k] != after[k]} - {"updated_at"}
        # An author may save a draft's text on the way; the state and times never move.
        assert not changed & {"status", "published_at", "expires_at"}
        if role == "anonymous":
            assert response.status_code == 302
            assert reverse("admin:login") in response["Location"]
        elif role == "moderator" or action == "change published content":
            assert response.status_code == 403


def test_an_author_gets_403_when_posting_to_a_published_digest_with_a_crafted_status():
    digest = factories.digest(entries=1, status="published")
    author = role_user("author")
    data = digest_form_data(
        digest,
        title="作者偷改",
        status="draft",
        published_at_0="2099-01-01",
        published_at_1="00:00:00",
    )
    response = csrf_post(client_for(author), change_url(digest), data)
    assert response.status_code == 403
    digest.refresh_from_db()
    assert digest.title != "作者偷改" and digest.status == "published"


def test_an_author_sees_a_published_digest_read_only():
    digest = factories.digest(entries=1, status="published")
    client = client_for(role_user("author"))
    html = client.get(change_url(digest)).content.decode()
    assert 'name="title"' not in html
    assert 'name="_edit_live"' in html  # changes go to a working copy
    assert 'name="_unpublish"' not in html  # an editor's transition


def test_an_author_cannot_change_or_delete_an_entry_of_a_published_digest():
    digest = factories.digest(entries=1, status="published")
    entry = digest.entries.get()
    client = client_for(role_user("author"))
    url = reverse("admin:papers_entry_change", args=[entry.pk])
    response = csrf_post(client, url, {"title_zh": "作者改的", "digest": digest.pk})
    assert response.status_code == 403
    delete = csrf_post(
        client, reverse("admin:papers_entry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    entry.refresh_from_db()
    assert entry.title_zh != "作者改的"


def test_an_author_cannot_add_an_entry_to_a_published_digest():
    digest = factories.digest(entries=1, status="published")
    paper = factories.paper()
    client = client_for(role_user("author"))
    data = {
        "digest": digest.pk,
        "position": "2",
        "paper": paper.pk,
        "title_zh": "新加的",
        "tags": "",
        "unplaced_text": "",
        "figures-TOTAL_FORMS": "0",
        "figures-INITIAL_FORMS": "0",
        "figures-MIN_NUM_FORMS": "0",
        "figures-MAX_NUM_FORMS": "1000",
    }
    response = csrf_post(client, reverse("admin:papers_entry_add"), data)
    assert response.status_code == 200
    assert "digest" in response.context["adminform"].form.errors
    assert digest.entries.count() == 1
    # Past the form, the service refuses too.
    from django.core.exceptions import PermissionDenied

    from editorial import services

    with pytest.raises(PermissionDenied):
        services.digest_check_editable(digest=digest, by=role_user("author", "author2"))


def test_an_author_edits_a_draft_and_a_digest_in_review():
    author = role_user("author")
    client = client_for(author)
    for status in ("draft", "review"):
        digest = factories.digest(entries=1, status=status)
        response = csrf_post(client, change_url(digest), digest_form_data(digest, title="新标题"))
        assert response.status_code == 302
        digest.refresh_from_db()
        assert digest.title == "新标题" and digest.status == status


def test_services_refuse_an_author_whatever_calls_them():
    author = role_user("author")
    published = factories.digest(entries=1, status="published")
    review = factories.digest(entries=1, status="review")
    attempts = [
        lambda: services.digest_publish(digest=review, by=author),
        lambda: services.digest_approve(digest=review, by=author),
        lambda: services.digest_schedule(digest=review, by=author, at=FUTURE),
        lambda: services.digest_send_back(digest=review, by=author, message="no"),
        lambda: services.digest_unpublish(digest=published, by=author),
        lambda: services.digest_archive(digest=published, by=author),
        lambda: services.digest_check_editable(digest=published, by=author),
        lambda: services.share_link_create(digest=review, by=author),
    ]
    from django.core.exceptions import PermissionDenied

    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    assert not AuditRecord.objects.exists()


def test_roles_are_groups_an_admin_can_assign():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Author", "Editor", "Moderator"}
    editor = Group.objects.get(name="Editor")
    author = Group.objects.get(name="Author")
    assert editor.permissions.filter(codename="publish_digest").exists()
    assert not author.permissions.filter(codename="publish_digest").exists()
    assert (
        not Group.objects.get(name="Moderator")
        .permissions.filter(content_type__model="digest")
        .exists()
    )


def test_an_editor_manages_section_kinds_categories_tags_and_site_settings():
    client = client_for(role_user("editor"))
    for name in ("sectionkind", "category", "sitesettings"):
        response = client.get(reverse(f"admin:papers_{name}_changelist"), follow=True)
        assert response.status_code == 200
    assert client.get(reverse("admin:taggit_tag_changelist")).status_code == 200
    author = client_for(role_user("author"))
    assert author.get(reverse("admin:papers_sectionkind_add")).status_code == 403


def test_a_scheduled_digest_counts_as_published_for_the_author_rule():
    digest = factories.digest(
        entries=1, status="published", published_at=timezone.now() + datetime.timedelta(days=2)
    )
    response = csrf_post(
        client_for(role_user("author")), change_url(digest), digest_form_data(digest, title="改")
    )
    assert response.status_code == 403


def test_an_author_cannot_change_the_facts_of_a_paper_on_the_site_but_an_editor_can():
    from django.test import Client
    from django.urls import reverse

    from tests.workflow_support import role_user

    live = factories.digest(entries=1, status="published").entries.get().paper
    draft_only = factories.digest(entries=1, status="draft").entries.get().paper
    for role, paper, allowed in (
        ("author", live, False),
        ("author", draft_only, True),
        ("editor", live, True),
    ):
        client = Client()
        client.force_login(role_user(role, f"{role}-{paper.pk}"))
        url = reverse("admin:papers_paper_change", args=[paper.pk])
        data = {
            "arxiv_id": paper.arxiv_id,
            "title": f"Retitled by {role}",
            "authors": paper.authors,
            "affiliations": paper.affiliations,
            "abstract": paper.abstract,
            "primary_category": paper.primary_category_id,
        }
        response = client.post(url, data)
        paper.refresh_from_db()
        assert (paper.title == f"Retitled by {role}") is allowed, (role, response.status_code)
        if not allowed:
            assert response.status_code == 403
