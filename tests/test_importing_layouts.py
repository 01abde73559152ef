"""Digests as editors paste them from other sites (tests/samples/layouts/, our own samples
with real papers' facts): every paper, its arXiv id, titles, authors, affiliations, links,
figures and the section each text lands in. ``facts_placed`` counts, per sample, the facts
in place out of the facts present (the issue's measure)."""

import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from editorial.importing import ImportOptions, parse_digest, resolve_label_map, write_digest
from papers.models import Digest, Entry, Figure, Paper, SectionKind

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

LAYOUTS = Path(__file__).parent / "samples" / "layouts"


def P(arxiv_id, title, *, zh="", authors=(), affiliations=(), code="", project="", **more):
    """One expected paper. ``sections``: slug -> text each must contain (a list: every
    item in the section); ``figures``: (caption, source_url or "" when relative);
    ``source``: the link of an item not on arXiv (``arxiv_id`` "")."""
    return {
        "arxiv_id": arxiv_id,
        "source": more.get("source", ""),
        "title": title,
        "title_zh": zh,
        "authors": list(authors),
        "affiliations": list(affiliations),
        "code_url": code,
        "project_url": project,
        "sections": more.get("sections", {}),
        "figures": more.get("figures", []),
        "number": more.get("number", "same"),
        "tag": more.get("tag", ""),
    }


SAMPLES = {
    "01-front-matter-quoted.md": {
        "title": "每周论文精选 · 第12期",
        "date": "2023-06-02",
        "map": {"动机": "main-idea"},
        "papers": [
            P(
                "2106.09685",
                "LoRA: Low-Rank Adaptation of Large Language Models",
                authors=["E J Hu", "Y Shen", "P Wallis", "Z Allen-Zhu"],
                affiliations=["微软", "卡内基梅隆大学"],
                code="https://github.com/microsoft/LoRA",
                sections={
                    "gist": ["全量微调大模型的显存与存储开销太大。"],
                    "key-points": ["冻结预训练权重", "不增加延迟"],
                },
            ),
            P(
                "2006.11239",
                "Denoising Diffusion Probabilistic Models",
                authors=["J Ho", "A Jain", "P Abbeel"],
                affiliations=["加州大学伯克利分校"],
                code="https://github.com/hojonathanho/diffusion",
                sections={
                    "key-points": ["马尔可夫链", "得分匹配"],
                    "summary": ["追平GAN"],
                },
            ),
            P(
                "2304.02643",
                "Segment Anything",
                authors=["A Kirillov", "E Mintun", "N Ravi", "H Mao"],
                affiliations=["Meta AI Research", "FAIR"],
                project="https://segment-anything.com",
                sections={"gist": ["可提示的基础模型"], "innovation": ["数据引擎"]},
            ),
        ],
    },
    "02-date-heading-linked.md": {
        "title": "论文速递",
        "date": "2023-04-21",
        "map": {"Motivation": "gist"},
        "papers": [
            P(
                "2201.11903",
                "Chain-of-Thought Prompting Elicits Reasoning in Large Language Models",
                authors=["J Wei", "X Wang", "D Schuurmans", "M Bosma"],
                affiliations=["Google Research", "Brain Team"],
                sections={"gist": ["多步算术"], "summary": ["中间推理步骤"]},
            ),
            P(
                "2210.03629",
                "ReAct: Synergizing Reasoning and Acting in Language Models",
                authors=["S Yao", "J Zhao", "D Yu", "N Du"],
                affiliations=["Princeton University", "Google Research"],
                sections={"key-points": ["交替进行", "只推理或只行动"], "summary": ["边想边做"]},
            ),
        ],
    },
    "03-papers-for-zero.md": {
        "title": "Papers for 2025-09-30",
        "date": "2025-09-30",
        "papers": [
            P(
                "2312.00752",
                "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
                zh="选择性状态空间的线性时间序列模型",
                authors=["A Gu", "T Dao"],
                affiliations=["Carnegie Mellon University", "Princeton University"],
                number=0,
                sections={"summary": ["线性时间"], "key-points": ["选择机制", "并行扫描"]},
                figures=[("Figure 1: selective state space", "https://example.org/mamba/fig1.png")],
            ),
            P(
                "2205.14135",
                "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness",
                zh="IO感知的快速精确注意力",
                authors=["T Dao", "D Y Fu", "S Ermon", "A Rudra"],
                affiliations=["Stanford University", "University at Buffalo"],
                number=1,
                sections={"summary": ["片上内存"], "limitations": ["手写内核"]},
            ),
        ],
    },
    "04-parens-summary.md": {
        "title": "AI论文日报(6.15)",
        "date": "2023-06-15",
        "map": {
            "动机": "main-idea",
            "方法": "innovation",
            "结论": "improvement",
            "Motivation": "main-idea",
        },
        "papers": [
            P(
                "2305.18290",
                "Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
                zh="直接偏好优化",
                authors=["R Rafailov", "A Sharma", "E Mitchell", "S Ermon"],
                affiliations=["Stanford University"],
                sections={
                    "gist": ["**弥合**偏好学习", "RLHF流程复杂"],
                    "innovation": ["重新参数化"],
                    "improvement": ["与PPO相当"],
                },
            ),
            P(
                "2305.14314",
                "QLoRA: Efficient Finetuning of Quantized LLMs",
                zh="量化大模型的高效微调",
                authors=["T Dettmers", "A Pagnoni", "A Holtzman", "L Zettlemoyer"],
                affiliations=["University of Washington"],
                code="https://github.com/artidoro/qlora",
                sections={
                    "gist": ["**4位量化**加低秩适配器", "780 GB"],
                    "summary": ["Backpropagate through a frozen 4-bit model"],
                },
            ),
        ],
    },
    "05-chinese-headings-parts.md": {
        "title": "大模型论文导读（第3期）",
        "date": "2024-01-08",
        "map": {"动机": "main-idea", "方法": "innovation", "优势": "improvement"},
        "papers": [
            P(
                "2305.10601",
                "Tree of Thoughts: Deliberate Problem Solving with Large Language Models",
                zh="思维树：用大语言模型进行深思熟虑的问题求解",
                authors=["S Yao", "D Yu", "J Zhao", "I Shafran"],
                affiliations=["Princeton University", "Google DeepMind"],
                code="https://github.com/princeton-nlp/tree-of-thought-llm",
                sections={
                    "gist": ["从左到右"],
                    "innovation": ["组织成树"],
                    "improvement": ["74%"],
                },
            ),
            P(
                "2302.04761",
                "Toolformer: Language Models Can Teach Themselves to Use Tools",
                zh="工具使用者：语言模型自学使用工具",
                authors=["T Schick", "J Dwivedi-Yu", "R Dessì", "R Raileanu"],
                affiliations=["Meta AI Research"],
                sections={"key-points": ["何时调用计算器"]},
            ),
            P(
                "2203.02155",
                "Training language models to follow instructions with human feedback",
                zh="指令遵循：用人类反馈训练语言模型",
                authors=["L Ouyang", "J Wu", "X Jiang", "D Almeida"],
                affiliations=["OpenAI"],
                number=1,
                sections={"key-points": ["更受标注者偏好"]},
            ),
            P(
                "2005.11401",
                "Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks",
                zh="检索增强生成",
                authors=["P Lewis", "E Perez", "A Piktus", "F Petroni"],
                affiliations=[
                    "Facebook AI Research",
                    "University College London",
                    "New York University",
                ],
                number=2,
                sections={"summary": ["维基百科索引"]},
            ),
        ],
    },
    "06-single-paper-post.md": {
        "title": "精读 | NeRF：把场景表示为神经辐射场",
        "date": "2024-02-20",
        "papers": [
            P(
                "2003.08934",
                "NeRF: Representing Scenes as Neural Radiance Fields for View Synthesis",
                zh="神经辐射场：用于新视角合成的场景表示",
                authors=["B Mildenhall", "P P Srinivasan", "M Tancik", "J T Barron"],
                affiliations=["UC Berkeley", "Google Research", "UC San Diego"],
                project="https://www.matthewtancik.com/nerf",
                number=None,
                # Sub-headings: bold label paragraphs of the nearest section (要点 here).
                sections={
                    "key-points": [
                        "5D坐标",
                        "位置编码",
                        "**方法概述**\n\n沿每条相机光线",
                        "**实验结果**\n\n在合成与真实场景上",
                    ],
                    "limitations": ["单独训练"],
                },
                figures=[
                    ("NeRF 流程图", ""),
                    ("Figure 3: comparison", "https://example.org/nerf/results.jpg"),
                ],
            ),
        ],
    },
    "07-mixed-daily.md": {
        "title": "AI 日报 2023-11-07",
        "date": "2023-11-07",
        # Item 3 has no link at all: skipped, and said so. Items 1 and 5 are entries by link.
        "unlinked": [20],
        "papers": [
            P(
                "",
                "OpenAI 开发者大会发布 GPT-4 Turbo",
                source="https://openai.com/blog/new-models-and-developer-products-announced-at-devday",
                sections={"summary": ["上下文窗口扩展到 128K"]},
            ),
            P(
                "2001.08361",
                "Scaling Laws for Neural Language Models",
                authors=["J Kaplan", "S McCandlish", "T Henighan", "T B Brown"],
                affiliations=["OpenAI", "Johns Hopkins University"],
                number=2,
                tag="LG",
                sections={"key-points": ["幂律"]},
            ),
            P(
                "2010.11929",
                "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
                authors=["A Dosovitskiy", "L Beyer", "A Kolesnikov", "D Weissenborn"],
                affiliations=["Google Research", "Brain Team"],
                code="https://github.com/google-research/vision_transformer",
                number=4,
                tag="CV",
                sections={"key-points": ["16x16的块"]},
            ),
            P(
                "",
                "Hugging Face 上线新的排行榜",
                source="https://huggingface.co/blog/open-llm-leaderboard",
                number=5,
            ),
            P(
                "2005.14165",
                "Language Models are Few-Shot Learners",
                authors=["T B Brown", "B Mann", "N Ryder", "M Subbiah"],
                affiliations=["OpenAI"],
                number=6,
                tag="CL",
                sections={"summary": ["上下文示例"]},
            ),
        ],
    },
    "08-lost-line-breaks.txt": {
        "title": "深度学习经典回顾(12.1)",
        "date": "2023-12-01",
        "map": {"动机": "main-idea"},
        "papers": [
            P(
                "1706.03762",
                "Attention Is All You Need",
                zh="注意力就是你所需要的一切",
                authors=["A Vaswani", "N Shazeer", "N Parmar", "J Uszkoreit"],
                affiliations=["Google Brain", "Google Research"],
                tag="CL",
                sections={
                    "key-points": ["去掉循环与卷积", "高度并行", "28.4 BLEU"],
                    "gist": ["难以并行"],
                    "summary": ["编码器-解码器"],
                },
            ),
            P(
                "1412.6980",
                "Adam: A Method for Stochastic Optimization",
                zh="随机优化方法Adam",
                authors=["D P Kingma", "J Ba"],
                affiliations=["University of Amsterdam", "University of Toronto"],
                tag="LG",
                sections={
                    "key-points": ["自适应调整学习率", "缩放不变"],
                    "innovation": ["偏差修正"],
                },
            ),
            P(
                "1512.03385",
                "Deep Residual Learning for Image Recognition",
                zh="用于图像识别的深度残差学习",
                authors=["K He", "X Zhang", "S Ren", "J Sun"],
                affiliations=["Microsoft Research"],
                tag="CV",
                sections={"key-points": ["残差函数", "3.57%"]},
            ),
        ],
    },
    "09-web-page.html": {
        "title": "视觉论文周报",
        "date": "2024-03-11",
        "papers": [
            P(
                "2304.07193",
                "DINOv2: Learning Robust Visual Features without Supervision",
                zh="无监督学习鲁棒的视觉特征",
                authors=["M Oquab", "T Darcet", "T Moutakanni", "H Vo"],
                affiliations=["Meta AI Research", "Inria"],
                tag="CV",
                sections={"key-points": ["1.42亿张图像", "深度估计"]},
                figures=[("Figure 1: DINOv2 features", "https://example.org/dinov2/overview.png")],
            ),
            P(
                "2112.10752",
                "High-Resolution Image Synthesis with Latent Diffusion Models",
                zh="基于潜在扩散模型的高分辨率图像合成",
                authors=["R Rombach", "A Blattmann", "D Lorenz", "P Esser"],
                affiliations=["LMU Munich", "Heidelberg University", "Runway"],
                tag="CV",
                sections={"summary": ["潜在空间"]},
                figures=[("生成样例", "")],
            ),
        ],
    },
    "10-glued-authors-separators.md": {
        "title": "多模态论文速览(5.9)",
        "date": "2023-05-09",
        "papers": [
            P(
                "2103.00020",
                "Learning Transferable Visual Models From Natural Language Supervision",
                zh="从自然语言监督中学习可迁移的视觉模型",
                authors=["A Radford", "J W Kim", "C Hallacy", "A Ramesh"],
                affiliations=["OpenAI"],
                code="https://github.com/openai/CLIP",
                tag="CV",
                sections={"key-points": ["4亿图文对", "零样本"]},
            ),
            P(
                "2205.14135",
                "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness",
                authors=["T Dao", "D Y Fu", "S Ermon", "A Rudra"],
                affiliations=["Stanford University", "University at Buffalo"],
                tag="LG",
                sections={"key-points": ["分块计算注意力"]},
            ),
            P(
                "2307.09288",
                "Llama 2: Open Foundation and Fine-Tuned Chat Models",
                zh="开放的基础模型与微调的对话模型",
                authors=["H Touvron", "L Martin", "K Stone"],
                affiliations=["Meta"],
                project="https://ai.meta.com/llama/",
                tag="CL",
                sections={"limitations": ["许可证"]},
            ),
        ],
    },
}


def _options(sample, *, mapped=True, **more):
    label_map = sample.get("map", {}) if mapped else {}
    return ImportOptions(label_map=resolve_label_map(label_map, SectionKind.objects.all()), **more)


def _parse(name, *, mapped=True, **more):
    sample = SAMPLES[name]
    text = (LAYOUTS / name).read_text(encoding="utf-8")
    return parse_digest(text, options=_options(sample, mapped=mapped, **more))


def facts_placed(parsed, sample) -> tuple[int, int]:
    """(facts in place, facts present): each paper's id, title, Chinese title, every author,
    affiliation, link, figure, and every expected text in its section."""
    placed = present = 0

    def count(ok):
        nonlocal placed, present
        present += 1
        placed += bool(ok)

    by_id = {entry.arxiv_id or entry.source_url: entry for entry in parsed.entries}
    for paper in sample["papers"]:
        entry = by_id.get(paper["arxiv_id"] or paper["source"])
        count(entry is not None)
        if entry is None:
            entry = type("Missing", (), {"section": lambda self, slug: None})()
        count(getattr(entry, "title", None) == paper["title"])
        if paper["title_zh"]:
            count(getattr(entry, "title_zh", None) == paper["title_zh"])
        authors = getattr(entry, "authors", [])
        for index, name in enumerate(paper["authors"]):
            count(authors[index : index + 1] == [name])
        affiliations = getattr(entry, "affiliations", [])
        for index, name in enumerate(paper["affiliations"]):
            count(affiliations[index : index + 1] == [name])
        for name in ("code_url", "project_url"):
            if paper[name]:
                count(getattr(entry, name, None) == paper[name])
        figures = getattr(entry, "figures", [])
        for index, (caption, url) in enumerate(paper["figures"]):
            figure = figures[index] if index < len(figures) else None
            count(figure is not None and (figure.caption, figure.source_url) == (caption, url))
        for slug, texts in paper["sections"].items():
            section = entry.section(slug)
            for text in texts:
                count(section is not None and text in section.body)
    return placed, present


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_fact_of_each_sample_lands_in_its_place(name):
    sample = SAMPLES[name]
    parsed = _parse(name)
    assert parsed.title == sample["title"]
    assert parsed.issue_date.isoformat() == sample["date"]
    expected = sample["papers"]
    assert [(e.arxiv_id, e.source_url) for e in parsed.entries] == [
        (p["arxiv_id"], p["source"]) for p in expected
    ]
    assert [e.position for e in parsed.entries] == list(range(1, len(expected) + 1))
    for entry, paper in zip(parsed.entries, expected, strict=True):
        number = entry.position if paper["number"] == "same" else paper["number"]
        assert entry.number == number, entry.title
        assert entry.title == paper["title"]
        assert entry.title_zh == paper["title_zh"]
        assert entry.authors == paper["authors"]
        assert entry.affiliations == paper["affiliations"]
        assert (entry.code_url, entry.project_url) == (paper["code_url"], paper["project_url"])
        assert entry.tag == paper["tag"]
        assert [(f.caption, f.source_url) for f in entry.figures] == paper["figures"]
        assert sorted(s.kind.slug for s in entry.sections if s.body) == sorted(paper["sections"])
        for slug, texts in paper["sections"].items():
            for text in texts:
                assert text in entry.section(slug).body, (slug, text)
        assert entry.unplaced == [], entry.unplaced_text
    assert [n.line for n in parsed.report.skipped] == sample.get("unlinked", [])
    assert parsed.report.unknown_sections == {}
    assert facts_placed(parsed, sample)[0] == facts_placed(parsed, sample)[1]


@pytest.mark.parametrize("name", sorted(n for n in SAMPLES if SAMPLES[n].get("map")))
def test_without_the_label_map_the_unknown_labels_are_reported_and_kept(name):
    parsed = _parse(name, mapped=False)
    assert set(parsed.report.unknown_sections) == set(SAMPLES[name]["map"])
    kept = "\n".join(entry.unplaced_text for entry in parsed.entries)
    for label in SAMPLES[name]["map"]:
        assert label in kept
    assert parsed.unplaced_count > 0


def test_a_second_part_that_numbers_from_1_again_keeps_every_paper():
    parsed = _parse("05-chinese-headings-parts.md")
    assert [(e.number, e.position) for e in parsed.entries] == [(1, 1), (2, 2), (1, 3), (2, 4)]
    assert parsed.report.skipped == []
    write_digest(parsed)
    assert Digest.objects.get().entries.count() == 4


def test_items_without_an_arxiv_link_are_entries_by_their_link_skipped_or_summary_lines():
    entries = _parse("07-mixed-daily.md")
    assert [e.number for e in entries.link_entries] == [1, 5]
    assert [n.line for n in entries.report.skipped] == [20]
    assert "某国产大模型宣布开源" in entries.report.skipped[0].message
    assert "no link at all" in entries.report.skipped[0].message
    assert "OpenAI" not in entries.summary

    skipped = _parse("07-mixed-daily.md", unlinked="skip")
    assert [e.arxiv_id for e in skipped.entries] == ["2001.08361", "2010.11929", "2005.14165"]
    assert [n.line for n in skipped.report.skipped] == [5, 20, 34]
    assert ["skipped, as chosen" in n.message for n in skipped.report.skipped] == [
        True,
        False,
        True,
    ]
    assert "OpenAI" not in skipped.summary

    summary = _parse("07-mixed-daily.md", unlinked="summary")
    assert len(summary.entries) == 3 and len(summary.unlinked) == 3
    assert "OpenAI 开发者大会发布 GPT-4 Turbo https://openai.com/blog/" in summary.summary
    assert "Hugging Face 上线新的排行榜 https://huggingface.co/blog/" in summary.summary
    assert "某国产大模型" not in summary.summary  # no link: skipped, as in every choice


def test_the_mixed_daily_imports_its_news_items_as_link_sourced_entries_and_reuses_them():
    result = write_digest(_parse("07-mixed-daily.md"))
    digest = result.digest
    rows = list(digest.entries.select_related("paper__primary_category").order_by("position"))
    assert [(e.paper.arxiv_id, e.paper.source_url) for e in rows] == [
        (None, "https://openai.com/blog/new-models-and-developer-products-announced-at-devday"),
        ("2001.08361", ""),
        ("2010.11929", ""),
        (None, "https://huggingface.co/blog/open-llm-leaderboard"),
        ("2005.14165", ""),
    ]
    news = rows[0]
    assert news.paper.title == "OpenAI 开发者大会发布 GPT-4 Turbo" and news.title_zh == ""
    assert news.paper.primary_category.code == "cs.AI"
    assert "128K" in news.sections.get(kind__slug="summary").body
    assert news.get_absolute_url().endswith(f"/link-{news.paper.pk}/")
    assert result.created_papers[0] == news.paper.source_url
    # A second import (another day, the same news) reuses the same item by its link.
    again = _parse("07-mixed-daily.md", issue_date=datetime.date(2023, 11, 8))
    second = write_digest(again)
    assert news.paper.source_url in second.reused_papers
    assert Paper.objects.filter(arxiv_id__isnull=True).count() == 2


@pytest.mark.parametrize(
    "written, institutions",
    [
        (
            "University of California, Berkeley & Google",
            ["University of California, Berkeley", "Google"],
        ),
        (
            "University of Illinois, Urbana-Champaign, Microsoft Research",
            ["University of Illinois, Urbana-Champaign", "Microsoft Research"],
        ),
        ("University of Oxford, Google", ["University of Oxford", "Google"]),
        ("加州大学洛杉矶分校、微软；清华大学", ["加州大学洛杉矶分校", "微软", "清华大学"]),
        ("MIT, Stanford University", ["MIT", "Stanford University"]),
    ],
)
def test_a_campus_after_a_comma_stays_with_its_university(written, institutions):
    text = (
        "AI前沿推介(3.14)\n时间: 2024-03-14\n\n"
        "1、[LG] Learning to Rank Papers\n"
        f"A Turing, G Hopper\n[{written}]\n"
        "要点：一句。\nhttps://arxiv.org/abs/2403.01234\n"
    )
    assert parse_digest(text).entries[0].affiliations == institutions


def test_the_date_and_title_of_the_editor_win_over_the_text():
    parsed = _parse(
        "01-front-matter-quoted.md", issue_date=datetime.date(2023, 6, 9), title="改过的标题"
    )
    assert (parsed.title, parsed.issue_date.isoformat()) == ("改过的标题", "2023-06-09")


def test_a_digest_without_any_date_asks_for_one_and_takes_the_editors():
    text = "# 一期没有日期的速递\n\n### 1、[LG] Adam\n\n> URL：https://arxiv.org/abs/1412.6980\n"
    from editorial.importing import DigestImportError

    with pytest.raises(DigestImportError, match="No issue date"):
        parse_digest(text)
    parsed = parse_digest(text, options=ImportOptions(issue_date=datetime.date(2024, 1, 2)))
    assert parsed.title == "一期没有日期的速递" and len(parsed.entries) == 1


def test_an_imported_sample_stores_links_figures_and_tags():
    sample = SAMPLES["01-front-matter-quoted.md"]
    write_digest(_parse("01-front-matter-quoted.md"))
    lora = Paper.objects.get(arxiv_id="2106.09685")
    assert lora.code_url == "https://github.com/microsoft/LoRA"
    assert lora.affiliation_list == sample["papers"][0]["affiliations"]
    sam = Paper.objects.get(arxiv_id="2304.02643")
    assert sam.project_url == "https://segment-anything.com"
    entry = Entry.objects.get(paper=lora)
    assert list(entry.tags.names()) == ["参数高效微调"]


def test_a_relative_figure_is_reported_and_not_stored_as_a_link():
    parsed = _parse("06-single-paper-post.md")
    write_digest(parsed)
    figures = list(Figure.objects.order_by("position"))
    assert [f.source_url for f in figures] == ["", "https://example.org/nerf/results.jpg"]
    assert figures[0].placeholder == "/uploads/2024/02/nerf-pipeline.png"
    assert any(n.line == 22 and "relative" in n.message for n in parsed.report.warnings), (
        parsed.report.warnings
    )


def _command(*args):
    out = StringIO()
    call_command("import_digest", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_dry_run_of_each_sample_prints_a_report_an_editor_can_act_on(name):
    sample = SAMPLES[name]
    args = [str(LAYOUTS / name), "--dry-run"]
    for label, kind in sample.get("map", {}).items():
        args += ["--map-label", f"{label}={kind}"]
    output = _command(*args)
    for paper in sample["papers"]:
        assert (paper["arxiv_id"] or f"source {paper['source']}") in output
    assert "nothing written" in output
    assert Digest.objects.count() == 0
    if sample.get("unlinked"):
        assert output.count("not imported: Line") == len(sample["unlinked"])
        assert "review them" in output and "everything checks out" not in output


def test_the_report_counts_in_the_right_number_and_marks_what_it_shortens():
    output = _command(str(LAYOUTS / "06-single-paper-post.md"), "--dry-run")
    assert "2024-02-20, 1 paper\n" in output
    assert "1 (not numbered). line 6:" in output and "None" not in output
    assert "Fields for Vie… — 4 authors, 3 affiliations, 2 sections" in output
    assert "with 1 new paper, 0 already known. 2 warnings" in output
    assert "0 of them" not in output and "0 items" not in output


def test_the_command_refuses_unplaced_labels_until_mapped_and_names_them():
    path = str(LAYOUTS / "08-lost-line-breaks.txt")
    with pytest.raises(CommandError, match="left unplaced") as refused:
        _command(path)
    assert refused.value.returncode == 1
    assert Digest.objects.count() == 0
    output = _command(path, "--map-label", "动机=main-idea")
    assert "Created draft digest" in output
    with pytest.raises(CommandError, match="no section kind"):
        _command(path, "--map-label", "动机=nonsense", "--replace")


def test_the_command_chooses_what_happens_to_items_without_an_arxiv_link():
    path = str(LAYOUTS / "07-mixed-daily.md")
    output = _command(path, "--dry-run")
    lines = output.splitlines()
    first = next(i for i, line in enumerate(lines) if "line 5:" in line)
    # Every item in the order of the text, with what happens to it.
    assert [
        ("source https://" in line, "not imported" in line) for line in lines[first : first + 6]
    ] == [
        (True, False),
        (False, False),
        (False, True),
        (False, False),
        (True, False),
        (False, False),
    ]
    assert "5 papers (2 of them known by their link" in output
    output = _command(path, "--unlinked", "summary")
    assert "Hugging Face 上线新的排行榜" in Digest.objects.get().summary
    assert Paper.objects.filter(arxiv_id__isnull=True).count() == 0
    with pytest.raises(CommandError):
        _command(path, "--unlinked", "nonsense")


def test_the_command_takes_date_title_and_skip_unlinked():
    output = _command(
        str(LAYOUTS / "07-mixed-daily.md"),
        "--date",
        "2023-11-08",
        "--title",
        "AI 日报（修订）",
        "--skip-unlinked",
    )
    digest = Digest.objects.get()
    assert (digest.title, digest.issue_date.isoformat()) == ("AI 日报（修订）", "2023-11-08")
    assert "OpenAI" not in digest.summary
    assert digest.entries.count() == 3
    assert output.count("skipped, as chosen") == 2 and output.count("no link at all") == 1


def test_the_title_is_the_digests_never_a_separator_or_a_table_of_contents():
    text = (
        "---\ndate: 2024-01-02\n---\n\n---\n\n## Table of Contents\n\n- [Adam](#adam)\n\n"
        "# 真正的标题\n\n### 1、[LG] Adam: A Method for Stochastic Optimization\n\n"
        "> URL：https://arxiv.org/abs/1412.6980\n"
    )
    parsed = parse_digest(text)
    assert (parsed.title, parsed.issue_date.isoformat()) == ("真正的标题", "2024-01-02")
    assert [e.arxiv_id for e in parsed.entries] == ["1412.6980"]
