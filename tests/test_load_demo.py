from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from papers.models import Digest, Entry, Figure, Paper, Section

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path


def _counts():
    return tuple(m.objects.count() for m in (Digest, Entry, Paper, Section, Figure))


def test_load_demo_creates_two_published_digests_with_full_entries():
    out = StringIO()
    call_command("load_demo", "--admin", stdout=out)
    assert Digest.objects.published().count() == 2
    newest = Digest.objects.get(issue_date="2025-09-28")
    papers = [e.paper for e in newest.entries.select_related("paper__primary_category")]
    assert [p.arxiv_id for p in papers] == [
        "2509.22445",
        "2509.22613",
        "2509.21651",
        "2509.21499",
        "2509.21487",
    ]
    assert [p.primary_category.short_code for p in papers] == ["LG", "LG", "LG", "CL", "CL"]
    assert all(entry.sections.count() == 8 for entry in newest.entries.all())
    assert all(figure.image for figure in Figure.objects.all())
    assert "user: admin  password: " in out.getvalue()


def test_load_demo_is_idempotent():
    call_command("load_demo", "--admin", stdout=StringIO())
    before = _counts()
    out = StringIO()
    call_command("load_demo", "--admin", stdout=out)
    assert _counts() == before
    assert "already loaded" in out.getvalue()


def test_the_printed_admin_login_works_on_every_run():
    for _ in range(2):
        out = StringIO()
        call_command("load_demo", "--admin", stdout=out)
        password = out.getvalue().split("password: ")[1].split()[0]
        assert Client().login(username="admin", password=password)


def test_demo_digest_pages_render_with_previous_issue_link():
    call_command("load_demo", stdout=StringIO())
    client = Client()
    newest = Digest.objects.get(issue_date="2025-09-28")
    older = Digest.objects.get(issue_date="2025-09-27")
    html = client.get(newest.get_absolute_url()).content.decode()
    assert f'rel="prev" href="{older.get_absolute_url()}"' in html
    for entry in newest.entries.all():
        assert client.get(entry.get_absolute_url()).status_code == 200


def test_load_demo_adds_demo_comments_once_with_a_pin_a_staff_reply_and_one_waiting():
    from comments.models import Comment

    call_command("load_demo", stdout=StringIO())
    call_command("load_demo", stdout=StringIO())
    assert Comment.objects.filter(is_pinned=True).count() == 1
    assert Comment.objects.filter(is_staff_reply=True).count() == 1
    assert Comment.objects.filter(status="pending").count() == 1
    assert Comment.objects.count() == 5
    newest = Digest.objects.get(issue_date="2025-09-28")
    html = Client().get(newest.get_absolute_url()).content.decode()
    assert "badge-pinned" in html


def test_the_printed_admin_link_follows_the_served_address():
    out = StringIO()
    call_command("load_demo", "--admin", "--site-url", "http://127.0.0.1:8001", stdout=out)
    assert "Admin login: http://127.0.0.1:8001/admin/" in out.getvalue()
