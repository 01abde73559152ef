"""The JSON export is the API's document for the digest, with the site's address."""

import json

import pytest

from editorial.exporting import SiteAddress, export_digest
from tests import factories
from tests.export_support import rich_digest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_json_export_equals_the_apis_answer(client):
    digest = rich_digest()
    api = client.get(f"/api/v1/digests/{digest.issue_date}/{digest.slug}/").json()

    exported = export_digest(
        digest_id=digest.pk, fmt="json", address=SiteAddress("http://testserver")
    )

    assert json.loads(exported.text) == api
    assert len(api["entries"]) == 3 and api["entries"][0]["figures"]


def test_the_json_export_of_a_draft_has_the_api_shape_and_the_sites_address():
    digest = rich_digest(status="draft")
    editor = factories.user("editor", superuser=True)
    data = json.loads(
        export_digest(
            digest_id=digest.pk,
            fmt="json",
            address=SiteAddress("https://digest.example.com"),
            by=editor,
        ).text
    )
    assert data["status"] == "draft"
    assert data["url"] == "https://digest.example.com/digests/2025-09-30/issue-2025-09-30/"
    assert data["entries"][0]["figures"][0]["url"].startswith(
        "https://digest.example.com/media/figures/"
    )
    assert [t["name"] for t in data["tags"]] == ["每日推介"]
