"""The real page of the site (shared/seed/, beside the clone) imports exactly."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from papers.models import Digest, SectionKind

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "digest-2025-09-30.txt"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not SEED.parent.is_dir(),
        reason=f"the shared seed folder {SEED.parent} is absent (it sits beside the clone)",
    ),
]

IDS = ["2509.22445", "2509.22613", "2509.21651", "2509.21499", "2509.21487"]
AUTHORS = [
    ["P Shaw", "J Cohan", "J Eisenstein", "K Toutanova"],
    ["S Wang", "Y Shen", "H Sun", "S Feng"],
    ["A Jindal", "D Kalashnikov", "O Chang", "D Garikapati"],
    ["A Waheed", "Z Wu", "C Rosé", "D Ippolito"],
    ["J Xu", "D Zhou", "V Shukla", "Y Yang"],
]
AFFILIATIONS = [
    ["Google DeepMind", "Google Research"],
    ["Microsoft Research Asia", "Peking University"],
    ["Google DeepMind Robotics"],
    ["CMU"],
    ["Google"],
]
TITLES_ZH = [
    "连接柯尔莫哥洛夫复杂性与深度学习:渐近最优描述长度",
    "语言模型规划中强化学习的益处与陷阱:理论视角",
    "人工智能能否感知身体危险并进行干预?",
    "LLM的代码诱导推理研究",
    "双头推理蒸馏:用仅训练时推理提高分类器精度",
]
# Bullets per section kind, per entry (要点, 创新, 贡献, 提升, 不足, 心得).
BULLETS = {
    "key-points": [9, 9, 10, 7, 9],
    "innovation": [3, 4, 3, 3, 3],
    "contribution": [3, 4, 3, 3, 3],
    "improvement": [3, 3, 3, 3, 2],
    "limitations": [3, 4, 3, 3, 4],
    "takeaways": [3, 3, 3, 3, 3],
}


def test_the_seed_page_imports_into_exactly_the_digest_it_shows():
    out = StringIO()
    call_command("import_digest", str(SEED), stdout=out)
    digest = Digest.objects.get()
    assert digest.issue_date.isoformat() == "2025-09-30"
    assert digest.status == Digest.Status.DRAFT
    assert digest.title == "陈老师的AI前沿推介(9.30)"
    assert digest.summary.startswith("连接柯尔莫哥洛夫复杂性与深度学习")
    entries = list(digest.entries.select_related("paper__primary_category").order_by("position"))
    assert [e.position for e in entries] == [1, 2, 3, 4, 5]
    assert [e.paper.primary_category.short_code for e in entries] == ["LG", "LG", "LG", "CL", "CL"]
    assert [e.paper.arxiv_id for e in entries] == IDS
    assert [e.paper.author_list for e in entries] == AUTHORS
    assert [e.paper.affiliation_list for e in entries] == AFFILIATIONS
    assert [e.title_zh for e in entries] == TITLES_ZH
    assert entries[2].paper.title == "Can AI Perceive Physical Danger and Intervene?"
    kinds = list(SectionKind.objects.values_list("slug", flat=True))
    for index, entry in enumerate(entries):
        sections = {s.kind.slug: s for s in entry.sections.select_related("kind")}
        assert sorted(sections) == sorted(kinds), entry
        for slug, counts in BULLETS.items():
            assert sections[slug].body_html.count("<li>") == counts[index], (entry, slug)
        assert entry.unplaced_text == ""
        assert entry.paper.abstract.split()[0] in {
            "The",
            "Recent",
            "When",
            "Code",
            "Chain-of-Thought",
        }
        assert "\n" not in entry.paper.abstract
        figures = list(entry.figures.all())
        assert len(figures) == (2 if index == 4 else 3)
        assert all(
            f.needs_upload and f.placeholder.startswith("Image on 2025-09-29") for f in figures
        )
    assert (
        "“多样性崩塌”现象的发现与证明"
        in (entries[1].sections.get(kind__slug="innovation").body.split("\n")[1])
    )
    assert entries[0].sections.get(kind__slug="gist").body.startswith("弥合算法信息论")
    assert entries[4].paper.abstract.endswith("by 96-142 times in QPS.")
    output = out.getvalue()
    assert "某某公司" in output and "left out" in output
    for chrome in ("某某公司", "上一篇", "联系我们", "488-888-8888", "ICP备"):
        for entry in entries:
            assert chrome not in entry.unplaced_text
            assert all(chrome not in s.body for s in entry.sections.all())
