"""Storing an import: one transaction, no duplicates, drafts unless published by someone
allowed to; and the import_digest command around it."""

import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.utils import timezone

from editorial.importing import DigestImportError, parse_digest, plan_import, write_digest
from papers.models import Digest, Entry, Figure, Paper, Section
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SAMPLES = Path(__file__).parent / "samples"
TEXT_PATH = SAMPLES / "digest-text.txt"
TEXT = TEXT_PATH.read_text(encoding="utf-8")


def _counts():
    return (
        Digest.objects.count(),
        Entry.objects.count(),
        Paper.objects.count(),
        Section.objects.count(),
        Figure.objects.count(),
    )


def test_an_import_creates_a_draft_with_entries_sections_and_placeholder_figures():
    result = write_digest(parse_digest(TEXT))
    digest = result.digest
    assert digest.status == Digest.Status.DRAFT and not digest.is_published
    assert digest.slug == "ai-frontier-2024-03-14"
    first, second = digest.entries.order_by("position")
    assert first.paper.arxiv_id == "2403.01234"
    assert first.paper.primary_category.code == "cs.LG"
    assert first.paper.author_list == ["A Turing", "G Hopper"]
    assert first.sections.count() == 8
    key_points = first.sections.get(kind__slug="key-points")
    assert key_points.body_html.count("<li>") == 4
    figure = first.figures.get()
    assert figure.needs_upload and figure.placeholder.startswith("Image on")
    assert second.paper.primary_category.code == "cs.CL"
    assert second.unplaced_text == "神秘段落：这段文字没有已知标题"


def test_an_imported_draft_is_invisible_to_readers(client):
    digest = write_digest(parse_digest(TEXT)).digest
    assert client.get(digest.get_absolute_url()).status_code == 404


def test_importing_the_same_digest_twice_is_refused_and_changes_nothing():
    write_digest(parse_digest(TEXT))
    before = _counts()
    with pytest.raises(DigestImportError, match="exists already"):
        write_digest(parse_digest(TEXT))
    assert _counts() == before


def test_replace_rewrites_the_draft_instead_of_duplicating_it():
    first = write_digest(parse_digest(TEXT)).digest
    changed = TEXT.replace("一句话说明主旨。", "改过的主旨。")
    result = write_digest(parse_digest(changed), replace=True)
    assert result.replaced and result.digest.pk == first.pk
    assert Digest.objects.count() == 1 and Entry.objects.count() == 2
    assert Section.objects.get(entry__position=1, kind__slug="gist").body == "改过的主旨。"


def test_replace_refuses_a_published_digest():
    editor = factories.user("editor", staff=True, perms=["papers.publish_digest"])
    write_digest(parse_digest(TEXT), by=editor, publish=True)
    with pytest.raises(DigestImportError, match="only a draft"):
        write_digest(parse_digest(TEXT), replace=True)


def test_an_error_half_way_leaves_no_digest_entry_or_paper_behind():
    text = TEXT.replace(
        "[CL] Reading Tables Like Prose\n\nB", "[QQ] Reading Tables Like Prose\n\nB"
    )
    with pytest.raises(DigestImportError, match=r"Unknown category tag \[QQ\]") as caught:
        write_digest(parse_digest(text))
    assert caught.value.line == 52
    assert _counts() == (0, 0, 0, 0, 0)


def test_the_same_paper_twice_in_one_digest_is_imported_once_and_the_second_reported():
    text = TEXT.replace("https://arxiv.org/abs/hep-th/9901001", "https://arxiv.org/abs/2403.01234")
    parsed = parse_digest(text)
    write_digest(parsed)
    assert [e.paper.arxiv_id for e in Digest.objects.get().entries.all()] == ["2403.01234"]
    assert [note.line for note in parsed.report.skipped] == [52]
    assert "same arXiv paper" in parsed.report.skipped[0].message


def test_a_known_paper_keeps_its_facts_and_is_reused():
    known = factories.paper(arxiv_id="2403.01234", title="Edited Title", authors="Alan Turing")
    result = write_digest(parse_digest(TEXT))
    known.refresh_from_db()
    assert known.title == "Edited Title" and known.authors == "Alan Turing"
    assert result.reused_papers == ["2403.01234"]
    assert known.abstract.startswith("We study things")  # not empty, so kept


def test_publish_needs_the_publish_permission_and_then_nothing_is_written():
    author = factories.user("author", staff=True)
    with pytest.raises(PermissionDenied):
        write_digest(parse_digest(TEXT), by=author, publish=True)
    assert _counts() == (0, 0, 0, 0, 0)


def test_an_editor_may_import_and_publish_at_once():
    editor = factories.user("editor", staff=True, perms=["papers.publish_digest"])
    result = write_digest(parse_digest(TEXT), by=editor, publish=True)
    assert result.published and result.digest.is_published


def test_a_dry_run_checks_everything_and_writes_nothing():
    result = write_digest(parse_digest(TEXT), dry_run=True)
    assert result.dry_run and result.digest.pk is None
    assert result.created_papers == ["2403.01234", "hep-th/9901001"]
    assert _counts() == (0, 0, 0, 0, 0)


def test_the_import_stores_exactly_the_rows_its_preview_planned():
    factories.paper(arxiv_id="hep-th/9901001", title="Edited Title", affiliations="")
    plan = plan_import(parse_digest(TEXT))
    result = write_digest(parse_digest(TEXT))
    digest = result.digest
    assert (result.created_papers, result.reused_papers) == (
        plan.created_papers,
        plan.reused_papers,
    )
    assert plan.created_papers == ["2403.01234"] and plan.reused_papers == ["hep-th/9901001"]
    assert [row.fills for row in plan.entries] == [{}, {"affiliations": "Sample Institute"}]
    known = Paper.objects.get(arxiv_id="hep-th/9901001")
    assert known.title == "Edited Title" and known.affiliations == "Sample Institute"
    stored = list(digest.entries.order_by("position"))
    assert [(e.position, e.paper.arxiv_id, e.title_zh, e.unplaced_text) for e in stored] == [
        (row.entry["position"], row.arxiv_id, row.entry["title_zh"], row.entry["unplaced_text"])
        for row in plan.entries
    ]
    for entry, row in zip(stored, plan.entries, strict=True):
        assert sorted((s.kind_id, s.body) for s in entry.sections.all()) == sorted(
            (kind.pk, body) for kind, body in row.sections
        )
        assert [(f.position, f.placeholder) for f in entry.figures.all()] == [
            (f["position"], f["placeholder"]) for f in row.figures
        ]


def _refusal(call):
    with pytest.raises((DigestImportError, PermissionDenied)) as refused:
        call()
    return type(refused.value), str(refused.value)


@pytest.mark.parametrize(
    "case",
    [
        "exists",
        "published",
        "commented",
        "unknown tag",
        "author publishes",
        "expired draft published",
    ],
)
def test_the_preview_refuses_exactly_what_the_import_refuses(case):
    editor = factories.user("editor", staff=True, perms=["papers.publish_digest"])
    author = factories.user("author", staff=True)
    text, options = TEXT, {}
    if case == "exists":
        write_digest(parse_digest(TEXT))
    elif case == "published":
        write_digest(parse_digest(TEXT), by=editor, publish=True)
        options = {"replace": True}
    elif case == "commented":
        factories.comment(on=write_digest(parse_digest(TEXT)).digest.entries.first(), body="评论")
        options = {"replace": True}
    elif case == "unknown tag":
        text = TEXT.replace(
            "[CL] Reading Tables Like Prose\n\nB", "[QQ] Reading Tables Like Prose\n\nB"
        )
    elif case == "author publishes":
        options = {"by": author, "publish": True}
    elif case == "expired draft published":
        draft = write_digest(parse_digest(TEXT)).digest
        draft.expires_at = timezone.now() - datetime.timedelta(days=1)
        draft.save()
        options = {"by": editor, "publish": True, "replace": True}
    before = _counts()
    previewed = _refusal(lambda: plan_import(parse_digest(text), **options))
    assert _refusal(lambda: write_digest(parse_digest(text), **options)) == previewed
    assert _counts() == before


# -- the command ---------------------------------------------------------------------------


def _command(*args):
    out = StringIO()
    call_command("import_digest", *args, stdout=out)
    return out.getvalue()


def test_the_command_refuses_unplaced_text_unless_allowed_and_exits_non_zero():
    with pytest.raises(CommandError, match="2 lines were left unplaced") as refused:
        _command(str(TEXT_PATH))
    assert refused.value.returncode == 1
    assert Digest.objects.count() == 0
    output = _command(str(TEXT_PATH), "--allow-unplaced")
    assert "Created draft digest" in output and "review them" in output


def test_the_command_imports_a_file_and_prints_the_report():
    output = _command(str(TEXT_PATH), "--allow-unplaced")
    assert "Created draft digest" in output
    assert "unknown section “神秘段落” (lines 61)" in output
    assert "left out (page chrome" in output and "联系我们" in output
    assert Digest.objects.get().entries.count() == 2


def test_the_command_dry_run_writes_nothing():
    output = _command(str(TEXT_PATH), "--dry-run", "--allow-unplaced")
    assert "nothing written" in output
    assert "would create a digest with 2 new papers, 0 already known" in output
    assert Digest.objects.count() == 0


def test_the_command_refuses_a_second_import_and_replaces_on_request():
    _command(str(TEXT_PATH), "--allow-unplaced")
    with pytest.raises(CommandError, match="exists already"):
        _command(str(TEXT_PATH), "--allow-unplaced")
    assert "Replaced draft digest" in _command(str(TEXT_PATH), "--replace", "--allow-unplaced")
    assert Digest.objects.count() == 1


def test_the_command_publishes_only_for_a_named_user_allowed_to():
    factories.user("author", staff=True)
    factories.user("editor", staff=True, perms=["papers.publish_digest"])
    with pytest.raises(CommandError, match="needs --user"):
        _command(str(TEXT_PATH), "--publish")
    with pytest.raises(CommandError, match="may not publish"):
        _command(str(TEXT_PATH), "--publish", "--user", "author")
    assert Digest.objects.count() == 0
    output = _command(str(TEXT_PATH), "--publish", "--user", "editor", "--allow-unplaced")
    assert "Created published digest" in output


def test_the_command_names_the_line_of_malformed_input(tmp_path):
    broken = tmp_path / "broken.txt"
    broken.write_text(TEXT.replace("时间:2024-03-14", "时间:2024-13-14"))
    with pytest.raises(CommandError, match="Line 5: .*not a valid date"):
        _command(str(broken))
    binary = tmp_path / "figure.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(CommandError, match="binary"):
        _command(str(binary))
    with pytest.raises(CommandError, match="no such file"):
        _command(str(tmp_path / "missing.txt"))


def test_the_command_reads_markdown_with_an_explicit_format():
    output = _command(
        str(SAMPLES / "digest-markdown.md"), "--format", "markdown", "--allow-unplaced"
    )
    assert "markdown layout" in output
    assert "unknown section “动机”" in output
    entry = Entry.objects.get(position=1)
    figure = entry.figures.get()
    assert figure.caption == "Figure 1: pipeline overview" and figure.needs_upload


def test_mangled_digests_are_imported_or_refused_with_an_import_error_never_a_crash():
    """Lines deleted, repeated, cut or shuffled at random (fixed seed): every result is a
    clean import or a DigestImportError, never another exception."""
    import random

    from django.db import transaction

    rng = random.Random(2025)
    for sample in (TEXT, (SAMPLES / "digest-markdown.md").read_text(encoding="utf-8")):
        lines = sample.split("\n")
        for _case in range(60):
            mangled = list(lines)
            for _change in range(rng.randint(1, 6)):
                i = rng.randrange(len(mangled))
                choice = rng.random()
                if choice < 0.3:
                    del mangled[i]
                elif choice < 0.6:
                    mangled.insert(i, mangled[rng.randrange(len(mangled))])
                elif choice < 0.8:
                    mangled[i] = mangled[i][: rng.randrange(len(mangled[i]) + 1)]
                else:
                    mangled[i] = "".join(rng.sample(mangled[i], len(mangled[i])))
            try:
                with transaction.atomic():
                    write_digest(parse_digest("\n".join(mangled)), dry_run=True)
            except DigestImportError:
                pass
    assert Digest.objects.count() == 0


def test_an_imported_digest_has_an_audit_record_and_a_first_revision():
    from editorial.models import AuditRecord

    digest = write_digest(parse_digest(TEXT)).digest
    assert AuditRecord.objects.filter(digest=digest, action="create").count() == 1
    revision = digest.revisions.get()
    assert len(revision.snapshot["entries"]) == digest.entries.count()


def test_replace_refuses_to_delete_reader_comments():
    digest = write_digest(parse_digest(TEXT)).digest
    factories.comment(on=digest.entries.first(), body="有人评论过")
    before = _counts()
    with pytest.raises(DigestImportError) as refused:
        write_digest(parse_digest(TEXT), replace=True)
    assert "comment" in str(refused.value)
    assert _counts() == before
