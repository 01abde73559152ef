"""``digest_save_content``, the one write of the one-page editor: what it validates, the
order it leaves (positions 1..n), the refusal of a save based on an older version, the
revisions it merges, and who may call it."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from editorial import services
from editorial.models import Revision
from papers.models import Digest, Section, SectionKind
from tests import factories
from tests.workflow_support import role_user

pytestmark = pytest.mark.django_db


def content(digest, **changes) -> dict:
    """The editor's data for ``digest`` as stored, with ``changes``."""
    entries = []
    for entry in digest.entries.order_by("position"):
        entries.append(
            {
                "id": entry.pk,
                "title_zh": entry.title_zh,
                "tags": list(entry.tags.names()),
                "sections": {s.kind.slug: s.body for s in entry.sections.all()},
                "figures": [
                    {"id": f.pk, "alt_text": f.alt_text, "source_url": f.source_url}
                    for f in entry.figures.all()
                ],
            }
        )
    data = {
        "title": digest.title,
        "slug": digest.slug,
        "issue_date": digest.issue_date.isoformat(),
        "summary": digest.summary,
        "tags": list(digest.tags.names()),
        "entries": entries,
    }
    data.update(changes)
    return data


@pytest.fixture
def author():
    return role_user("author")


@pytest.fixture
def editor():
    return role_user("editor")


@pytest.fixture
def draft(author):
    digest = factories.digest(entries=3, status="draft")
    services.revision_record(digest=digest, by=author, message="first")
    return digest


def save(digest, by, data, base=None):
    base = services.content_version(digest) if base is None else base
    return services.digest_save_content(digest=digest, by=by, data=data, base_version=base)


def test_a_save_writes_fields_sections_tags_and_figures_in_one_go(draft, author):
    data = content(draft, title="新的一期标题", summary="本期摘要", tags=["LLM", "推理"])
    first = data["entries"][0]
    first["title_zh"] = "改过的中文标题"
    first["tags"] = ["强化学习"]
    first["sections"]["summary"] = "新的主旨段落。"
    first["figures"][0].update(alt_text="流程图", source_url="https://arxiv.org/abs/2509.1")

    result = save(draft, author, data)

    draft.refresh_from_db()
    entry = draft.entries.get(pk=first["id"])
    assert result.changed
    assert (draft.title, draft.summary) == ("新的一期标题", "本期摘要")
    assert sorted(draft.tags.names()) == ["LLM", "推理"]
    assert entry.title_zh == "改过的中文标题"
    assert list(entry.tags.names()) == ["强化学习"]
    summary = entry.sections.get(kind__slug="summary")
    assert summary.body == "新的主旨段落。" and "<p>新的主旨段落。</p>" in summary.body_html
    assert entry.figures.get().alt_text == "流程图"


def test_an_emptied_section_is_removed_and_a_new_one_created(draft, author):
    data = content(draft)
    kinds = list(SectionKind.objects.order_by("order"))
    first = data["entries"][0]
    first["sections"][kinds[0].slug] = "   "
    save(draft, author, data)
    assert not Section.objects.filter(entry_id=first["id"], kind=kinds[0]).exists()

    data = content(draft)
    data["entries"][0]["sections"][kinds[0].slug] = "回来了"
    save(draft, author, data)
    body = Section.objects.get(entry_id=first["id"], kind=kinds[0]).body
    assert "回来了" in body


def test_entries_take_positions_one_to_n_in_the_order_sent(draft, author):
    data = content(draft)
    ids = [item["id"] for item in data["entries"]]
    data["entries"].reverse()
    save(draft, author, data)
    positions = dict(draft.entries.values_list("id", "position"))
    assert [positions[i] for i in ids] == [3, 2, 1]
    assert sorted(positions.values()) == [1, 2, 3]


def test_a_list_missing_an_entry_or_naming_one_twice_is_refused(draft, author):
    data = content(draft)
    data["entries"] = data["entries"][:2]
    with pytest.raises(ValidationError):
        save(draft, author, data)
    data = content(draft)
    data["entries"][2] = dict(data["entries"][0])
    with pytest.raises(ValidationError):
        save(draft, author, data)
    assert sorted(draft.entries.values_list("position", flat=True)) == [1, 2, 3]


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"title": ""}, "title"),
        ({"title": "长" * 201}, "title"),
        ({"slug": "not a slug!"}, "slug"),
        ({"issue_date": "2025-13-45"}, "issue_date"),
        ({"tags": ["t" * 101]}, "tags"),
    ],
)
def test_invalid_digest_fields_are_refused_by_field_and_nothing_is_written(
    draft, author, change, key
):
    before = (draft.title, draft.slug, draft.issue_date)
    data = content(draft, summary="不应保存", **change)
    with pytest.raises(ValidationError) as refused:
        save(draft, author, data)
    assert key in refused.value.message_dict
    draft.refresh_from_db()
    assert (draft.title, draft.slug, draft.issue_date) == before
    assert draft.summary != "不应保存"


def test_invalid_entry_and_figure_fields_are_refused_with_their_keys(draft, author):
    data = content(draft)
    first = data["entries"][0]
    first["title_zh"] = "题" * 301
    first["figures"][0]["source_url"] = "javascript:alert(1)"
    with pytest.raises(ValidationError) as refused:
        save(draft, author, data)
    errors = refused.value.message_dict
    figure_id = first["figures"][0]["id"]
    assert f"e{first['id']}-title_zh" in errors
    assert f"f{figure_id}-source_url" in errors


def test_an_address_taken_by_another_digest_is_refused(draft, author):
    other = factories.digest(status="draft")
    data = content(draft, slug=other.slug, issue_date=other.issue_date.isoformat())
    with pytest.raises(ValidationError):
        save(draft, author, data)


def test_a_working_copy_cannot_take_another_digests_address_in_the_editor(editor):
    live = factories.digest(entries=1, status="published")
    other = factories.digest(status="published")
    copy = services.working_copy_start(digest=live, by=editor)
    data = content(copy, slug=other.slug, issue_date=other.issue_date.isoformat())
    with pytest.raises(ValidationError) as refused:
        save(copy, editor, data)
    assert "slug" in refused.value.message_dict  # said at the field, when typed
    copy.refresh_from_db()
    assert (copy.issue_date, copy.slug) == (live.issue_date, live.slug)
    # Its own live digest's address is its own.
    save(copy, editor, content(copy, summary="更正"))


def test_a_figure_of_another_paper_is_refused(draft, author):
    data = content(draft)
    stranger = data["entries"][1]["figures"][0]["id"]
    data["entries"][0]["figures"] = [{"id": stranger, "alt_text": "偷换"}]
    with pytest.raises(ValidationError):
        save(draft, author, data)


def test_a_save_based_on_an_older_version_is_refused_saying_who_saved(draft, author, editor):
    opened = services.content_version(draft)
    save(draft, editor, content(draft, summary="编辑先保存"))
    with pytest.raises(services.EditConflict) as refused:
        save(draft, author, content(draft, summary="作者后保存"), base=opened)
    assert "editor" in str(refused.value)
    draft.refresh_from_db()
    assert draft.summary == "编辑先保存"
    # Based on the version the conflict reported, the save goes through (knowingly).
    save(draft, author, content(draft, summary="作者后保存"), base=refused.value.latest_version)
    draft.refresh_from_db()
    assert draft.summary == "作者后保存"


def test_another_persons_autosave_into_their_revision_is_still_a_conflict(draft, author, editor):
    save(draft, editor, content(draft, summary="一"))
    opened = services.content_version(draft)
    save(draft, editor, content(draft, summary="二"))  # merged into the same revision
    with pytest.raises(services.EditConflict):
        save(draft, author, content(draft, summary="三"), base=opened)


def test_an_admin_page_opened_before_an_editor_autosave_is_refused(draft, author, editor):
    from editorial.admin.workflow import DigestWorkflowForm

    form_version = services.content_version(draft)
    save(draft, editor, content(draft, summary="编辑器保存"))
    save(draft, editor, content(draft, summary="编辑器再保存"))
    data = {
        "title": draft.title,
        "slug": draft.slug,
        "issue_date": draft.issue_date.isoformat(),
        "summary": "后台表单",
        "tags": "",
        "base_revision": form_version,
    }
    form = DigestWorkflowForm(data, instance=Digest.objects.get(pk=draft.pk))
    assert not form.is_valid()
    assert "editor" in " ".join(form.non_field_errors())


def test_autosaves_of_one_person_are_merged_into_one_revision(draft, author):
    before = Revision.objects.filter(digest=draft).count()
    for n in range(5):
        save(draft, author, content(draft, summary=f"第{n}次"))
    revisions = Revision.objects.filter(digest=draft).order_by("-number")
    assert revisions.count() == before + 1
    latest = revisions.first()
    assert latest.saves == 5 and latest.snapshot["summary"] == "第4次"


def test_a_new_revision_starts_after_the_window_or_when_someone_else_saves(draft, author, editor):
    save(draft, author, content(draft, summary="一"))
    Revision.objects.filter(digest=draft).update(
        created_at=timezone.now() - datetime.timedelta(minutes=services.EDITOR_REVISION_MINUTES + 1)
    )
    save(draft, author, content(draft, summary="二"))
    save(draft, editor, content(draft, summary="三"))
    messages = list(Revision.objects.filter(digest=draft).values_list("saves", "author__username"))
    assert messages[:3] == [(1, "editor"), (1, "author"), (1, "author")]


def test_a_save_that_changes_nothing_makes_no_revision(draft, author):
    before = services.content_version(draft)
    result = save(draft, author, content(draft))
    assert not result.changed and result.version == before


def test_an_author_cannot_save_a_published_digest(author):
    live = factories.digest(entries=1, status="published")
    with pytest.raises(PermissionDenied):
        save(live, author, content(live, summary="作者改线上"))
    live.refresh_from_db()
    assert live.summary != "作者改线上"


def test_a_digest_published_after_the_page_opened_is_refused_to_an_author(draft, author):
    data = content(draft, summary="晚了")
    stale = Digest.objects.get(pk=draft.pk)  # the page's copy, still a draft
    Digest.objects.filter(pk=draft.pk).update(status="published", published_at=timezone.now())
    with pytest.raises(PermissionDenied):
        save(stale, author, data)


def test_a_user_without_change_permission_is_refused(draft):
    reader = factories.user("nobody", staff=True)
    moderator = role_user("moderator")
    for user in (reader, moderator, None):
        with pytest.raises(PermissionDenied):
            save(draft, user, content(draft, summary="不许"))


def test_a_live_digest_is_edited_through_its_working_copy_and_only_publishing_announces_it(
    editor, monkeypatch
):
    live = factories.digest(entries=1, status="published", summary="线上")
    calls = []
    monkeypatch.setattr(services, "content_changed", lambda **kw: calls.append(kw))
    with pytest.raises(PermissionDenied):  # never in place, not even by an editor
        save(live, editor, content(live, summary="线上更正"))
    copy = services.working_copy_start(digest=live, by=editor)
    calls.clear()
    save(copy, editor, content(copy, summary="线上更正"))
    live.refresh_from_db()
    assert live.summary == "线上" and calls == []  # readers keep the live version
    services.digest_publish(digest=copy, by=editor)
    live.refresh_from_db()
    assert live.summary == "线上更正"


def test_the_checks_of_a_working_copy_do_not_count_its_own_live_digest_as_a_recent_feature(
    editor,
):
    from editorial.editor.checks import run_checks

    live = factories.digest(entries=1, status="published")
    copy = services.working_copy_start(digest=live, by=editor)
    entries = list(copy.entries.select_related("paper"))
    codes = [check.code for check in run_checks(copy, entries, list(SectionKind.objects.all()))]
    assert "recent" not in codes
    elsewhere = factories.digest(status="published", issue_date=live.issue_date)
    factories.entry(digest=elsewhere, paper=entries[0].paper, with_sections=False)
    codes = [check.code for check in run_checks(copy, entries, list(SectionKind.objects.all()))]
    assert codes.count("recent") == 1  # another issue did feature it


def test_an_author_list_the_page_marks_as_shortened_is_no_problem(editor):
    from editorial.editor.checks import run_checks

    draft = factories.digest(entries=1, status="draft")
    paper = draft.entries.get().paper
    paper.authors = "A One\nB Two"
    paper.arxiv_snapshot = {"authors": "A One\nB Two\nC Three"}
    paper.authors_shortened = False
    paper.save()
    entries = list(draft.entries.select_related("paper"))
    assert "authors" in [c.code for c in run_checks(draft, entries, [])]
    paper.authors_shortened = True  # the importer saw the digest's "…": the page prints it
    paper.save()
    entries = list(draft.entries.select_related("paper"))
    assert "authors" not in [c.code for c in run_checks(draft, entries, [])]
