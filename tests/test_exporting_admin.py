"""The export pages of the digest admin: the link on the change page, every format with its
warnings and downloads, the WeChat preview, and who may export what."""

import pytest
from django.urls import reverse

from tests import factories
from tests.export_support import SITE, rich_digest
from tests.workflow_support import client_for as _client_for
from tests.workflow_support import role_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = SITE


def client_for(user):
    """A client reading the admin in English."""
    client = _client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def export_url(digest, **query):
    url = reverse("admin:papers_digest_export", args=[digest.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_change_page_links_to_the_exports_for_those_who_may_export():
    digest = rich_digest(status="draft")
    change = reverse("admin:papers_digest_change", args=[digest.pk])
    author_page = client_for(role_user("author")).get(change).content.decode()
    assert export_url(digest) in author_page
    viewer = factories.user("viewer", staff=True, perms=["papers.view_digest"])
    assert export_url(digest) not in client_for(viewer).get(change).content.decode()


def test_the_export_page_offers_every_format_and_the_wechat_copy_button():
    digest = rich_digest()
    response = client_for(role_user("editor")).get(export_url(digest))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="wechat-copy"' in page and "js/digest-export.js" in page
    assert 'id="wechat-html"' in page and "&lt;section style=" in page
    for fmt in ("wechat", "zhihu", "markdown", "json"):
        assert f'href="?download={fmt}"' in page
    assert "of 20,000 characters of text" in page
    assert "Image on 2025-09-29 09.16.09 PM" in page  # the figure left out, named
    assert "no-store" in response["Cache-Control"]
    assert "<script>" not in page.split("</head>")[1]  # no inline script on the page


@pytest.mark.parametrize(
    ("fmt", "content_type", "start"),
    [
        ("wechat", "text/html; charset=utf-8", "<section style="),
        ("zhihu", "text/markdown; charset=utf-8", "# AI前沿推介(9.30)"),
        ("markdown", "text/markdown; charset=utf-8", "# AI前沿推介(9.30)"),
        ("json", "application/json; charset=utf-8", "{"),
    ],
)
def test_each_format_downloads_as_a_named_file(fmt, content_type, start):
    digest = rich_digest()
    response = client_for(role_user("editor")).get(export_url(digest, download=fmt))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert "2025-09-30-issue-2025-09-30" in response["Content-Disposition"]
    assert response.content.decode().startswith(start)


def test_an_unknown_download_format_returns_to_the_page_with_a_message():
    digest = rich_digest()
    client = client_for(role_user("editor"))
    response = client.get(export_url(digest, download="pdf"), follow=True)
    assert response.status_code == 200
    assert "Unknown format “pdf”." in response.content.decode()


def test_a_long_issue_says_so_on_the_export_page():
    from papers.models import Section, SectionKind

    digest = factories.digest(entries=0)
    for position in range(1, 6):
        entry = factories.entry(digest=digest, position=position, with_sections=False)
        Section.objects.create(
            entry=entry, kind=SectionKind.objects.get(slug="gist"), body="长评论。" * 1200
        )
    page = client_for(role_user("editor")).get(export_url(digest)).content.decode()
    assert "Too long for WeChat" in page and "export-too-long" in page


def test_the_wechat_preview_lets_only_style_attributes_apply():
    digest = rich_digest()
    response = client_for(role_user("editor")).get(
        reverse("admin:papers_digest_export_preview", args=[digest.pk])
    )
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "style-src-attr 'unsafe-inline'" in policy
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert f"img-src 'self' data: {SITE}" in policy
    assert '<main class="wechat-preview-column"><section style="max-width: 677px' in (
        response.content.decode()
    )


@pytest.mark.parametrize("status", ["draft", "review"])
def test_a_draft_is_exported_by_authors_and_editors_but_not_by_mere_viewers(status):
    digest = rich_digest(status=status)
    for role in ("author", "editor"):
        assert client_for(role_user(role)).get(export_url(digest)).status_code == 200
    viewer = factories.user("viewer", staff=True, perms=["papers.view_digest"])
    assert client_for(viewer).get(export_url(digest)).status_code == 403
    assert client_for(viewer).get(export_url(digest, download="markdown")).status_code == 403
    preview = reverse("admin:papers_digest_export_preview", args=[digest.pk])
    assert client_for(viewer).get(preview).status_code == 403


def test_a_published_digest_is_exported_by_any_editorial_staff():
    digest = rich_digest()
    viewer = factories.user("viewer", staff=True, perms=["papers.view_digest"])
    assert client_for(viewer).get(export_url(digest, download="wechat")).status_code == 200


def test_readers_moderators_and_anonymous_visitors_cannot_export():
    digest = rich_digest()
    reader = factories.user("reader")
    for client in (client_for(None), client_for(reader)):
        response = client.get(export_url(digest, download="markdown"))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client_for(role_user("moderator")).get(export_url(digest)).status_code == 403


def test_no_public_address_serves_an_export():
    digest = rich_digest(status="draft")
    from django.test import Client

    for path in (
        f"/digests/{digest.issue_date}/{digest.slug}/?download=markdown",
        f"/api/v1/digests/{digest.issue_date}/{digest.slug}/",
        f"/export/{digest.pk}/",
    ):
        assert Client().get(path).status_code == 404


def test_an_unknown_digest_is_a_404():
    response = client_for(role_user("editor")).get(
        reverse("admin:papers_digest_export", args=[987654])
    )
    assert response.status_code == 404
