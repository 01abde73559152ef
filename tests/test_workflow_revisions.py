"""Revisions: every save stores one, two can be compared section by section with the
changed words marked, any can be restored as a new draft, and pruning keeps what matters."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from editorial import services, workflow
from editorial.models import AuditRecord, Revision
from papers.models import Digest, Figure, Section, SectionKind
from tests import factories
from tests.workflow_support import (
    change_url,
    client_for,
    csrf_post,
    digest_form_data,
    role_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    return role_user("editor")


def test_every_admin_save_of_a_digest_or_entry_stores_a_revision(editor):
    digest = factories.digest(entries=1, status="draft")
    client = client_for(editor)
    csrf_post(client, change_url(digest), digest_form_data(digest, summary="第一版摘要"))
    entry = digest.entries.get()
    data = {
        "digest": digest.pk,
        "position": "1",
        "paper": entry.paper_id,
        "title_zh": "改过的标题",
        "tags": "推理",
        "unplaced_text": "",
        "base_revision": "1",
        "figures-TOTAL_FORMS": "0",
        "figures-INITIAL_FORMS": "0",
        "figures-MIN_NUM_FORMS": "0",
        "figures-MAX_NUM_FORMS": "1000",
    }
    for kind in SectionKind.objects.all():
        data[f"section_{kind.slug}"] = "新的要点" if kind.slug == "key-points" else ""
    response = csrf_post(client, reverse("admin:papers_entry_change", args=[entry.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    revisions = list(digest.revisions.order_by("number"))
    assert [r.number for r in revisions] == [1, 2]
    assert revisions[0].snapshot["summary"] == "第一版摘要"
    second = revisions[1].snapshot["entries"][0]
    assert second["title_zh"] == "改过的标题" and second["tags"] == ["推理"]
    assert [s["kind"] for s in second["sections"]] == ["key-points"]
    assert all(r.author == editor for r in revisions)


def test_restoring_a_revision_brings_back_exactly_its_content(editor):
    digest = factories.digest(entries=3, status="published")
    digest.tags.set(["强化学习"])
    first = services.revision_record(digest=digest, by=editor, message="original")
    original = first.snapshot

    # Change everything a revision holds: fields, tags, order, a removed and an added
    # paper, section text, figures.
    digest.title, digest.summary = "新标题", "新摘要"
    digest.save()
    digest.tags.set(["别的"])
    one, two, three = digest.entries.order_by("position")
    three.delete()
    services.entries_park_positions([one.pk, two.pk])
    one.refresh_from_db()
    two.refresh_from_db()
    one.position, two.position = 2, 1
    one.save()
    two.save()
    factories.entry(digest=digest, position=3)
    section = one.sections.first()
    section.body = "完全不同的文字"
    section.save()
    Figure.objects.filter(entry=two).update(caption="新图注")
    services.revision_record(digest=digest, by=editor, message="edited")

    edited = workflow.content_of(workflow.snapshot(digest))

    restored = services.digest_restore_revision(digest=digest, revision=first, by=editor)

    # The live digest stays on the site as it was; the revision is its working copy.
    digest.refresh_from_db()
    assert digest.status == "published" and digest.is_published
    assert workflow.content_of(workflow.snapshot(digest)) == edited
    copy = Digest.objects.get(working_copy_of=digest)
    assert restored.digest == copy and copy.status == "draft"
    assert workflow.content_of(restored.snapshot) == workflow.content_of(original)
    record = AuditRecord.objects.get(digest=digest, action="restore")
    assert record.from_status == "published" and record.to_status == "published"

    services.working_copy_publish(copy=copy, by=editor)

    digest.refresh_from_db()
    assert workflow.content_of(workflow.snapshot(digest)) == workflow.content_of(original)
    assert digest.status == "published" and not Digest.objects.filter(working_copy_of=digest)
    assert digest.revisions.count() == 3 and digest.revisions.first().published
    assert Revision.objects.filter(number=2, digest=digest).exists()  # history kept
    assert one.pk in set(digest.entries.values_list("pk", flat=True))  # entry ids kept


def test_restore_through_the_admin_asks_first_then_restores(editor):
    digest = factories.digest(entries=1, status="draft", title="第一版")
    services.revision_record(digest=digest, by=editor)
    digest.title = "第二版"
    digest.save()
    services.revision_record(digest=digest, by=editor)
    client = client_for(editor)
    url = reverse("admin:papers_digest_restore", args=[digest.pk, 1])
    page = client.get(url)
    assert page.status_code == 200
    assert "第<ins>一</ins>版" in page.content.decode()  # what the restore brings back
    digest.refresh_from_db()
    assert digest.title == "第二版"
    response = csrf_post(client, url, {"message": "回到第一版"})
    assert response.status_code == 302
    digest.refresh_from_db()
    assert digest.title == "第一版"
    assert digest.revisions.order_by("-number").first().message == "回到第一版"


def test_the_comparison_shows_papers_added_removed_moved_and_changed_words(editor):
    digest = factories.digest(entries=3, status="draft")
    old = services.revision_record(digest=digest, by=editor)
    one, two, three = digest.entries.order_by("position")
    removed_title = three.paper.title
    three.delete()
    services.entries_park_positions([one.pk, two.pk])
    one.refresh_from_db()
    two.refresh_from_db()
    one.position, two.position = 2, 1
    one.save()
    two.save()
    added = factories.entry(digest=digest, position=3)
    gist = Section.objects.get(entry=two, kind__slug="gist")
    gist.body = gist.body.replace("正文", "主要内容")
    gist.save()
    new = services.revision_record(digest=digest, by=editor)

    client = client_for(editor)
    url = reverse("admin:papers_digest_compare", args=[digest.pk])
    response = client.get(url, {"a": new.number, "b": old.number})
    assert response.status_code == 200
    html = response.content.decode()
    assert added.paper.title in html and removed_title in html
    assert "从位置" in html or "from position" in html
    assert "<del>正文</del>" in html or "<del>正</del><del>文</del>" in html or "<del>正文" in html
    assert "<ins>主要内容</ins>" in html or "<ins>主要内容" in html
    diff = response.context["diff"]
    assert [m["entry"]["arxiv_id"] for m in diff["moved"]] == [
        two.paper.arxiv_id,
        one.paper.arxiv_id,
    ]
    assert [c["label"] for c in diff["changed"][0]["changes"]] == ["主旨"]


def test_the_word_highlighter_marks_only_what_changed_and_escapes_html():
    before, after = workflow.highlight_changes(
        "模型在 GSM8K 上提升 5%", "模型在 MATH 上提升 7% <script>"
    )
    assert "<del>GSM8K</del>" in before and "<ins>MATH</ins>" in after
    assert "模型在" in after and "<ins>模型" not in after
    assert "&lt;script&gt;" in after and "<script>" not in after


def test_comparing_with_a_missing_revision_goes_back_with_a_message(editor):
    digest = factories.digest(entries=1, status="draft")
    services.revision_record(digest=digest, by=editor)
    url = reverse("admin:papers_digest_compare", args=[digest.pk])
    response = client_for(editor).get(url, {"a": "1", "b": "99"}, follow=True)
    assert response.status_code == 200
    assert any(
        "two revisions" in str(m) or "两个版本" in str(m) for m in response.context["messages"]
    )


def test_the_history_page_lists_revisions_and_the_audit_log(editor):
    digest = factories.digest(entries=1, status="draft")
    services.revision_record(digest=digest, by=editor, message="初稿")
    services.digest_submit(digest=digest, by=editor, message="请审阅")
    html = (
        client_for(editor)
        .get(reverse("admin:papers_digest_revisions", args=[digest.pk]))
        .content.decode()
    )
    assert "初稿" in html and "请审阅" in html and "(Asia/Shanghai)" in html


def test_prune_keeps_published_recent_and_latest_revisions(time_machine, editor):
    time_machine.move_to(datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC), tick=False)
    digest = factories.digest(entries=1, status="draft")
    for _ in range(4):
        services.revision_record(digest=digest, by=editor)
    services.digest_publish(digest=digest, by=editor)  # revision 5, published
    for _ in range(4):
        services.revision_record(digest=digest, by=editor)  # 6..9
    workflow.presence_touch(digest, editor)  # months before the prune: forgotten
    time_machine.move_to(datetime.datetime(2030, 6, 1, tzinfo=datetime.UTC), tick=False)
    services.revision_record(digest=digest, by=editor)  # 10, recent

    out = io.StringIO()
    call_command("prune_revisions", "--keep-latest", "3", "--dry-run", stdout=out)
    assert "Would delete 6" in out.getvalue()
    assert digest.revisions.count() == 10
    call_command("prune_revisions", "--keep-latest", "3", stdout=io.StringIO())
    kept = sorted(digest.revisions.values_list("number", flat=True))
    assert kept == [5, 8, 9, 10]
    from editorial.models import EditPresence

    assert not EditPresence.objects.exists()


def test_prune_refuses_nonsense_arguments():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("prune_revisions", "--keep-latest", "0")


def test_a_restore_that_would_delete_reader_comments_is_refused(editor):
    from django.core.exceptions import ValidationError

    digest = factories.digest(entries=1, status="published")
    first = services.revision_record(digest=digest, by=editor, message="one paper")
    added = factories.entry(digest=digest, position=2)
    factories.comment(on=added, body="读者对第二篇的评论")
    with pytest.raises(ValidationError) as refused:
        services.digest_restore_revision(digest=digest, revision=first, by=editor)
    assert "1" in refused.value.messages[0]
    digest.refresh_from_db()
    assert digest.status == "published" and digest.entries.count() == 2
    assert added.comments.count() == 1
