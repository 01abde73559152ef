"""The WeChat Official Account export, parsed and held to what the WeChat editor keeps:
inline styles only, the 677 px column, references instead of links, absolute images, and
the 20,000-character limit."""

import re
from html.parser import HTMLParser

import pytest

from editorial.exporting import WECHAT_MAX_TEXT, SiteAddress, export_digest
from papers.models import Section, SectionKind
from tests import factories
from tests.export_support import PAPERS, SITE, rich_digest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


class Fragment(HTMLParser):
    """Every element of the fragment with its attributes, and its text."""

    def __init__(self, markup):
        super().__init__(convert_charrefs=True)
        self.elements, self.text, self.open = [], [], []
        self.sups, self.in_sup = [], False
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self.in_sup = tag == "sup"

    def handle_endtag(self, tag):
        if tag == "sup":
            self.in_sup = False

    def handle_data(self, data):
        self.text.append(data)
        if self.in_sup:
            self.sups.append(data)

    def tags(self, *names):
        return [attrs for tag, attrs in self.elements if tag in names]


def wechat(digest, **kwargs):
    return export_digest(digest_id=digest.pk, fmt="wechat", address=SiteAddress(SITE), **kwargs)


def hostile_digest():
    digest = rich_digest()
    entry = digest.entries.get(position=3)
    Section.objects.create(
        entry=entry,
        kind=SectionKind.objects.get(slug="improvement"),
        body='<style>p{color:red}</style><script>alert(1)</script> 见 <a href="https://x.org" '
        'class="c" id="i">x</a> 与 [文档](https://docs.example.org/guide "guide")',
    )
    return digest


def test_the_wechat_fragment_keeps_only_inline_styles():
    fragment = Fragment(wechat(hostile_digest()).text)
    tags = {tag for tag, _attrs in fragment.elements}
    assert not tags & {"style", "script", "link", "a", "html", "head", "body", "iframe"}
    for tag, attrs in fragment.elements:
        assert not {"class", "id"} & set(attrs), (tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert set(attrs) <= {"style", "src", "alt", "width", "start"}, (tag, attrs)
    # Everything that shows text or an image carries its own style.
    for tag, attrs in fragment.elements:
        if tag in {"h1", "h2", "h3", "p", "ul", "li", "img", "sup", "strong"}:
            assert attrs.get("style"), tag
    # The pasted markup in a section is text, never an element.
    assert "<script>alert(1)</script>" in "".join(fragment.text)


def test_the_wechat_fragment_fits_the_editors_677_px_column():
    fragment = Fragment(wechat(rich_digest()).text)
    root_tag, root = fragment.elements[0]
    assert root_tag == "section" and "max-width: 677px" in root["style"]
    widths = []
    for _tag, attrs in fragment.elements:
        style = attrs.get("style", "")
        widths += [int(w) for w in re.findall(r"(?:^|;|\s)(?:max-)?width:\s*(\d+)px", style)]
        assert not re.search(r"(?:^|;|\s)(?:min-)?width:\s*\d+(?:em|rem|vw|cm|in)", style)
        if "width" in attrs:
            widths.append(int(attrs["width"]))
    assert widths and max(widths) <= 677
    images = fragment.tags("img")
    assert [img["width"] for img in images] == ["677", "400"]  # 1200 px wide is cut to 677
    assert all("max-width: 100%" in img["style"] for img in images)


def test_headings_and_lists_are_the_elements_the_wechat_editor_keeps():
    fragment = Fragment(wechat(rich_digest()).text)
    headings = [tag for tag, _attrs in fragment.elements if tag in {"h1", "h2", "h3"}]
    assert headings.count("h1") == 1 and headings.count("h2") == 3
    assert "h3" in headings
    # Each list item's text sits in a <section>, which keeps its style when pasted.
    elements = [tag for tag, _attrs in fragment.elements]
    items = [i for i, tag in enumerate(elements) if tag == "li"]
    assert items and all(elements[i + 1] == "section" for i in items)
    nested = [attrs for tag, attrs in fragment.elements if tag == "ul"]
    assert any("circle" in ul["style"] for ul in nested)  # the second level stays a level


def test_every_link_becomes_a_numbered_reference_at_the_end():
    result = wechat(hostile_digest())
    fragment = Fragment(result.text)
    text = "".join(fragment.text)
    references = dict(re.findall(r"\[(\d+)\] (?:[^\n]*?: )?(https?://\S+)", text))
    numbers = sorted(int(n) for n in references)
    assert numbers == list(range(1, len(numbers) + 1))
    urls = set(references.values())
    expected = {
        "https://github.com/example/mdl-transformers",
        "https://docs.example.org/guide",
        f"{SITE}/digests/2025-09-30/issue-2025-09-30/",
        *(f"https://arxiv.org/abs/{p['arxiv_id']}" for p in PAPERS),
    }
    assert expected <= urls
    # Every mark in the text points at a reference, and every reference is cited.
    marks = {int(m) for m in re.findall(r"\[(\d+)\]", "".join(fragment.sups))}
    assert marks == set(numbers)
    assert "项目主页" in text and "(https://github.com" not in text
    # An address cited twice (a paper's arXiv page, and its figure's source) keeps one number.
    assert len(references) == len(urls)


def test_images_have_absolute_addresses_and_placeholders_are_reported():
    result = wechat(rich_digest())
    images = Fragment(result.text).tags("img")
    assert len(images) == 2
    assert all(img["src"].startswith(SITE + "/media/figures/") for img in images)
    assert [img["alt"] for img in images] == ["图1:描述长度与泛化", "图2:模型结构"]
    assert any("Image on 2025-09-29 09.16.09 PM" in warning for warning in result.warnings)


def test_an_ordinary_issue_is_within_the_wechat_limit():
    result = wechat(rich_digest())
    assert 500 < result.text_length < WECHAT_MAX_TEXT
    assert not any("20,000" in warning for warning in result.warnings)


def test_a_long_issue_is_reported_as_too_long_for_wechat(english):
    digest = factories.digest(entries=0, title="超长的一期")
    for position in range(1, 6):
        entry = factories.entry(digest=digest, position=position, with_sections=False)
        Section.objects.create(
            entry=entry,
            kind=SectionKind.objects.get(slug="gist"),
            body="很长的一段评论文字。" * 450,
        )
    result = wechat(digest)
    assert result.text_length > WECHAT_MAX_TEXT
    assert result.warnings[0].startswith("Too long for WeChat")
    assert f"{result.text_length:,}" in result.warnings[0] and "20,000" in result.warnings[0]


def test_the_plain_text_fallback_reads_as_the_article():
    result = wechat(rich_digest())
    plain = result.plain_text
    assert "<" not in plain.replace("<script>", "")
    assert plain.startswith("AI前沿推介(9.30)\n2025-09-30")
    assert "1、[LG] " + PAPERS[0]["title"] in plain
    assert "要点\n- 用描述长度衡量模型的复杂度" in plain
    assert "https://arxiv.org/abs/1706.03762" in plain


def test_the_article_is_chinese_and_the_warnings_in_the_editors_language(english):
    result = wechat(rich_digest())
    assert "参考链接" in result.text and "本期网页版" in result.text
    assert "参考链接" in result.plain_text
    assert result.warnings[0].startswith("1 figure has no image yet")
