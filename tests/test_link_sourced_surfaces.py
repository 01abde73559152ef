"""Issue 18: an entry whose paper is not on arXiv (a news item, known by its link) shows on
every public surface without a 500 and with its source link instead of an arXiv one: the
digest page and its own page (``/digests/<date>/<slug>/link-<paper id>/``), lists, search,
feeds, sitemap, API, JSON-LD, related papers, exports, the subscribers' mail, the admin and
the editor's checks; the importer reads its own export of it back as the same item. A draft
holding one leaks nowhere."""

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from editorial.editor.checks import run_checks
from editorial.exporting import export_digest
from editorial.exporting.core import site_address
from editorial.importing import parse_digest, write_digest
from papers.models import Digest, Entry, Paper, SectionKind
from reading import related
from subscriptions.mail import digest_with_content, render_digest_mail
from tests import factories

pytestmark = pytest.mark.django_db

SOURCE = "https://example.org/news/devday-gpt-4-turbo"
DRAFT_SOURCE = "https://example.org/news/secret-draft-item"


@pytest.fixture
def site():
    digest = factories.digest(entries=2, title="AI 日报(11.7)")
    news = factories.paper(
        arxiv_id=None,
        source_url=SOURCE,
        title="OpenAI 开发者大会发布 GPT-4 Turbo",
        authors="",
        affiliations="",
        abstract="",
        primary_category=factories.category("cs.AI", "Artificial Intelligence"),
    )
    entry = factories.entry(digest=digest, position=3, paper=news, title_zh="")
    draft = factories.digest(entries=0, status="draft", title="草稿")
    hidden = factories.paper(arxiv_id=None, source_url=DRAFT_SOURCE, title="Draft-only item")
    factories.entry(digest=draft, position=1, paper=hidden)
    related.refresh(force=True)
    return entry


def _public_urls(entry) -> list[str]:
    digest = entry.digest
    category = entry.paper.primary_category.code
    date = digest.issue_date
    return [
        "/",
        digest.get_absolute_url(),
        entry.get_absolute_url(),
        reverse("reading:entry-list"),
        reverse("reading:search") + "?q=GPT-4",
        reverse("reading:category-entries", args=[category]),
        reverse("reading:category-feed-atom", args=[category]),
        reverse("reading:category-feed-rss", args=[category]),
        reverse("reading:month-entries", args=[date.year, date.month]),
        reverse("reading:section-list", args=["summary"]),
        reverse("reading:feed-atom"),
        reverse("reading:feed-rss"),
        reverse("reading:sitemap-index"),
        reverse("reading:sitemap-section", args=["entries"]),
        reverse("reading:api-entry-list"),
        reverse("reading:api-entry-detail", args=[entry.pk]),
        reverse("reading:api-digest-detail", args=[date, digest.slug]),
    ]


def test_every_public_surface_shows_the_item_with_its_source_and_no_draft(site):
    entry = site
    client = Client()
    assert entry.get_absolute_url().endswith(f"/link-{entry.paper.pk}/")
    for url in _public_urls(entry):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert "arxiv.org/abs/None" not in text and "arXiv:None" not in text, url
        assert DRAFT_SOURCE not in text and "Draft-only item" not in text, url
        if url not in ("/", reverse("reading:sitemap-index")):  # these list digests
            assert f"link-{entry.paper.pk}/" in text, url
    page = client.get(entry.digest.get_absolute_url()).content.decode()
    assert f'<a href="{SOURCE}" rel="noopener nofollow">example.org</a>' in page
    assert "来源" in page or "Source" in page
    own = client.get(entry.get_absolute_url()).content.decode()
    assert SOURCE in own and "OpenAI 开发者大会发布 GPT-4 Turbo" in own
    # JSON-LD: an Article the same as its source, without an arXiv identifier.
    data = json.loads(re.search(r"application/ld\+json\">(.*?)</script>", own, re.S).group(1))
    assert (data["@type"], data["sameAs"]) == ("Article", SOURCE)
    assert "identifier" not in data
    api = client.get(reverse("reading:api-entry-detail", args=[entry.pk])).json()
    paper = api["paper"]
    assert (paper["arxiv_id"], paper["source_url"], paper["abs_url"]) == (None, SOURCE, None)
    sitemap = client.get(reverse("reading:sitemap-section", args=["entries"])).content.decode()
    assert entry.get_absolute_url() in sitemap


def test_an_unknown_or_draft_link_key_is_a_404(site):
    entry = site
    client = Client()
    base = entry.digest.get_absolute_url()
    draft_paper = Paper.objects.get(source_url=DRAFT_SOURCE)
    assert client.get(f"{base}link-{draft_paper.pk}/").status_code == 404
    assert client.get(f"{base}link-999999/").status_code == 404
    assert client.get(f"{base}link-0/").status_code == 404
    assert client.get(f"{base}link-x/").status_code == 404
    # An arXiv paper's own id does not open it by its database id.
    arxiv_entry = entry.digest.entries.exclude(pk=entry.pk).first()
    assert client.get(f"{base}link-{arxiv_entry.paper.pk}/").status_code == 404


def test_related_lists_link_to_the_items_own_page(site):
    entry = site
    page = Client().get(entry.digest.entries.get(position=1).get_absolute_url())
    assert page.status_code == 200
    items = related.related_items(
        Entry.objects.annotate(r=related.related_annotation(Entry, "id"))
        .values_list("r", flat=True)
        .get(pk=entry.digest.entries.get(position=1).pk)
    )
    for item in items:
        assert "None" not in item.url


def test_exports_mail_and_checks_give_the_source_link(site):
    entry = site
    address = site_address("https://digest.example")
    for fmt in ("wechat", "zhihu", "markdown", "json"):
        text = export_digest(digest_id=entry.digest.pk, fmt=fmt, address=address).text
        assert SOURCE in text, fmt
        assert "arXiv:None" not in text and "abs/None" not in text, fmt
    mail = render_digest_mail(digest_with_content(entry.digest.pk), language="zh-hans")
    assert SOURCE in mail.text and SOURCE in mail.html
    assert "abs/None" not in mail.html
    kinds = list(SectionKind.objects.all())
    entries = list(entry.digest.entries.select_related("paper").order_by("position"))
    checks = run_checks(entry.digest, entries, kinds)
    about_news = [c.code for c in checks if "example.org" in c.text]
    # No arXiv link, no abstract: not errors for it (its figure's missing credits still are).
    assert about_news == ["figure"], about_news
    assert {"arxiv", "abstract"}.isdisjoint(c.code for c in checks)


def test_the_importer_reads_its_own_markdown_export_back_as_the_same_item(site):
    entry = site
    address = site_address("https://digest.example")
    text = export_digest(digest_id=entry.digest.pk, fmt="markdown", address=address).text
    parsed = parse_digest(text.replace(str(entry.digest.issue_date), "2030-01-02"))
    items = [e for e in parsed.entries if e.source_url]
    assert [(e.position, e.title, e.source_url) for e in items] == [
        (3, "OpenAI 开发者大会发布 GPT-4 Turbo", SOURCE)
    ]
    result = write_digest(parsed)
    assert SOURCE in result.reused_papers  # the same Paper, found by its link
    assert Paper.objects.filter(source_url=SOURCE).count() == 1


def test_the_admin_shows_and_saves_a_link_sourced_paper(site):
    entry = site
    chief = factories.user("chief", superuser=True)
    client = Client()
    client.force_login(chief)
    paper = entry.paper
    for url in (
        reverse("admin:papers_paper_change", args=[paper.pk]),
        reverse("admin:papers_paper_changelist"),
        reverse("admin:papers_entry_change", args=[entry.pk]),
        reverse("admin:papers_digest_change", args=[entry.digest.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    # The one-page editor of the draft holding one: its source link, no "arXiv:None".
    draft = Digest.objects.get(title="草稿")
    editor = client.get(reverse("admin:papers_digest_editor", args=[draft.pk]))
    assert editor.status_code == 200
    assert DRAFT_SOURCE in editor.content.decode() and "None" not in editor.content.decode()
    page = client.get(reverse("admin:papers_paper_change", args=[paper.pk])).content.decode()
    assert 'name="arxiv_lookup"' not in page and SOURCE in page  # no arXiv fetch for it
    # Neither an arXiv id nor a source link: the form says so, no 500.
    count = Paper.objects.count()
    response = client.post(
        reverse("admin:papers_paper_add"),
        {"title": "t", "authors": "", "primary_category": paper.primary_category_id},
    )
    assert response.status_code == 200 and Paper.objects.count() == count
    said = response.content.decode()
    assert "Give an arXiv id, or a source link" in said or "请填写 arXiv 编号；不在 arXiv" in said
    # Fetching from arXiv leaves the item out, with a word.
    response = client.post(
        reverse("admin:papers_paper_changelist"),
        {"action": "fetch_from_arxiv", "_selected_action": [paper.pk]},
        follow=True,
    )
    assert response.status_code == 200
    said = response.content.decode()
    assert "are not on arXiv" in said or "不在 arXiv 上（它们有来源链接）" in said


def test_the_command_export_of_a_digest_with_an_item_works(site):
    out = StringIO()
    digest = Digest.objects.get(pk=site.digest.pk)
    call_command("export_digest", str(digest.pk), "--format", "markdown", stdout=out)
    assert SOURCE in out.getvalue()
