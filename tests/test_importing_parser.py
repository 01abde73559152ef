"""The digest parser on our own samples (tests/samples/): both layouts, bullets in every
form, page chrome, unplaced text, unknown sections and malformed input."""

from pathlib import Path

import pytest

from editorial.importing import DigestImportError, decode_upload, detect_format, parse_digest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SAMPLES = Path(__file__).parent / "samples"
TEXT = (SAMPLES / "digest-text.txt").read_text(encoding="utf-8")
MARKDOWN = (SAMPLES / "digest-markdown.md").read_text(encoding="utf-8")


def _error(text, fmt="auto") -> DigestImportError:
    with pytest.raises(DigestImportError) as caught:
        parse_digest(text, fmt)
    return caught.value


def test_text_layout_yields_title_date_summary_and_table_of_contents():
    parsed = parse_digest(TEXT)
    assert parsed.format == "text"
    assert parsed.title == "AI前沿推介(3.14)"
    assert parsed.issue_date.isoformat() == "2024-03-14"
    assert parsed.summary == "稀疏小专家混合、像读散文一样读表格"
    assert [(p, tag) for p, tag, _title in parsed.toc] == [(1, "LG"), (2, "CL")]


def test_text_layout_yields_each_paper_with_its_facts():
    first, second = parse_digest(TEXT).entries
    assert (first.position, first.tag, first.arxiv_id) == (1, "LG", "2403.01234")
    assert first.title == "Sparse Mixtures of Tiny Experts"
    assert first.authors == ["A Turing", "G Hopper"]
    assert first.affiliations == ["Example University", "Sample Lab"]
    assert first.title_zh == "稀疏的小专家混合模型"
    assert first.abstract.startswith("We study sparse mixtures")
    assert second.arxiv_id == "hep-th/9901001"
    assert second.authors == ["B Liskov", "M Hamilton"] and second.authors_truncated


def test_every_bullet_style_and_a_glued_bullet_become_separate_bullets():
    entry = parse_digest(TEXT).entries[0]
    assert entry.section("key-points").bullets == [
        "第一条要点。",
        "第二条要点。",
        "第三条要点粘在后面。",
        "编号的第四条要点。",
    ]
    assert entry.section("innovation").bullets == ["创新一", "创新二"]


def test_headings_are_recognised_with_either_colon_alone_or_by_english_alias():
    entry = parse_digest(TEXT).entries[0]
    assert [s.kind.slug for s in entry.sections] == [
        "key-points",
        "gist",
        "innovation",
        "contribution",
        "improvement",
        "limitations",
        "takeaways",
        "summary",
    ]
    assert entry.section("gist").body == "一句话说明主旨。"
    assert entry.section("contribution").bullets == ["贡献一"]  # "Contributions" alias
    assert entry.section("improvement").body == "引言一句。\n\n- 提升一"


def test_figure_placeholders_become_figures_in_order():
    first, second = parse_digest(TEXT).entries
    assert [f.placeholder for f in first.figures] == ["Image on 2024-03-13 10.00.00 PM"]
    assert len(second.figures) == 2


def test_page_chrome_is_left_out_and_listed():
    parsed = parse_digest(TEXT)
    ignored = [note.message for note in parsed.report.ignored]
    assert "示例科技有限公司" in ignored
    assert "上一篇:没有了" in ignored and "联系我们" in ignored
    assert any("400-123-4567" in text for text in ignored)
    assert any("ICP备" in text for text in ignored)
    for entry in parsed.entries:
        assert "联系我们" not in entry.unplaced_text
        assert all("联系我们" not in s.body for s in entry.sections)


def test_text_it_cannot_place_is_kept_with_the_entry_and_reported():
    parsed = parse_digest(TEXT)
    first, second = parsed.entries
    assert first.unplaced_text == "这一行编辑忘了放在哪里"
    assert "神秘段落：这段文字没有已知标题" in second.unplaced_text
    assert parsed.report.unknown_sections == {"神秘段落": [61]}
    warnings = " ".join(note.display() for note in parsed.report.warnings)
    assert "这一行编辑忘了放在哪里" in warnings


def test_markdown_layout_is_detected_and_parsed():
    parsed = parse_digest(MARKDOWN)
    assert parsed.format == "markdown" == detect_format(MARKDOWN)
    assert parsed.title == "AI前沿推介(4.2)"
    assert parsed.summary == "两篇关于检索与压缩的论文。"
    first, second = parsed.entries
    assert (first.tag, first.arxiv_id, first.title_zh) == ("IR", "2404.00001", "用更少的词元做检索")
    assert first.authors == ["C Shannon", "N Wiener"]
    assert first.affiliations == ["Example University", "Sample Lab"]
    assert first.abstract.startswith("We retrieve with fewer tokens")
    assert first.section("summary").body == "更少的词元，同样的召回。"


def test_markdown_nested_bullets_stay_nested():
    first = parse_digest(MARKDOWN).entries[0]
    assert first.section("key-points").body == (
        "- 检索时只保留关键词元。\n  - 嵌套的细节。\n- 压缩率提高一倍。"
    )


def test_markdown_figures_keep_caption_and_url_without_downloading():
    figure = parse_digest(MARKDOWN).entries[0].figures[0]
    assert figure.caption == "Figure 1: pipeline overview"
    assert figure.source_url == "https://example.org/fig1.png"


def test_papers_under_more_are_still_entries_with_versionless_ids():
    parsed = parse_digest(MARKDOWN)
    assert [e.position for e in parsed.entries] == [1, 2]
    assert parsed.entries[1].arxiv_id == "2404.00002"


def test_unknown_markdown_sections_are_reported_and_kept_as_unplaced_text():
    parsed = parse_digest(MARKDOWN)
    assert set(parsed.report.unknown_sections) == {"动机", "方法", "优势"}
    first = parsed.entries[0]
    assert "- 动机：长文档检索太慢。" in first.unplaced_text
    assert "  - 先打分再裁剪。" in first.unplaced_text
    # Official Code is now a link of the paper, not unplaced text.
    assert first.code_url == "https://github.com/example/fewer-tokens"
    assert "Official Code" not in first.unplaced_text


def test_a_section_kind_added_by_an_editor_is_recognised_on_the_next_import():
    from papers.models import SectionKind

    SectionKind.objects.create(
        slug="motivation", name_zh="动机", name_en="Motivation", order=15, is_list=False
    )
    first = parse_digest(MARKDOWN).entries[0]
    assert first.section("motivation").body == "长文档检索太慢。"
    assert "动机" not in parse_digest(MARKDOWN).report.unknown_sections


def test_an_empty_text_is_refused():
    assert "empty" in _error("  \n\n ").message
    with pytest.raises(DigestImportError, match="empty"):
        decode_upload(b"")


def test_binary_data_is_refused_naming_the_line():
    with pytest.raises(DigestImportError) as caught:
        decode_upload(b"AI(1.1)\nline two\n\x89PNG\x00\x01")
    assert caught.value.line == 3
    assert "binary" in caught.value.message


def test_text_that_is_not_utf8_is_refused_naming_the_line():
    with pytest.raises(DigestImportError) as caught:
        decode_upload("标题\n第二行\n".encode() + "中文".encode("gbk"))
    assert caught.value.line == 3


def test_a_ten_megabyte_paste_is_refused_with_its_size():
    with pytest.raises(DigestImportError, match="10.0 MB"):
        decode_upload(b"x" * (10 * 1024 * 1024))
    assert "10.0 MB" in _error("x" * (10 * 1024 * 1024)).message


def test_a_digest_without_papers_is_refused():
    error = _error("AI前沿推介(3.14)\n时间:2024-03-14\n\n摘要:没有论文\n")
    assert "No papers" in error.message


def test_a_digest_without_a_date_is_refused_at_its_title_line():
    error = _error("\nAI前沿推介\n\n1、[LG] A Title\nA B\nhttps://arxiv.org/abs/2403.01234\n")
    assert error.line == 2 and "date" in error.message


def test_a_paper_heading_without_a_title_is_left_out_and_reported_at_its_line():
    text = TEXT.replace("2、[CL] Reading Tables Like Prose\n\nB Liskov", "2、[CL]  \n\nB Liskov")
    parsed = parse_digest(text)
    assert [e.arxiv_id for e in parsed.entries] == ["2403.01234"]
    assert [note.line for note in parsed.report.skipped] == [52]
    assert "no title" in parsed.report.skipped[0].display()


def test_a_second_part_numbering_from_1_again_keeps_every_paper_in_order():
    text = TEXT.replace(
        "2、[CL] Reading Tables Like Prose\n\nB Liskov", "1、[CL] Reading\n\nB Liskov"
    )
    parsed = parse_digest(text)
    assert [(e.position, e.number, e.arxiv_id) for e in parsed.entries] == [
        (1, 1, "2403.01234"),
        (2, 1, "hep-th/9901001"),
    ]
    assert any("as written are 1, 1" in note.message for note in parsed.report.warnings)


def test_a_paper_without_an_arxiv_link_is_listed_not_a_refusal_of_the_digest():
    parsed = parse_digest(TEXT.replace("https://arxiv.org/abs/hep-th/9901001\n", ""))
    assert [e.arxiv_id for e in parsed.entries] == ["2403.01234"]
    assert [note.line for note in parsed.report.skipped] == [52]
    # Without its arXiv link it has no link at all: skipped by name, never a refusal.
    assert "“Reading Tables Like Prose” has no link at all" in parsed.report.skipped[0].display()
    assert parsed.report.skipped[0].display().startswith("Line 52:")


def test_a_paper_with_only_another_link_is_an_entry_sourced_by_it():
    text = TEXT.replace(
        "https://arxiv.org/abs/hep-th/9901001\n", "https://example.org/tables-like-prose\n"
    )
    parsed = parse_digest(text)
    assert [(e.arxiv_id, e.source_url) for e in parsed.entries] == [
        ("2403.01234", ""),
        ("", "https://example.org/tables-like-prose"),
    ]
    assert parsed.report.skipped == []


def test_windows_line_ends_and_wide_spaces_from_a_word_processor_are_handled():
    text = TEXT.replace("\n", "\r\n").replace("  • 创新一", "\u3000•\u00a0创新一")
    entry = parse_digest(text).entries[0]
    assert entry.section("innovation").bullets == ["创新一", "创新二"]
    assert entry.arxiv_id == "2403.01234"


def test_a_critique_line_that_looks_like_chrome_stays_in_its_section():
    text = TEXT.replace("  • 不足一", "  • 不足一\n示例科技有限公司\n联系我们的读者反馈很多。")
    entry = parse_digest(text).entries[0]
    body = entry.section("limitations").body
    assert "示例科技有限公司" in body and "联系我们的读者反馈很多。" in body


def test_a_bare_arxiv_line_is_accepted_as_the_link():
    text = TEXT.replace("https://arxiv.org/abs/2403.01234v2", "arXiv:2403.01234v2")
    assert parse_digest(text).entries[0].arxiv_id == "2403.01234"


def test_bold_markdown_headings_are_recognised_known_or_not():
    text = MARKDOWN.replace("- 要点：", "- **要点**：").replace("- 动机：", "- **动机**：")
    parsed = parse_digest(text)
    assert parsed.entries[0].section("key-points").bullets[0] == "检索时只保留关键词元。"
    assert "动机" in parsed.report.unknown_sections


def test_a_colon_phrase_inside_a_paragraph_is_prose_not_an_unknown_heading():
    text = TEXT.replace(
        "主旨：一句话说明主旨。", "主旨：一句话说明主旨。\n例如：这一句接着上一句。"
    )
    parsed = parse_digest(text)
    assert parsed.entries[0].section("gist").body == "一句话说明主旨。\n\n例如：这一句接着上一句。"
    assert "例如" not in parsed.report.unknown_sections
