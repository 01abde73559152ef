"""export_site / import_site: the whole site survives a round trip into an empty database,
and an import that fails or is killed half-way leaves that database empty."""

import importlib
import json
import os
import re
import signal
import subprocess
import sys
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from editorial import backup
from editorial.demo import figure_png
from papers.models import Category, Digest, Figure, SectionKind, SiteSettings
from reading import related
from tests import factories

ROOT = Path(__file__).resolve().parent.parent


def _build_site():
    """A little of everything an export must carry, including edits to seeded rows."""
    kind = SectionKind.objects.get(slug="gist")
    kind.name_en = "Main idea"
    kind.save()
    SectionKind.objects.create(slug="motivation", name_zh="动机", name_en="Motivation", order=5)
    Category.objects.create(code="q-bio.NC", name="Neurons and Cognition")
    first = factories.digest(entries=3, title="AI前沿推介(9.29)")
    second = factories.digest(entries=2, title="AI前沿推介(9.30)")
    factories.digest(entries=1, status="draft", title="草稿")
    # Issue 18: an item not on arXiv, known by its link, travels too (its address with it).
    news = factories.paper(
        arxiv_id=None, source_url="https://example.org/news/1", authors="", abstract=""
    )
    factories.entry(digest=second, position=3, paper=news, title_zh="")
    first.tags.add("推理", "蒸馏")
    second.entries.first().tags.add("agents")
    for index, figure in enumerate(Figure.objects.filter(entry__digest=first), start=1):
        figure.image.save(f"fig{index}.png", ContentFile(figure_png("backup", index)))
    site = SiteSettings.load()
    site.footer_text = "联系我们:digest@example.com"
    site.save()
    editors = Group.objects.get_or_create(name="Editor")[0]
    editors.permissions.add(Permission.objects.get(codename="publish_digest"))
    editor = factories.user("editor", staff=True, perms=["papers.change_digest"])
    editor.groups.add(editors)
    factories.user("chief", superuser=True)


def _pages() -> dict[str, str]:
    """Every public page (and the admin's view of a digest), with per-request tokens removed."""
    urls = ["/"]
    for digest in Digest.objects.published():
        urls.append(digest.get_absolute_url())
        urls.extend(entry.get_absolute_url() for entry in digest.entries.all())
    client = Client()
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        # Per-request tokens: the CSRF token and the comment form's signed "served at" stamp.
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.text)
        pages[url] = re.sub(r'name="stamp" value="[^"]+"', "", text)
    return pages


def _counts() -> dict[str, int]:
    return {m._meta.label_lower: m._base_manager.count() for m in backup.backup_models()}


def _media(settings) -> dict[str, bytes]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _empty_the_database(settings, tmp_path, name="restored-media"):
    if connection.vendor == "postgresql":
        # Inside the test's transaction, TRUNCATE needs the deferred FK checks done first.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, verbosity=0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    ContentType.objects.clear_cache()
    settings.MEDIA_ROOT = tmp_path / name


@pytest.mark.django_db
def test_a_site_exported_and_imported_into_an_empty_database_is_identical(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    _build_site()
    # The related papers, as the worker keeps them on a live site (derived: not in the
    # archive, the restore schedules their computation again).
    related.refresh(force=True)
    pages, counts, media = _pages(), _counts(), _media(settings)
    archive = tmp_path / "site.zip"
    call_command("export_site", str(archive), stdout=StringIO())

    _empty_the_database(settings, tmp_path)
    assert not Digest.objects.exists() and not get_user_model().objects.exists()
    out = StringIO()
    call_command("import_site", str(archive), stdout=out)

    assert "Restored" in out.getvalue()
    assert _counts() == counts
    assert _pages() == pages
    assert _media(settings) == media and len(media) == 3
    if connection.vendor == "postgresql":  # the facet copy of the search rows is rebuilt
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM papers_entryfacets")
            copies = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM papers_entrysearch")
            assert copies == cursor.fetchone()[0] > 0
    assert SectionKind.objects.get(slug="gist").name_en == "Main idea"
    editor = get_user_model().objects.get(username="editor")
    assert editor.has_perm("papers.publish_digest")  # through the restored group
    assert editor.has_perm("papers.change_digest")  # given directly
    assert not editor.has_usable_password()  # hashes stay out unless asked for
    # New rows get fresh ids after a restore (sequences follow the imported ids).
    highest = max(Digest.objects.values_list("pk", flat=True))
    assert factories.digest(entries=1).pk > highest


@pytest.mark.django_db
def test_password_hashes_travel_only_when_asked(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    factories.user("chief", superuser=True)
    archive = tmp_path / "site.zip"
    call_command("export_site", str(archive), "--with-passwords", stdout=StringIO())
    with zipfile.ZipFile(archive) as opened:
        users = next(n for n in opened.namelist() if n.endswith("auth.user.json"))
        assert "md5$" in opened.read(users).decode()
    _empty_the_database(settings, tmp_path)
    call_command("import_site", str(archive), stdout=StringIO())
    assert Client().login(username="chief", password="pw-for-tests-only")


@pytest.mark.django_db
def test_every_model_of_the_papers_app_is_in_the_archive(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    from django.apps import apps

    archive = tmp_path / "site.zip"
    call_command("export_site", str(archive), stdout=StringIO())
    with zipfile.ZipFile(archive) as opened:
        manifest = json.loads(opened.read("manifest.json"))
    models = apps.get_app_config("papers").get_models()
    labels = {m._meta.label_lower for m in models if m._meta.managed}
    assert labels <= set(manifest["counts"])
    # The facet copy is the database's own (PostgreSQL triggers rebuild it on import).
    assert "papers.entryfacets" not in manifest["counts"]
    # Referenced models load before the models that refer to them.
    order = list(manifest["counts"])
    assert order.index("papers.paper") < order.index("papers.entry") < order.index("papers.section")
    assert order.index("taggit.tag") < order.index("papers.taggedentry")


@pytest.mark.django_db
def test_import_refuses_a_database_that_has_content(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    factories.digest(entries=1)
    archive = tmp_path / "site.zip"
    call_command("export_site", str(archive), stdout=StringIO())
    before = _counts()
    with pytest.raises(CommandError, match="empty database"):
        call_command("import_site", str(archive), stdout=StringIO())
    assert _counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No archive"),
        (b"not a zip", "not a zip archive"),
        ("zip-without-manifest", "no manifest.json"),
        ("zip-other-format", "not a site archive"),
    ],
)
def test_import_of_something_that_is_not_an_archive_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "site.zip"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content == "zip-without-manifest":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("data.json", "[]")
    elif content == "zip-other-format":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("manifest.json", json.dumps({"format": "something-else"}))
    with pytest.raises(CommandError, match=message):
        call_command("import_site", str(path), stdout=StringIO())


@pytest.mark.django_db
def test_an_import_that_fails_half_way_leaves_the_database_empty(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    _build_site()
    archive = tmp_path / "site.zip"
    call_command("export_site", str(archive), stdout=StringIO())
    _empty_the_database(settings, tmp_path)

    def fail(label, rows):
        if label == "papers.section":
            raise OSError("disk full")

    backup.after_model_loaded.append(fail)
    try:
        with pytest.raises(CommandError, match="disk full"):
            call_command("import_site", str(archive), stdout=StringIO())
    finally:
        backup.after_model_loaded.remove(fail)
    assert backup.database_is_empty()
    assert not Digest.objects.exists() and not get_user_model().objects.exists()


# The import runs in a child process that stops after loading the sections (inside the
# import's transaction) and is then killed with SIGKILL: no cleanup code gets to run.
HOLD_AND_WAIT = """
import sys, time
import django
django.setup()
from editorial import backup

def hold(label, rows):
    if label == "papers.section":
        print("HOLDING", rows, flush=True)
        time.sleep(600)

backup.after_model_loaded.append(hold)
backup.import_site(sys.argv[1])
print("COMMITTED", flush=True)
"""

COUNT = """
import json
import django
django.setup()
from editorial import backup
print(json.dumps({m._meta.label_lower: m._base_manager.count() for m in backup.backup_models()}))
"""


def _child_env(database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "VIRTUAL_ENV")}
    env.update(
        DJANGO_SETTINGS_MODULE="digestsite.test_settings",
        DATABASE_URL=database_url,
        VAR_DIR=str(tmp_path / "child-var"),
    )
    return env


def kill_while_held(script: str, argument: str, *, env) -> list[str]:
    """Run ``script`` in a child process until it prints "HOLDING ..." (it is then inside an
    open transaction), SIGKILL it, and return the numbers it printed."""
    child = subprocess.Popen(
        [sys.executable, "-c", script, argument],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()
        assert line.startswith("HOLDING"), line + child.stderr.read()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    return line.split()[1:]


def _database_url_for_child(tmp_path) -> str:
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
        return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    url = f"sqlite:///{tmp_path / 'child.sqlite3'}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=_child_env(url, tmp_path),
        check=True,
        timeout=300,
    )
    return url


@pytest.mark.django_db(transaction=True)
def test_an_import_killed_mid_way_leaves_the_database_empty(settings, tmp_path):
    from django.apps import apps

    # A transactional test may start without the rows migrations seeded.
    importlib.import_module("papers.migrations.0002_seed_reference_data").seed(apps, None)
    settings.MEDIA_ROOT = tmp_path / "media"
    _build_site()
    archive = tmp_path / "site.zip"
    call_command("export_site", str(archive), stdout=StringIO())
    call_command("flush", interactive=False, verbosity=0)
    ContentType.objects.clear_cache()

    database_url = _database_url_for_child(tmp_path)
    env = _child_env(database_url, tmp_path)
    held = kill_while_held(HOLD_AND_WAIT, str(archive), env=env)
    assert int(held[0]) > 0  # sections were written, uncommitted

    counted = subprocess.run(
        [sys.executable, "-c", COUNT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    counts = json.loads(counted.stdout.strip().splitlines()[-1])
    for label in ("papers.digest", "papers.entry", "papers.section", "papers.paper", "auth.user"):
        assert counts[label] == 0, (label, counts)
    # The restore can simply be run again.
    rerun = subprocess.run(
        [sys.executable, "manage.py", "import_site", str(archive)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert "Restored" in rerun.stdout


@pytest.mark.django_db
def test_the_archive_is_readable_by_its_owner_only(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    archive = tmp_path / "site.zip"
    call_command("export_site", str(archive), stdout=StringIO())
    assert archive.stat().st_mode & 0o777 == 0o600


@pytest.mark.django_db
def test_exporting_into_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("export_site", str(tmp_path / "nope" / "site.zip"), stdout=StringIO())
