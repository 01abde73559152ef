"""Honest messages: encodings an editor's file may have, and values longer than their
column reported with their line, refused or kept whole, never cut."""

from pathlib import Path

import pytest

from editorial.importing import DigestImportError, decode_upload, parse_digest, write_digest
from papers.models import Digest, Figure, Paper

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SAMPLE = Path(__file__).parent / "samples" / "layouts" / "10-glued-authors-separators.md"
TEXT = SAMPLE.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "encoded",
    [
        TEXT.encode("utf-8"),
        b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),  # with its byte-order mark (Windows "Unicode")
        TEXT.encode("utf-16-le"),
        TEXT.encode("utf-16-be"),
        "\ufeff".encode("utf-16-be") + TEXT.encode("utf-16-be"),
    ],
    ids=["utf-8", "utf-8 with BOM", "utf-16", "utf-16-le no BOM", "utf-16-be no BOM", "utf-16-be"],
)
def test_utf8_and_utf16_with_or_without_a_byte_order_mark_decode_to_the_same_digest(encoded):
    text = decode_upload(encoded)
    assert text == TEXT
    assert [e.arxiv_id for e in parse_digest(text).entries] == [
        "2103.00020",
        "2205.14135",
        "2307.09288",
    ]


def test_gbk_is_named_as_gbk_with_a_way_to_convert():
    with pytest.raises(DigestImportError) as caught:
        decode_upload(TEXT.encode("gbk"))
    message = caught.value.message
    assert "GBK" in message and "iconv -f GBK -t UTF-8" in message
    assert caught.value.line == 1


def test_a_title_longer_than_its_column_is_refused_with_its_line_not_cut():
    long_title = "Learning " * 60  # 540 characters; the column holds 500
    text = TEXT.replace("Llama 2: Open Foundation and Fine-Tuned Chat Models", long_title.strip())
    parsed = parse_digest(text)
    assert parsed.entries[2].title == long_title.strip()  # parsed whole
    with pytest.raises(DigestImportError) as caught:
        write_digest(parsed)
    assert caught.value.line == 26
    assert "539 characters, longer than the 500" in caught.value.message
    assert Digest.objects.count() == 0 and Paper.objects.count() == 0


def test_a_chinese_title_longer_than_its_column_is_refused_at_its_own_line():
    text = TEXT.replace("开放的基础模型与微调的对话模型", "很长的中文标题" * 50)
    with pytest.raises(DigestImportError) as caught:
        write_digest(parse_digest(text))
    assert caught.value.line == 30
    assert "350 characters, longer than the 300" in caught.value.message
    assert Digest.objects.count() == 0


def test_a_figure_source_longer_than_its_column_is_kept_whole_and_reported():
    url = "https://example.org/figures/" + "a" * 300 + ".png"
    text = TEXT.replace("要点：\n- 用4亿", f"![Figure 1: CLIP]({url})\n\n要点：\n- 用4亿")
    parsed = parse_digest(text)
    entry = parsed.entries[0]
    assert url in entry.unplaced_text  # whole, never cut
    assert entry.figures[0].source_url == ""
    assert any("longer than the 200" in n.message for n in parsed.report.warnings)
    write_digest(parsed)
    figure = Figure.objects.get()
    assert figure.source_url == "" and figure.caption == "Figure 1: CLIP"
    assert url in figure.entry.unplaced_text
