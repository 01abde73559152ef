"""The Markdown exports: the site's own layout, read back by the importer into the same
digest, and Zhihu's (two heading levels, images by absolute address)."""

import re

import pytest

from editorial.exporting import SiteAddress, export_digest
from editorial.importing import parse_digest, plan_import, write_digest
from papers.models import Digest, Paper
from tests import factories
from tests.export_support import PAPERS, SITE, rich_digest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def export(digest, fmt, **kwargs):
    return export_digest(digest_id=digest.pk, fmt=fmt, address=SiteAddress(SITE), **kwargs)


def stored_structure(digest):
    """What an editor sees of a stored digest: its fields and, paper by paper, the facts,
    the Chinese title, the sections by kind, the figures and the category tag."""
    entries = []
    for entry in digest.entries.select_related("paper__primary_category").order_by("position"):
        paper = entry.paper
        figures = [
            (f.caption, SITE + f.image.url if f.image else f.placeholder)
            for f in entry.figures.all()
        ]
        entries.append(
            {
                "position": entry.position,
                "arxiv_id": paper.arxiv_id,
                "title": paper.title,
                "title_zh": entry.title_zh,
                "authors": paper.author_list,
                "affiliations": paper.affiliation_list,
                "abstract": paper.abstract,
                "category": paper.primary_category.code,
                "sections": {s.kind.slug: s.body for s in entry.sections.all()},
                "figures": figures,
            }
        )
    return {
        "title": digest.title,
        "issue_date": digest.issue_date,
        "summary": digest.summary,
        "entries": entries,
    }


def parsed_structure(parsed, plan):
    entries = []
    for item, row in zip(parsed.entries, plan.entries, strict=True):
        entries.append(
            {
                "position": item.position,
                "arxiv_id": item.arxiv_id,
                "title": item.title,
                "title_zh": item.title_zh,
                "authors": item.authors,
                "affiliations": item.affiliations,
                "abstract": item.abstract,
                "category": row.category.code,
                "sections": {kind.slug: body for kind, body in row.sections},
                "figures": [(f["caption"], f["placeholder"]) for f in row.figures],
            }
        )
    return {
        "title": parsed.title,
        "issue_date": parsed.issue_date,
        "summary": parsed.summary,
        "entries": entries,
    }


def test_the_markdown_export_reads_back_into_the_same_digest():
    digest = rich_digest()
    text = export(digest, "markdown").text

    parsed = parse_digest(text)
    plan = plan_import(parsed)

    assert parsed.format == "markdown"
    assert parsed_structure(parsed, plan) == stored_structure(digest)
    # Nothing set aside, guessed or left out: the report an editor would read is empty.
    assert parsed.report.warnings == []
    assert parsed.report.ignored == []
    assert parsed.report.unknown_sections == {}
    assert all(not item.unplaced for item in parsed.entries)
    assert [item.tag for item in parsed.entries] == ["LG", "CL", "CL"]


def test_a_reimported_export_stores_the_same_papers_sections_and_figures():
    digest = rich_digest(status="draft")
    before = stored_structure(digest)
    text = export(digest, "markdown", by=factories.user("author", superuser=True)).text
    # Into an archive that has never seen these papers: every fact comes from the text.
    Digest.objects.all().delete()
    Paper.objects.all().delete()

    result = write_digest(parse_digest(text))

    after = stored_structure(result.digest)
    # An uploaded image comes back as a figure naming its address (the importer never
    # downloads), so the figures compare by caption and address.
    assert after == before


def test_the_markdown_export_is_in_the_sites_layout():
    text = export(rich_digest(), "markdown").text
    lines = text.splitlines()
    assert lines[0] == "# AI前沿推介(9.30)"
    assert "时间:2025-09-30" in lines
    assert "### 1、[LG] " + PAPERS[0]["title"] in lines
    assert "> 单位：Google Brain; Texas A&M University" in lines
    assert "> 单位：Google DeepMind & Google Research" in lines
    assert "- 要点：" in lines and "  - 误差不超过一个与数据无关的常数。" not in lines
    assert "    - 误差不超过一个与数据无关的常数。" in lines
    assert "Image on 2025-09-29 09.16.09 PM" in lines


def test_a_category_tag_shared_by_two_categories_is_written_in_full():
    factories.category("math.NA", "Numerical Analysis (math)")
    papers = [dict(PAPERS[2], category="math.NA")]
    text = export(rich_digest(papers=papers), "markdown").text
    assert "### 1、[math.NA] Language Models are Few-Shot Learners" in text
    plan = plan_import(parse_digest(text))
    assert plan.entries[0].category.code == "math.NA"


# --- Zhihu ---------------------------------------------------------------------------------


def test_zhihu_markdown_uses_two_heading_levels_and_absolute_images():
    text = export(rich_digest(), "zhihu").text
    levels = {len(m.group(1)) for m in re.finditer(r"^(#+) ", text, flags=re.M)}
    assert levels == {1, 2}
    assert "# 1、[LG] " + PAPERS[0]["title"] in text.splitlines()
    assert "## 要点" in text.splitlines()
    images = re.findall(r"!\[([^\]]*)\]\(([^)]+)\)", text)
    assert [caption for caption, _url in images] == ["图1:描述长度与泛化", "图2:模型结构"]
    assert all(url.startswith(SITE + "/media/figures/") for _caption, url in images)
    # Links stay links on Zhihu; the bodies keep their Markdown.
    assert "[项目主页](https://github.com/example/mdl-transformers)" in text
    assert "  - 误差不超过一个与数据无关的常数。" in text


def test_zhihu_export_names_the_figures_still_to_upload():
    result = export(rich_digest(), "zhihu")
    assert "Image on" not in result.text
    assert any("Image on 2025-09-29 09.16.09 PM" in w for w in result.warnings)
