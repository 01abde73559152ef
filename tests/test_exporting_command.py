"""``manage.py export_digest``: every format to a file or standard output, and a clear
error line (a non-zero exit) for anything it cannot do."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from papers.models import Section, SectionKind
from tests import factories
from tests.export_support import SITE, rich_digest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = SITE


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("export_digest", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_published_digest_goes_to_standard_output_by_date():
    rich_digest()
    out, err = run("2025-09-30", "--format", "markdown")
    assert out.startswith("# AI前沿推介(9.30)\n")
    assert "![图1:描述长度与泛化](https://digest.example.com/media/figures/" in out


def test_each_format_is_written_whole_to_a_file_or_a_folder(tmp_path):
    digest = rich_digest()
    out, _err = run(str(digest.pk), "--format", "wechat", "--output", str(tmp_path / "a.html"))
    assert (tmp_path / "a.html").read_text(encoding="utf-8").startswith("<section style=")
    assert "of 20,000 characters of text" in out
    run(f"2025-09-30/{digest.slug}", "--format", "json", "-o", str(tmp_path))
    written = tmp_path / "2025-09-30-issue-2025-09-30.json"
    assert written.read_text(encoding="utf-8").startswith("{")
    assert not list(tmp_path.glob(".export-*"))  # no temporary file left behind


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999", "--format", "json"], "No digest with id 999."),
        (["yesterday", "--format", "json"], "names no digest"),
        (["2024-02-30", "--format", "json"], "names no digest"),
        (["2025-01-01", "--format", "json"], "No digest of 2025-01-01."),
        (["1", "--format", "pdf"], "invalid choice: 'pdf'"),
        (["1", "--format", "json", "--site-url", "digest.example.com"], "not an http(s)"),
        (["1", "--format", "json", "--user", "nobody"], "No active user “nobody”."),
    ],
)
def test_bad_input_is_one_clear_error(args, message):
    digest = rich_digest()
    args = [str(digest.pk) if a == "1" else a for a in args]
    with pytest.raises(CommandError) as error:
        run(*args)
    assert message in str(error.value)


def test_two_digests_of_one_day_need_the_slug():
    rich_digest()
    factories.digest(issue_date="2025-09-30", slug="second-edition")
    with pytest.raises(CommandError, match="2025-09-30/second-edition"):
        run("2025-09-30", "--format", "json")


def test_an_unwritable_path_is_an_error_and_writes_nothing(tmp_path):
    digest = rich_digest()
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for target in (tmp_path / "missing" / "out.md", blocker / "out.md"):
        with pytest.raises(CommandError, match="Nothing was written"):
            run(str(digest.pk), "--format", "markdown", "-o", str(target))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "media"]


def test_without_a_site_address_the_command_says_what_to_set(settings):
    settings.SITE_URL = ""
    digest = rich_digest()
    with pytest.raises(CommandError, match="set SITE_URL"):
        run(str(digest.pk), "--format", "zhihu")
    out, _err = run(str(digest.pk), "--format", "zhihu", "--site-url", "https://mirror.example")
    assert "](https://mirror.example/media/figures/" in out


def test_a_draft_is_exported_only_for_staff_who_may_change_digests():
    digest = rich_digest(status="draft")
    with pytest.raises(CommandError, match="--user"):
        run(str(digest.pk), "--format", "markdown")
    factories.user("viewer", staff=True, perms=["papers.view_digest"])
    with pytest.raises(CommandError, match="only staff who may change digests"):
        run(str(digest.pk), "--format", "markdown", "--user", "viewer")
    factories.user("author", staff=True, perms=["papers.view_digest", "papers.change_digest"])
    out, _err = run(str(digest.pk), "--format", "markdown", "--user", "author")
    assert out.startswith("# AI前沿推介(9.30)")


def test_a_long_issue_is_written_with_a_warning_about_wechats_limit(tmp_path):
    digest = factories.digest(entries=0)
    for position in range(1, 6):
        entry = factories.entry(digest=digest, position=position, with_sections=False)
        Section.objects.create(
            entry=entry, kind=SectionKind.objects.get(slug="gist"), body="长评论。" * 1200
        )
    out, err = run(str(digest.pk), "--format", "wechat", "-o", str(tmp_path / "long.html"))
    assert "warning: Too long for WeChat" in err and "at most 20,000" in err
    assert (tmp_path / "long.html").exists()


def test_a_bad_format_exits_non_zero_with_one_line_and_no_traceback():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "digestsite.test_settings"}
    done = subprocess.run(
        [sys.executable, "manage.py", "export_digest", "1", "--format", "docx"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "invalid choice: 'docx'" in done.stderr and "Traceback" not in done.stderr
