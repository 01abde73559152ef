"""The back office's "Import digest" page: preview first, then create; permissions on the
server; malformed input answered on the page, never with a 500."""

import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from papers.models import Digest, Entry, Paper
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SAMPLES = Path(__file__).parent / "samples"
TEXT = (SAMPLES / "digest-text.txt").read_text(encoding="utf-8")
URL = "/admin/papers/digest/import/"


def _client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _post(client, data, files=None):
    client.get(URL)
    # The samples hold unplaced text on purpose; creating without "allow_unplaced" is refused
    # (its own test below).
    data = {
        "format": "auto",
        "allow_unplaced": "on",
        **data,
        "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
    }
    if files:
        data.update(files)
    return client.post(URL, data, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def editor():
    return factories.user(
        "editor",
        staff=True,
        perms=["papers.add_digest", "papers.change_digest", "papers.view_digest"],
    )


def test_the_digest_list_links_to_the_import_page(editor):
    response = _client(editor).get(reverse("admin:papers_digest_changelist"))
    assert URL.encode() in response.content
    assert reverse("admin-digest-import") == URL


def test_preview_shows_what_was_recognised_and_saves_nothing(editor):
    response = _post(_client(editor), {"text": TEXT, "_preview": "1"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Sparse Mixtures of Tiny Experts" in page and "稀疏的小专家混合模型" in page
    assert "2403.01234" in page and "hep-th/9901001" in page
    assert "神秘段落" in page and "add as a section kind" in page
    assert "这一行编辑忘了放在哪里" in page
    assert 'name="_create"' in page
    assert Digest.objects.count() == 0 and Paper.objects.count() == 0


def test_preview_says_which_papers_are_new_and_which_known_fields_it_fills(editor):
    factories.paper(arxiv_id="hep-th/9901001", title="Edited Title", affiliations="")
    response = _post(_client(editor), {"text": TEXT, "_preview": "1"})
    page = response.content.decode()
    assert "Importing creates the draft ai-frontier-2024-03-14." in page
    assert "1 new paper," in page and "1 already known" in page
    assert "new paper, cs.LG" in page
    # A known paper keeps its own category whatever the digest tags it with.
    assert "known paper, cs.LG: its facts are kept (fills affiliations)" in page
    assert Paper.objects.get(arxiv_id="hep-th/9901001").affiliations == ""
    assert Digest.objects.count() == 0


def test_preview_of_a_replacement_says_which_draft_it_rewrites_and_changes_nothing(editor):
    client = _client(editor)
    _post(client, {"text": TEXT, "_create": "1"})
    draft = Digest.objects.get()
    response = _post(
        client, {"text": TEXT.replace("Sparse Mixtures", "Dense"), "replace": "on", "_preview": "1"}
    )
    page = response.content.decode()
    assert "Importing rewrites the draft “AI前沿推介(3.14)” (2 papers now)." in page
    assert "0 new papers" in page and "2 already known" in page
    assert list(Entry.objects.values_list("pk", flat=True)) == list(
        draft.entries.values_list("pk", flat=True)
    )
    assert not Paper.objects.filter(title__startswith="Dense").exists()


def test_publishing_a_draft_whose_expiry_has_passed_is_refused_on_the_page(editor):
    publisher = factories.user(
        "publisher",
        staff=True,
        perms=["papers.add_digest", "papers.change_digest", "papers.publish_digest"],
    )
    client = _client(publisher)
    _post(client, {"text": TEXT, "_create": "1"})
    Digest.objects.update(expires_at=timezone.now() - datetime.timedelta(days=1))
    for button in ("_preview", "_create"):
        response = _post(client, {"text": TEXT, "replace": "on", "publish": "on", button: "1"})
        assert response.status_code == 200
        assert "expires before it would go live" in response.content.decode()
    assert Digest.objects.get().status == Digest.Status.DRAFT


def test_create_draft_stores_it_and_opens_it(editor):
    response = _post(_client(editor), {"text": TEXT, "_create": "1"})
    digest = Digest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:papers_digest_change", args=[digest.pk])
    assert digest.status == Digest.Status.DRAFT and digest.entries.count() == 2


def test_an_uploaded_markdown_file_is_imported(editor):
    upload = SimpleUploadedFile(
        "old.md", (SAMPLES / "digest-markdown.md").read_bytes(), "text/markdown"
    )
    response = _post(_client(editor), {"text": "", "_create": "1"}, {"file": upload})
    assert response.status_code == 302
    assert Entry.objects.get(position=1).paper.arxiv_id == "2404.00001"


def test_a_second_import_of_the_same_digest_is_refused_on_the_page(editor):
    client = _client(editor)
    _post(client, {"text": TEXT, "_create": "1"})
    response = _post(client, {"text": TEXT, "_preview": "1"})
    assert response.status_code == 200
    assert "exists already" in response.content.decode()
    response = _post(client, {"text": TEXT, "replace": "on", "_create": "1"})
    assert response.status_code == 302
    assert Digest.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "upload", "message"),
    [
        ({"text": "   "}, None, "Paste the digest or choose a file."),
        ({"text": ""}, SimpleUploadedFile("e.txt", b""), "file is empty."),
        ({"text": ""}, SimpleUploadedFile("b.png", b"\x89PNG\r\n\x1a\n\x00"), "binary"),
        ({"text": ""}, SimpleUploadedFile("big.txt", b"x" * (10 * 1024 * 1024)), "10.0 MB"),
        ({"text": "AI前沿推介(3.14)\n时间:2024-03-14\n"}, None, "No papers found"),
        (
            {"text": TEXT.replace("时间:2024-03-14", "时间:2024-13-14")},
            None,
            "Line 5",
        ),
    ],
)
def test_malformed_input_gets_a_precise_error_on_the_page(editor, data, upload, message):
    files = {"file": upload} if upload else None
    response = _post(_client(editor), {**data, "_create": "1"}, files)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Digest.objects.count() == 0


def test_a_paste_too_large_for_django_to_read_gets_the_page_back_with_the_limit(editor):
    response = _post(_client(editor), {"text": "x" * (10 * 1024 * 1024), "_create": "1"})
    assert response.status_code == 413
    assert "The text is larger than 2.0 MB" in response.content.decode()
    assert Digest.objects.count() == 0


def test_other_oversized_requests_keep_the_plain_400(editor):
    client = _client(editor)
    client.get(URL)
    response = client.post(
        "/admin/papers/digest/add/",
        {"csrfmiddlewaretoken": client.cookies["csrftoken"].value, "x": "y" * (6 * 1024 * 1024)},
    )
    assert response.status_code == 400


def test_staff_without_the_add_permission_get_403(editor):
    viewer = factories.user("viewer", staff=True, perms=["papers.view_digest"])
    client = _client(viewer)
    assert client.get(URL).status_code == 403
    client.force_login(viewer)
    assert Digest.objects.count() == 0


def test_anonymous_users_are_sent_to_the_login_page():
    response = Client().get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_page_refuses_a_post_without_a_csrf_token(editor):
    client = _client(editor)
    response = client.post(URL, {"text": TEXT, "_create": "1", "format": "auto"})
    assert response.status_code == 403
    assert Digest.objects.count() == 0


def test_publish_is_offered_and_honoured_only_for_users_allowed_to_publish(editor):
    page = _client(editor).get(URL).content.decode()
    assert 'name="publish"' not in page
    # A crafted POST by an editor without the permission still yields a draft.
    _post(_client(editor), {"text": TEXT, "publish": "on", "_create": "1"})
    assert Digest.objects.get().status == Digest.Status.DRAFT
    publisher = factories.user(
        "publisher", staff=True, perms=["papers.add_digest", "papers.publish_digest"]
    )
    client = _client(publisher)
    assert 'name="publish"' in client.get(URL).content.decode()
    Digest.objects.all().delete()
    Paper.objects.all().delete()
    _post(client, {"text": TEXT, "publish": "on", "_create": "1"})
    assert Digest.objects.get().is_published


def test_a_previewed_upload_is_carried_to_create_draft(editor):
    client = _client(editor)
    upload = SimpleUploadedFile("digest.txt", TEXT.encode(), "text/plain")
    response = _post(client, {"text": "", "_preview": "1"}, {"file": upload})
    assert response.status_code == 200
    carried = response.context["form"]["text"].value()
    assert carried.startswith("示例科技有限公司")
    response = _post(client, {"text": carried, "_create": "1"})
    assert response.status_code == 302
    assert Digest.objects.get().entries.count() == 2


LAYOUTS = SAMPLES / "layouts"


def test_create_is_refused_while_text_is_unplaced_and_the_page_says_so(editor):
    client = _client(editor)
    response = _post(client, {"text": TEXT, "allow_unplaced": "", "_create": "1"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "could not be placed in a section" in page and "the draft was not created" in page
    assert "Sparse Mixtures of Tiny Experts" in page  # the preview stays beside the error
    assert Digest.objects.count() == 0


def test_the_preview_maps_labels_and_takes_the_date_title_and_unlinked_choice(editor):
    text = (LAYOUTS / "07-mixed-daily.md").read_text(encoding="utf-8")
    text = text.replace("要点：\n- 损失", "动机：想知道模型该做多大。\n\n要点：\n- 损失")
    client = _client(editor)
    page = _post(client, {"text": text, "_preview": "1"}).content.decode()
    assert 'name="map:动机"' in page
    # By default the news items with a link are entries sourced by it; the one without
    # any link is a row of its own, in its place, saying why it is not imported.
    assert '<input type="radio" name="unlinked" value="entries"' in page
    assert page.count("not on arXiv; source") == 2
    assert page.index("GPT-4 Turbo") < page.index("某国产大模型宣布开源") < page.index("Hugging")
    assert "has no link at all" in page
    data = {
        "text": text,
        "issue_date": "2023-11-09",
        "title": "AI 日报（改）",
        "unlinked": "skip",
        "map:动机": "gist",
        "allow_unplaced": "",
    }
    page = _post(client, {**data, "_preview": "1"}).content.decode()
    assert "could not be placed" not in page
    assert '<option value="gist" selected>' in page  # the choice is kept for Create
    response = _post(client, {**data, "_create": "1"})
    assert response.status_code == 302
    digest = Digest.objects.get()
    assert (digest.title, digest.issue_date.isoformat()) == ("AI 日报（改）", "2023-11-09")
    assert "OpenAI" not in digest.summary
    entry = digest.entries.get(paper__arxiv_id="2001.08361")
    assert entry.sections.get(kind__slug="gist").body == "想知道模型该做多大。"
    assert entry.unplaced_text == ""
    assert digest.entries.count() == 3  # skipped: the two news items with a link


def test_the_preview_creates_link_sourced_entries_by_default(editor):
    text = (LAYOUTS / "07-mixed-daily.md").read_text(encoding="utf-8")
    client = _client(editor)
    response = _post(client, {"text": text, "_create": "1"})
    assert response.status_code == 302
    digest = Digest.objects.get()
    news = digest.entries.filter(paper__arxiv_id__isnull=True).order_by("position")
    assert [(e.position, e.paper.title, e.paper.source_url) for e in news] == [
        (
            1,
            "OpenAI 开发者大会发布 GPT-4 Turbo",
            "https://openai.com/blog/new-models-and-developer-products-announced-at-devday",
        ),
        (4, "Hugging Face 上线新的排行榜", "https://huggingface.co/blog/open-llm-leaderboard"),
    ]
