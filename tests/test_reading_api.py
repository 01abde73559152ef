"""The read-only JSON API."""

import pytest

from papers.changes import content_changed
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def content():
    digest = factories.digest(entries=3, title="AI前沿推介(9.30)")
    digest.tags.add("推荐")
    digest.entries.get(position=2).tags.add("强化学习")
    factories.digest(entries=1, status="draft", title="草稿一期")
    return digest


def test_root_lists_the_endpoints(client):
    data = client.get("/api/v1/").json()
    assert set(data) == {"digests", "entries", "categories", "tags", "section_kinds"}
    assert data["entries"] == "http://testserver/api/v1/entries/"


def test_digest_list_is_paginated_and_published_only(client, content):
    factories.digest(entries=1)
    first = client.get("/api/v1/digests/?page_size=1").json()
    assert first["count"] == 2
    assert len(first["results"]) == 1
    assert first["next"].endswith("page=2") and first["previous"] is None
    titles = {d["title"] for d in client.get("/api/v1/digests/").json()["results"]}
    assert "草稿一期" not in titles


def test_digest_detail_has_entries_sections_figures_and_tags(client, content):
    url = f"/api/v1/digests/{content.issue_date}/{content.slug}/"
    response = client.get(url)
    assert response["Content-Type"] == "application/json"
    assert "public" in response["Cache-Control"] and "must-revalidate" in response["Cache-Control"]
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    data = response.json()
    assert data["title"] == "AI前沿推介(9.30)"
    assert [t["name"] for t in data["tags"]] == ["推荐"]
    assert [e["position"] for e in data["entries"]] == [1, 2, 3]
    first = data["entries"][0]
    assert [s["kind"] for s in first["sections"]][0] == "key-points"
    assert first["sections"][0]["html"].startswith("<ul>")
    assert first["figures"] == []  # placeholders without images are not published
    assert first["paper"]["primary_category"]["short_code"] == "LG"


def test_entry_list_uses_the_html_lists_filters_and_search(client, content):
    data = client.get("/api/v1/entries/?tag=强化学习").json()
    assert data["count"] == 1
    assert data["results"][0]["position"] == 2
    assert client.get("/api/v1/entries/?q=推理&category=LG").json()["count"] == 3
    unknown = client.get("/api/v1/entries/?tag=nope").json()
    assert unknown["count"] == 0 and unknown["notices"]


@pytest.mark.parametrize(
    "query", ["date_from=nonsense", "page_size=0", "page_size=abc", "page=abc", "sort=nope"]
)
def test_bad_parameters_are_400_with_a_message(client, content, query):
    response = client.get(f"/api/v1/entries/?{query}")
    assert response.status_code == 400
    assert "error" in response.json()


def test_entry_detail_and_unknown_or_draft_entries(client, content):
    entry = content.entries.get(position=1)
    data = client.get(f"/api/v1/entries/{entry.pk}/").json()
    assert data["paper"]["arxiv_id"] == entry.paper.arxiv_id
    assert data["digest"]["slug"] == content.slug
    draft_entry = factories.digest(entries=1, status="draft").entries.get()
    assert client.get(f"/api/v1/entries/{draft_entry.pk}/").status_code == 404
    assert client.get("/api/v1/entries/999999/").status_code == 404


def test_categories_tags_and_section_kinds(client, content):
    categories = client.get("/api/v1/categories/").json()["results"]
    assert [c["code"] for c in categories] == ["cs.LG"]
    assert categories[0]["entry_count"] == 3
    tags = client.get("/api/v1/tags/").json()["results"]
    assert [t["name"] for t in tags] == ["强化学习"]
    kinds = client.get("/api/v1/section-kinds/").json()["results"]
    assert [k["name_zh"] for k in kinds][:2] == ["要点", "主旨"]


def test_api_is_read_only(client):
    assert client.post("/api/v1/entries/").status_code == 405


def test_api_answers_change_at_once_when_a_digest_is_unpublished_or_edited(client, content):
    from editorial import services

    url = f"/api/v1/digests/{content.issue_date}/{content.slug}/"
    assert client.get(url).status_code == 200
    assert client.get("/api/v1/digests/").json()["count"] == 1  # now cached
    content.title = "改过的标题"
    content.save()
    content_changed()  # as the digest admin announces its saves
    assert client.get(url).json()["title"] == "改过的标题"
    services.digest_unpublish(digest=content, by=factories.user("boss", superuser=True))
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/digests/").json()["count"] == 0


def test_api_cache_never_outlives_a_scheduled_go_live_or_expiry(client, time_machine):
    import datetime

    from django.utils import timezone

    now = timezone.now()
    time_machine.move_to(now, tick=False)
    factories.digest(entries=1, title="今天的")
    factories.digest(entries=1, title="明早上线", published_at=now + datetime.timedelta(minutes=2))
    factories.digest(
        entries=1,
        title="午夜下线",
        published_at=now - datetime.timedelta(days=1),
        expires_at=now + datetime.timedelta(minutes=4),
    )

    def titles():
        return {d["title"] for d in client.get("/api/v1/digests/").json()["results"]}

    assert titles() == {"今天的", "午夜下线"}
    # Both moments fall well inside the API's 5-minute cache lifetime.
    time_machine.move_to(now + datetime.timedelta(minutes=2, seconds=1), tick=False)
    assert titles() == {"今天的", "明早上线", "午夜下线"}
    time_machine.move_to(now + datetime.timedelta(minutes=4, seconds=1), tick=False)
    assert titles() == {"今天的", "明早上线"}


def test_a_search_past_its_counting_cap_still_pages_on_to_the_end(client, content, monkeypatch):
    """With more matches than the cap, the count says so and every page is still served,
    each telling whether another follows; a page past the end is 404 (docs/api.md)."""
    from reading import search

    monkeypatch.setattr(search, "MAX_COUNTED_RESULTS", 1)
    url = "/api/v1/entries/?q=推理&page_size=1"
    first = client.get(url).json()
    assert first["count"] == 2 and first["count_is_capped"] is True
    seen = [first["results"][0]["id"]]
    page = first
    while page["next"]:
        page = client.get(page["next"]).json()
        seen.append(page["results"][0]["id"])
    assert len(seen) == len(set(seen)) == 3  # the three published entries, each once
    assert client.get(url + "&page=4").status_code == 404
