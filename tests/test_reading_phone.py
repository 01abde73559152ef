"""Issue 21, parts 4 and 5, as the server answers them: the author list keeps its "…" from
the import to the page (and arXiv completes it), the home page shows each paper's one-line
summary in a fixed number of queries and from the page cache, sections are foldable
without JavaScript; the footer is sanitised light Markdown rendered at save, the pages carry
JSON-LD of the right types and hreflang alternates for the two interface languages.
What only a browser shows is in tests/test_browser_phone.py."""

import datetime
import io
import json
import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from editorial.arxiv_client import ArxivRecord
from editorial.arxiv_sync import store_records
from editorial.importing import parse_digest, write_digest
from papers.models import Digest, Paper, SiteSettings
from tests import factories

pytestmark = pytest.mark.django_db

TEXT = (Path(__file__).parent / "samples" / "digest-text.txt").read_text(encoding="utf-8")
SHORTENED = TEXT.replace("A Turing, G Hopper\n", "A Turing, G Hopper...\n", 1)


def html_of(client, url, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    return response.content.decode()


def _publish(digest: Digest) -> None:
    digest.status = Digest.Status.PUBLISHED
    digest.published_at = datetime.datetime(2024, 3, 14, 8, tzinfo=datetime.UTC)
    digest.save()


# --- the author list keeps its "…" ----------------------------------------------------------


def test_a_shortened_author_list_keeps_its_ellipsis_from_the_import_to_the_page(client):
    digest = write_digest(parse_digest(SHORTENED)).digest
    _publish(digest)
    paper = Paper.objects.get(arxiv_id="2403.01234")
    assert paper.author_list == ["A Turing", "G Hopper"]  # names only, as before
    assert paper.authors_shortened
    entry = digest.entries.get(paper=paper)
    for url in (digest.get_absolute_url(), entry.get_absolute_url()):
        html = html_of(client, url)
        assert re.search(r"A Turing, G Hopper, <span aria-hidden=\"true\">…</span>", html), url
    # The sample's second paper ends in "..." too; a list without one stays complete.
    assert digest.entries.exclude(paper=paper).get().paper.authors_shortened


def test_the_ellipsis_follows_the_author_list_to_lists_feeds_api_exports_and_mail(client):
    from editorial.exporting import SiteAddress, export_digest
    from subscriptions.mail import digest_with_content, render_digest_mail

    digest = write_digest(parse_digest(SHORTENED)).digest
    _publish(digest)
    cache.clear()
    list_html = html_of(client, "/papers/")
    assert re.search(r"A Turing, G Hopper, <span aria-hidden=\"true\">…</span>", list_html)
    feed = html_of(client, "/categories/cs.LG/feed/atom/")
    assert "<name>A Turing, G Hopper, …</name>" in feed
    api = client.get("/api/v1/entries/").json()["results"]
    shortened = {row["paper"]["arxiv_id"]: row["paper"]["authors_shortened"] for row in api}
    assert shortened["2403.01234"] is True
    markdown = export_digest(
        digest_id=digest.pk, fmt="markdown", address=SiteAddress("https://digest.example")
    ).text
    assert "A Turing, G Hopper, …" in markdown
    # The export reads back as a shortened list: nothing claims the list is complete.
    reread = parse_digest(markdown)
    assert next(e for e in reread.entries if e.arxiv_id == "2403.01234").authors_truncated
    mail = render_digest_mail(digest_with_content(digest.pk), language="en")
    assert "A Turing, G Hopper, …" in mail.text
    assert "A Turing, G Hopper, …" in mail.html


def test_a_complete_author_list_shows_no_ellipsis(client):
    digest = write_digest(parse_digest(TEXT.replace("M Hamilton...", "M Hamilton"))).digest
    _publish(digest)
    assert not Paper.objects.filter(authors_shortened=True).exists()
    assert "…</span>" not in html_of(client, digest.get_absolute_url())


def test_fetching_the_paper_from_arxiv_completes_a_shortened_list_and_drops_the_ellipsis():
    write_digest(parse_digest(SHORTENED))
    record = ArxivRecord(
        arxiv_id="2403.01234",
        version=1,
        title="Whatever arXiv says",
        authors=["A Turing", "G Hopper", "K Goedel", "E Noether"],
        affiliations=[],
        abstract="",
        primary_category="cs.LG",
        categories=[],
        published_on="2024-03-01",
        updated_on="2024-03-01",
    )
    result = store_records([record])
    paper = Paper.objects.get(arxiv_id="2403.01234")
    # The digest's first names are no editor's correction: arXiv's full list replaces them.
    assert "authors" not in result.conflicts.get("2403.01234", {})
    assert paper.author_list == ["A Turing", "G Hopper", "K Goedel", "E Noether"]
    assert not paper.authors_shortened


# --- the home page: one-line summaries, fixed queries, page cache ---------------------------


def _home_queries(django_assert_num_queries, expected: int) -> str:
    cache.clear()
    with django_assert_num_queries(expected):
        response = Client().get("/")
    return response.content.decode()


def test_the_home_page_shows_each_papers_one_line_summary_under_its_title():
    digest = factories.digest(entries=2)
    html = html_of(Client(), "/")
    for entry in digest.entries.select_related("paper"):
        summary = entry.sections.get(kind__slug="summary")
        title_at = html.index(f">{entry.paper.title}</a>")
        summary_at = html.index(summary.body_html)
        assert title_at < summary_at < title_at + 300


def test_the_home_page_costs_the_same_queries_at_one_and_many_digests_and_none_when_cached(
    django_assert_num_queries,
):
    factories.digest(entries=1)
    # Site settings, the names version's miss, the page's digests and count, their entries
    # (with the summaries as a subquery), the page cache's next scheduled change.
    one = _home_queries(django_assert_num_queries, 5)
    for _ in range(6):
        factories.digest(entries=5)
    many = _home_queries(django_assert_num_queries, 5)
    assert one.count('class="toc-summary"') == 1 and many.count('class="toc-summary"') >= 25
    with django_assert_num_queries(0):  # the page cache answers
        response = Client().get("/")
    assert response["X-Page-Cache"] == "hit"


def test_digest_and_entry_pages_keep_their_query_counts(django_assert_num_queries):
    digest = factories.digest(entries=3)
    entry = digest.entries.get(position=2)
    for url in (digest.get_absolute_url(), entry.get_absolute_url()):
        cache.clear()
        with django_assert_num_queries(8):
            Client().get(url)
        with django_assert_num_queries(0):
            assert Client().get(url)["X-Page-Cache"] == "hit"


# --- sections fold without JavaScript; the abstract is not justified ------------------------


def test_every_section_and_the_abstract_fold_open_by_default_without_script(client):
    digest = factories.digest(entries=1)
    html = html_of(client, digest.get_absolute_url())
    block = html[html.index('<article class="entry"') :]
    folds = block.count('<details class="fold" open>')
    assert folds == digest.entries.get().sections.count() + 1  # and the abstract
    # The headings stay headings, labelled by their id, inside the summary that folds them.
    assert re.search(r'<summary><h3 id="paper-1-gist-h">主旨</h3></summary>', block)
    # The contents menu and the way back to the top are plain links: no script needed.
    assert '<a class="to-top" href="#top">' in html and 'id="top"' in html
    assert '<a href="#paper-1">' in html
    css = Path(__file__).parent.parent.joinpath("static/css/site.css").read_text()
    abstract_rule = re.search(r"\.abstract p \{[^}]*\}", css).group(0)
    assert "justify" not in abstract_rule and "text-align: start" in abstract_rule


# --- footer ---------------------------------------------------------------------------------

HOSTILE_FOOTER = """联系我们：[邮件](mailto:team@example.com)
[京ICP备12345678号](https://beian.miit.gov.cn/)
<script>alert('footer')</script> [click](javascript:alert(1)) <img src=x onerror=alert(2)>
![x](https://evil.example/x.png)"""


def test_the_footer_is_light_markdown_rendered_and_sanitised_once_at_save(client):
    site = SiteSettings.load()
    site.footer_text = HOSTILE_FOOTER
    site.save()
    stored = SiteSettings.objects.get().footer_html
    assert '<a href="https://beian.miit.gov.cn/" rel="noopener">京ICP备12345678号</a>' in stored
    assert '<a href="mailto:team@example.com" rel="noopener">邮件</a>' in stored
    assert "<br>" in stored  # each line of the setting stays a line
    assert "<script" not in stored and "<img" not in stored
    assert "&lt;script&gt;" in stored and "&lt;img src=x" in stored  # shown as text
    assert "[click](javascript:alert(1))" in stored  # inert text: no link is made of it
    assert '<a href="https://evil.example/x.png"' in stored  # an image is only a link
    html = html_of(client, "/")
    footer = html[html.index('<footer class="site-footer"') :]
    assert stored in footer
    assert not re.search(r"""(href|src)=["']?\s*javascript:""", html)


def test_the_footer_shows_an_uploaded_image_with_its_size_and_text(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    site = SiteSettings.load()
    image = io.BytesIO()
    Image.new("RGB", (2, 3), "white").save(image, "PNG")
    png = image.getvalue()
    site.footer_image = SimpleUploadedFile("qr.png", png, content_type="image/png")
    site.footer_image_alt = "微信公众号二维码"
    site.save()
    footer = html_of(client, "/").split('<footer class="site-footer"')[1]
    assert re.search(
        r'<img class="footer-image" src="/media/site/[0-9a-f]{32}\.png" alt="微信公众号二维码" '
        r'width="2" height="3"',
        footer,
    )


def test_an_editors_footer_edit_in_the_admin_shows_on_the_next_page(admin_client):
    client = Client()
    html_of(client, "/")  # cached
    site = SiteSettings.load()
    response = admin_client.post(
        f"/admin/papers/sitesettings/{site.pk}/change/",
        {"site_name": site.site_name, "tagline": site.tagline, "footer_text": "**新**页脚"},
    )
    assert response.status_code == 302
    assert "<strong>新</strong>页脚" in html_of(client, "/")


# --- JSON-LD ----------------------------------------------------------------------------------


def _ld(html: str) -> dict:
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(found) == 1
    return json.loads(found[0])


def test_the_home_page_describes_the_site_as_a_blog_of_its_digests(client):
    older = factories.digest(entries=1, issue_date=datetime.date(2025, 3, 1))
    newer = factories.digest(entries=1, issue_date=datetime.date(2025, 3, 2))
    factories.digest(entries=1, status="draft")
    data = _ld(html_of(client, "/"))
    assert data["@type"] == "Blog" and data["url"] == "http://testserver/"
    assert [post["headline"] for post in data["blogPost"]] == [newer.title, older.title]
    assert {post["@type"] for post in data["blogPost"]} == {"BlogPosting"}


def test_a_digest_page_describes_itself_as_a_blog_posting_of_the_sites_blog(client):
    digest = factories.digest(entries=2, summary="本期两篇。")
    data = _ld(html_of(client, digest.get_absolute_url()))
    assert data["@context"] == "https://schema.org" and data["@type"] == "BlogPosting"
    assert data["headline"] == digest.title and data["description"] == "本期两篇。"
    assert data["url"] == f"http://testserver{digest.get_absolute_url()}"
    assert data["isPartOf"] == {
        "@type": "Blog",
        "name": SiteSettings.load().site_name,
        "url": "http://testserver/",
    }
    published = datetime.datetime.fromisoformat(data["datePublished"])
    assert abs(published - digest.published_at) < datetime.timedelta(milliseconds=1)
    papers = [entry.paper for entry in digest.entries.order_by("position")]
    assert [item["@type"] for item in data["about"]] == ["ScholarlyArticle"] * 2
    assert [item["sameAs"] for item in data["about"]] == [p.abs_url for p in papers]


def test_an_entry_page_describes_the_paper_as_a_scholarly_article(client):
    digest = factories.digest()
    paper = factories.paper(authors="A Lovelace\nC Babbage", published_on=datetime.date(2025, 1, 2))
    entry = factories.entry(digest=digest, paper=paper)
    data = _ld(html_of(client, entry.get_absolute_url()))
    assert data["@type"] == "ScholarlyArticle"
    assert data["name"] == paper.title and data["abstract"] == paper.abstract
    assert data["author"] == [
        {"@type": "Person", "name": "A Lovelace"},
        {"@type": "Person", "name": "C Babbage"},
    ]
    assert data["identifier"]["value"] == paper.arxiv_id
    assert data["sameAs"] == f"https://arxiv.org/abs/{paper.arxiv_id}"
    assert data["datePublished"] == "2025-01-02"
    assert data["alternativeHeadline"] == entry.title_zh
    assert data["review"]["reviewBody"] == entry.sections.get(kind__slug="summary").body
    assert data["isPartOf"]["@type"] == "BlogPosting"


def test_the_entry_pages_description_and_review_are_plain_text_not_markdown(client):
    digest = factories.digest()
    entry = factories.entry(digest=digest)
    summary = entry.sections.get(kind__slug="summary")
    summary.body = "**一句话**：用 `代码` 训练*推理*，_不_ 改 snake_case"
    summary.save()
    html = html_of(client, entry.get_absolute_url())
    plain = "一句话：用 代码 训练推理，不 改 snake_case"
    assert _ld(html)["review"]["reviewBody"] == plain
    assert f'<meta name="description" content="{plain}">' in html
    assert "*" not in html.split("<body")[0]


def test_json_ld_cannot_close_its_script_element_whatever_a_title_holds(client):
    digest = factories.digest(title="</script><script>alert(1)</script> & <!--")
    factories.entry(digest=digest, paper=factories.paper(title="x</SCRIPT>y"))
    html = html_of(client, digest.get_absolute_url())
    data = _ld(html)  # one element, whole, parsable
    assert data["headline"] == "</script><script>alert(1)</script> & <!--"
    assert data["about"][0]["name"] == "x</SCRIPT>y"
    assert "<script>alert(1)" not in html


def test_previews_of_drafts_carry_no_structured_data_or_alternates():
    draft = factories.digest(entries=1, status="draft")
    staff = Client()
    staff.force_login(factories.user("editor", staff=True, perms=["papers.view_digest"]))
    html = html_of(staff, draft.get_absolute_url())
    assert "application/ld+json" not in html and "hreflang" not in html


# --- hreflang -------------------------------------------------------------------------------


def test_every_page_names_its_chinese_and_english_versions(client):
    digest = factories.digest(entries=1)
    url = digest.get_absolute_url()
    html = html_of(client, url)
    base = f"http://testserver{url}"
    assert f'<link rel="alternate" hreflang="zh-Hans" href="{base}?lang=zh-hans">' in html
    assert f'<link rel="alternate" hreflang="en" href="{base}?lang=en">' in html
    assert f'<link rel="alternate" hreflang="x-default" href="{base}">' in html
    # A list keeps its filter in each alternate.
    listing = html_of(client, "/papers/?tag=rl")
    assert 'hreflang="en" href="http://testserver/papers/?tag=rl&amp;lang=en"' in listing


def test_the_alternates_answer_in_their_language_and_are_cached_apart(client):
    factories.digest(entries=1)
    cache.clear()
    english = client.get("/?lang=en")
    assert english["Content-Language"] == "en" and "Latest digests" in english.content.decode()
    assert "最新推介" in html_of(client, "/?lang=zh-hans")
    assert client.get("/?lang=en")["X-Page-Cache"] == "hit"
    assert "Latest digests" in client.get("/?lang=en").content.decode()
    assert "最新推介" in html_of(client, "/")  # the reader's own choice is untouched
    assert "sessionid" not in english.cookies and "django_language" not in english.cookies


def test_each_language_version_is_its_own_canonical_address(client):
    digest = factories.digest(entries=1)
    entry = digest.entries.get()
    for url in ("/", digest.get_absolute_url(), entry.get_absolute_url()):
        canonical = f'<link rel="canonical" href="http://testserver{url}'
        assert canonical + '">' in html_of(client, url)
        assert canonical + '?lang=en">' in html_of(client, url + "?lang=en")
        assert canonical + '">' in html_of(client, url + "?lang=klingon")


def test_a_made_up_language_changes_nothing_and_is_not_kept(client):
    factories.digest(entries=1)
    cache.clear()
    first = client.get("/?lang=klingon")
    assert first.status_code == 200 and "最新推介" in first.content.decode()
    assert client.get("/?lang=klingon")["X-Page-Cache"] != "hit"
