"""Changes to a live digest are a working copy: readers, feeds, search, sitemap, API,
exports and subscription mail keep the live version until an editor publishes the changes;
the working copy is previewed, shared, compared, discarded or published; restoring a
revision of a live digest never takes it offline."""

import re
from io import StringIO

import pytest
from django.core import mail
from django.core.cache import caches
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from editorial import services, workflow
from editorial.models import AuditRecord
from papers.models import Digest, Entry, Figure
from subscriptions.mail import digest_with_content, render_digest_mail
from tests import factories
from tests.test_reading_public import _public_urls
from tests.workflow_support import change_url, client_for, csrf_post, digest_form_data, role_user

pytestmark = pytest.mark.django_db

# Words only the working copy holds: none may reach a reader before the changes go live.
CHANGED = ["尚未发布的改动", "UnreleasedChangePaper", "unreleased-change-tag", "还没上线的图注"]
LIVE = ["线上版本的标题", "线上版本的摘要"]


@pytest.fixture
def editor():
    return role_user("editor")


@pytest.fixture
def author():
    return role_user("author")


def _live_digest():
    digest = factories.digest(entries=2, title="线上版本的标题", summary="线上版本的摘要")
    digest.entries.first().tags.add("强化学习")
    return digest


def _change_everything(copy: Digest) -> None:
    """Edit a working copy the way the admin does: every field a revision holds."""
    copy.title, copy.summary = "尚未发布的改动的标题", "尚未发布的改动的摘要"
    copy.save()
    copy.tags.add("unreleased-change-tag")
    first = copy.entries.order_by("position").first()
    first.title_zh = "尚未发布的改动:中文标题"
    first.save()
    first.tags.add("unreleased-change-tag")
    section = first.sections.first()
    section.body = "- 尚未发布的改动:推理"
    section.save()
    Figure.objects.filter(entry=first).update(caption="还没上线的图注")
    added = factories.entry(
        digest=copy,
        position=3,
        paper=factories.paper(title="UnreleasedChangePaper", abstract="尚未发布的改动 推理"),
    )
    added.tags.add("unreleased-change-tag")


@pytest.fixture
def live_with_changes(editor):
    digest = _live_digest()
    copy = services.working_copy_start(digest=digest, by=editor)
    _change_everything(copy)
    services.revision_record(digest=copy, by=editor, message="改动")
    return digest, copy


def _assert_no_changed_words(url, body):
    for word in CHANGED:
        if word.lower() not in url.lower():  # a page may echo the address it was asked
            assert word.lower() not in body.lower(), (url, word)


# --- leaks ----------------------------------------------------------------------------


def test_no_public_url_shows_a_working_copy_and_the_live_text_stays(live_with_changes):
    digest, copy = live_with_changes
    client = Client()
    queue, seen = _public_urls(digest), set()
    queue += ["/tags/unreleased-change-tag/", "/search/?q=尚未发布的改动", "/papers/?q=推理"]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code in (200, 404), url
        body = response.content.decode()
        _assert_no_changed_words(url, body)
        if url.startswith("/sitemap"):
            queue += re.findall(r"<loc>http://testserver([^<]+)</loc>", body)
    assert len(seen) > 40
    page = client.get(digest.get_absolute_url()).content.decode()
    assert all(word in page for word in LIVE)
    for entry in Entry.objects.filter(digest=copy):  # the copy's rows are no address
        assert client.get(f"/api/v1/entries/{entry.pk}/").status_code == 404
    api = client.get(f"/api/v1/digests/{digest.issue_date}/{digest.slug}/").content.decode()
    assert "线上版本的标题" in api and "尚未发布" not in api


def test_staff_reading_the_site_see_the_live_version_too(live_with_changes, editor):
    """Editorial staff may open drafts at their address; a working copy has none (it
    shares its live digest's), so they read the live digest and entries like anyone."""
    digest, copy = live_with_changes
    client = client_for(editor)
    page = client.get(digest.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert "线上版本的标题" in body
    _assert_no_changed_words("", body)
    entry = digest.entries.order_by("position").first()
    body = client.get(entry.get_absolute_url()).content.decode()
    _assert_no_changed_words("", body)
    # The paper added only in the copy has no page yet.
    added = copy.entries.get(position=3)
    url = reverse(
        "reading:entry-detail",
        kwargs={"date": digest.issue_date, "slug": digest.slug, "arxiv_id": added.paper.arxiv_id},
    )
    assert client.get(url).status_code == 404


def test_exports_and_the_subscription_mail_carry_the_live_version(
    live_with_changes, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    digest, _copy = live_with_changes
    from editorial.exporting.core import FORMATS

    for fmt in FORMATS:
        out = StringIO()
        call_command(
            "export_digest", f"{digest.issue_date}/{digest.slug}", "--format", fmt, stdout=out
        )
        text = out.getvalue()
        assert "线上版本的标题" in text, fmt
        _assert_no_changed_words("", text)
    for language in ("zh-hans", "en"):
        rendered = render_digest_mail(digest_with_content(digest.pk), language=language)
        for text in (rendered.subject, rendered.text, rendered.html):
            _assert_no_changed_words("", text)
        assert "线上版本的摘要" in rendered.text


@pytest.mark.parametrize("who", ["anonymous", "editor"])
def test_a_working_copy_costs_reader_pages_no_query(who, editor):
    """The digest and entry pages run the same queries with and without a working copy."""
    digest = _live_digest()
    client = Client() if who == "anonymous" else client_for(editor)
    entry = digest.entries.order_by("position").first()
    urls = [digest.get_absolute_url(), entry.get_absolute_url(), "/", "/feeds/atom/"]

    def counts():
        result = []
        for url in urls:
            for cache in caches.all():  # an empty cache: every page and block is rendered
                cache.clear()
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            result.append(len(queries))
        return result

    client.get(urls[0])  # sessions, site settings: the first request's extras
    before = counts()
    copy = services.working_copy_start(digest=digest, by=editor)
    _change_everything(copy)
    assert counts() == before


# --- the admin: edit, submit, publish ----------------------------------------------------


def test_edit_on_a_live_digest_makes_a_working_copy_and_saves_go_there(editor):
    digest = _live_digest()
    client = client_for(editor)
    page = client.get(change_url(digest)).content.decode()
    assert 'name="title"' not in page and 'name="_edit_live"' in page

    response = csrf_post(client, change_url(digest), {"_edit_live": "1"})
    copy = Digest.objects.get(working_copy_of=digest)
    assert response["Location"] == change_url(copy)
    assert copy.status == "draft" and copy.title == digest.title
    assert set(copy.entries.values_list("paper_id", flat=True)) == set(
        digest.entries.values_list("paper_id", flat=True)
    )

    data = digest_form_data(copy, summary="尚未发布的改动的摘要")
    assert csrf_post(client, change_url(copy), data).status_code == 302
    digest.refresh_from_db()
    copy.refresh_from_db()
    assert digest.summary == "线上版本的摘要" and copy.summary == "尚未发布的改动的摘要"
    # A second "Edit" opens the same copy.
    csrf_post(client, change_url(digest), {"_edit_live": "1"})
    assert Digest.objects.filter(working_copy_of=digest).count() == 1


def test_a_live_digest_cannot_be_saved_in_place_even_by_an_editor(editor):
    digest = _live_digest()
    data = digest_form_data(digest, title="直接改线上")
    assert csrf_post(client_for(editor), change_url(digest), data).status_code == 403
    entry = digest.entries.first()
    url = reverse("admin:papers_entry_change", args=[entry.pk])
    response = csrf_post(client_for(editor), url, {"title_zh": "直接改", "digest": digest.pk})
    assert response.status_code == 403
    digest.refresh_from_db()
    assert digest.title == "线上版本的标题"


def test_an_author_submits_the_changes_and_an_editor_approves_them(
    author, editor, django_capture_on_commit_callbacks
):
    digest = _live_digest()
    comment = factories.comment(on=digest.entries.order_by("position").first())
    first_pk = digest.entries.order_by("position").first().pk
    author_client = client_for(author)
    csrf_post(author_client, change_url(digest), {"_edit_live": "1"})
    copy = Digest.objects.get(working_copy_of=digest)
    data = digest_form_data(copy, title="作者改过的标题", _submit="1", workflow_message="请审")
    with django_capture_on_commit_callbacks(execute=True):
        csrf_post(author_client, change_url(copy), data)
    copy.refresh_from_db()
    assert copy.status == "review"
    assert [m.to for m in mail.outbox] == [[editor.email]]  # editors told
    assert "作者改过的标题" in mail.outbox[0].subject

    # An author cannot publish the changes, whatever they post.
    data = digest_form_data(copy, _approve="1")
    csrf_post(author_client, change_url(copy), data)
    with pytest.raises(PermissionDenied):
        services.working_copy_publish(copy=copy, by=author)
    digest.refresh_from_db()
    assert digest.title == "线上版本的标题"

    editor_client = client_for(editor)
    page = editor_client.get(change_url(copy)).content.decode()
    assert 'name="_approve"' in page
    response = csrf_post(editor_client, change_url(copy), digest_form_data(copy, _approve="1"))
    assert response["Location"] == change_url(digest)
    digest.refresh_from_db()
    assert digest.title == "作者改过的标题" and digest.is_published
    assert not Digest.objects.filter(pk=copy.pk).exists()
    first = digest.entries.order_by("position").first()
    assert first.pk == first_pk  # the same rows: comments and counts stay
    comment.refresh_from_db()
    assert comment.entry_id == first.pk
    actions = list(AuditRecord.objects.filter(digest=digest).values_list("action", flat=True))
    assert actions[:3] == ["publish_changes", "submit", "working_copy"]
    assert digest.revisions.first().published


def test_the_list_and_the_page_say_live_with_unpublished_changes(live_with_changes, editor):
    digest, copy = live_with_changes
    client = client_for(editor)
    listing = client.get(reverse("admin:papers_digest_changelist")).content.decode()
    assert "with unpublished changes" in listing or "有未发布的改动" in listing
    assert change_url(copy) not in listing  # one row per digest
    filtered = client.get(reverse("admin:papers_digest_changelist") + "?state=changes")
    assert filtered.context["cl"].result_count == 1
    page = client.get(change_url(digest)).content.decode()
    assert change_url(copy) in page
    assert reverse("admin:papers_digest_changes", args=[digest.pk]) in page


def test_the_changes_are_previewed_compared_and_shared(live_with_changes, editor):
    digest, copy = live_with_changes
    client = client_for(editor)
    preview = client.get(reverse("admin:papers_digest_preview", args=[copy.pk]))
    assert preview.status_code == 200 and "no-store" in preview["Cache-Control"]
    assert "尚未发布的改动的摘要" in preview.content.decode()
    assert "UnreleasedChangePaper" in preview.content.decode()

    compare = client.get(reverse("admin:papers_digest_changes", args=[digest.pk]))
    body = compare.content.decode()
    assert "<ins>尚未发布的改动</ins>" in body
    assert "UnreleasedChangePaper" in body  # the added paper
    assert "推理" in body  # the section that changed, before and after

    link = services.share_link_create(digest=digest, by=editor)
    shared = Client().get(link.get_absolute_url()).content.decode()
    assert "尚未发布的改动的摘要" in shared
    # The share page of the copy is the live digest's.
    response = client.get(reverse("admin:papers_digest_share", args=[copy.pk]))
    assert response["Location"] == reverse("admin:papers_digest_share", args=[digest.pk])
    # Readers without a link are still told nothing.
    assert Client().get(reverse("admin:papers_digest_preview", args=[copy.pk])).status_code == 302


def test_discarding_leaves_the_live_version_untouched(live_with_changes, author):
    digest, copy = live_with_changes
    before = workflow.content_of(workflow.snapshot(digest))
    response = csrf_post(client_for(author), change_url(copy), {"_discard": "1"})
    assert response["Location"] == change_url(digest)
    assert not Digest.objects.filter(pk=copy.pk).exists()
    digest.refresh_from_db()
    assert workflow.content_of(workflow.snapshot(digest)) == before and digest.is_published
    assert AuditRecord.objects.filter(digest=digest, action="discard_changes").exists()
    assert not Digest.objects.filter(working_copy_of__isnull=False).exists()


def test_an_entry_of_a_live_digest_opens_its_working_copy_entry(live_with_changes, editor):
    digest, copy = live_with_changes
    entry = digest.entries.order_by("position").first()
    response = client_for(editor).get(reverse("admin:papers_entry_change", args=[entry.pk]))
    copied = copy.entries.get(paper=entry.paper)
    assert response["Location"] == reverse("admin:papers_entry_change", args=[copied.pk])
    # Its sections are saved in the copy, through the ordinary entry form.
    page = client_for(editor).get(response["Location"])
    assert page.status_code == 200 and 'name="section_' in page.content.decode()


def test_restoring_a_revision_of_a_live_digest_keeps_it_online(editor):
    digest = _live_digest()
    first = services.revision_record(digest=digest, by=editor, message="first")
    Digest.objects.filter(pk=digest.pk).update(title="第二版标题")
    services.revision_record(digest=digest, by=editor, message="second")
    url = reverse("admin:papers_digest_restore", args=[digest.pk, first.number])
    form = client_for(editor).get(url)
    assert form.context["is_live"] and "errornote" not in form.content.decode()
    response = csrf_post(client_for(editor), url, {"message": "回到第一版"})
    copy = Digest.objects.get(working_copy_of=digest)
    assert response["Location"] == change_url(copy)
    digest.refresh_from_db()
    assert digest.status == "published" and digest.title == "第二版标题"
    reader = Client().get(digest.get_absolute_url())
    assert reader.status_code == 200 and "第二版标题" in reader.content.decode()
    assert copy.title == "线上版本的标题"
    services.working_copy_publish(copy=copy, by=editor)
    digest.refresh_from_db()
    assert digest.title == "线上版本的标题" and digest.is_published


def test_unpublishing_keeps_the_unpublished_changes_as_the_drafts_content(
    live_with_changes, editor
):
    digest, copy = live_with_changes
    services.digest_unpublish(digest=digest, by=editor)
    digest.refresh_from_db()
    assert digest.status == "draft" and digest.title == "尚未发布的改动的标题"
    assert not Digest.objects.filter(pk=copy.pk).exists()
    assert digest.entries.count() == 3


def test_publishing_changes_that_drop_a_commented_paper_is_refused(editor):
    digest = _live_digest()
    entry = digest.entries.order_by("position").first()
    factories.comment(on=entry)
    copy = services.working_copy_start(digest=digest, by=editor)
    copy.entries.get(paper=entry.paper).delete()
    with pytest.raises(ValidationError):
        services.working_copy_publish(copy=copy, by=editor)
    assert Digest.objects.filter(pk=copy.pk).exists()
    assert digest.entries.filter(pk=entry.pk).exists()


def test_a_working_copy_cannot_take_another_digests_address(editor):
    digest = _live_digest()
    other = factories.digest(entries=1, slug="taken", issue_date=digest.issue_date)
    copy = services.working_copy_start(digest=digest, by=editor)
    data = digest_form_data(copy, slug=other.slug)
    response = csrf_post(client_for(editor), change_url(copy), data)
    assert response.status_code == 200
    assert "slug" in response.context["adminform"].form.errors


def test_only_published_digests_get_a_working_copy(editor, author):
    draft = factories.digest(entries=1, status="draft")
    with pytest.raises(ValidationError):
        services.working_copy_start(digest=draft, by=editor)
    live = _live_digest()
    with pytest.raises(PermissionDenied):
        services.working_copy_start(digest=live, by=factories.user("nobody", staff=True))
    assert services.working_copy_start(digest=live, by=author).working_copy_of == live
