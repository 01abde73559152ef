"""A digest worth exporting, shared by the export tests: three real papers (facts from
arXiv), critiques in our own words with every shape a section takes (nested bullets, links,
bold text, prose in paragraphs, prose opening with a list), uploaded figures and a
placeholder still waiting for its image."""

import datetime
import io

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from papers.models import Category, Digest, Entry, Figure, Paper, Section, SectionKind

SITE = "https://digest.example.com"


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#4477aa").save(buffer, format="PNG")
    return buffer.getvalue()


PAPERS = [
    {
        "arxiv_id": "2509.22445",
        "category": "cs.LG",
        "title": (
            "Bridging Kolmogorov Complexity and Deep Learning: Asymptotically Optimal "
            "Description Length Objectives for Transformers"
        ),
        "authors": ["P Shaw", "J Cohan", "J Eisenstein", "K Toutanova"],
        "affiliations": ["Google DeepMind", "Google Research"],
        "abstract": (
            "The Minimum Description Length principle offers a formal framework for applying "
            "Occam's razor in machine learning, but it is hard to apply to neural networks.\n\n"
            "We introduce asymptotically optimal description length objectives and show that "
            "they exist for Transformers."
        ),
        "title_zh": "连接柯尔莫哥洛夫复杂度与深度学习:渐近最优描述长度",
        "tags": ["压缩", "理论"],
        "sections": {
            "key-points": (
                "- 用描述长度衡量模型的复杂度,并给出**渐近最优**的定义。\n"
                "  - 误差不超过一个与数据无关的常数。\n"
                "  - 资源趋于无穷时成立。\n"
                "- 代码见 [项目主页](https://github.com/example/mdl-transformers)。"
            ),
            "gist": (
                "把算法信息论里的最小描述长度原则带进 Transformer 的训练目标。\n\n"
                "第二段:目标可微,可以用梯度优化,但优化器未必找得到它偏好的解。"
            ),
            "improvement": (
                "- 相比 L2 正则,目标有压缩上的理论保证。\n- 在奇偶校验任务上泛化到更长的输入。"
            ),
            "limitations": "- 实验规模很小。\n- 标准优化器从随机初始化出发找不到低复杂度解。",
            "summary": "**一句话**:理论上最优的目标,实践中仍缺一个能到达它的优化器。",
        },
        "figures": [
            {
                "caption": "图1:描述长度与泛化",
                "size": (1200, 600),
                "source": "https://arxiv.org/abs/2509.22445",
            },
            {"placeholder": "Image on 2025-09-29 09.16.09 PM"},
        ],
    },
    {
        "arxiv_id": "1706.03762",
        "category": "cs.CL",
        "title": "Attention Is All You Need",
        "authors": ["A Vaswani", "N Shazeer", "N Parmar", "J Uszkoreit", "L Jones"],
        "affiliations": ["Google Brain", "Texas A&M University"],
        "abstract": (
            "The dominant sequence transduction models are based on complex recurrent or "
            "convolutional neural networks; we propose the Transformer, based solely on "
            "attention mechanisms."
        ),
        "title_zh": "注意力就是你所需要的一切",
        "tags": ["注意力"],
        "sections": {
            "key-points": "- 只用注意力,不用循环和卷积。\n- 训练可以高度并行。",
            "innovation": "- 多头注意力。\n- 位置编码。",
            "summary": "一个只靠注意力的序列模型,成了后来大模型的底座。",
        },
        "figures": [{"caption": "图2:模型结构", "size": (400, 300), "source": ""}],
    },
    {
        "arxiv_id": "2005.14165",
        "category": "cs.CL",
        "title": "Language Models are Few-Shot Learners",
        "authors": ["T B Brown", "B Mann", "N Ryder", "M Subbiah"],
        "affiliations": ["OpenAI"],
        "abstract": (
            "We show that scaling up language models greatly improves task-agnostic, "
            "few-shot performance, sometimes reaching competitiveness with prior approaches."
        ),
        "title_zh": "语言模型是少样本学习者",
        "tags": [],
        "sections": {
            "gist": "规模带来少样本能力:不改参数,只在提示里给几个例子。",
            "takeaways": "- 提示本身就是一种编程方式。",
        },
        "figures": [],
    },
]


def rich_digest(*, status: str = "published", title: str = "AI前沿推介(9.30)", papers=PAPERS):
    kinds = {kind.slug: kind for kind in SectionKind.objects.all()}
    digest = Digest.objects.create(
        title=title,
        slug="issue-2025-09-30",
        issue_date=datetime.date(2025, 9, 30),
        summary="柯尔莫哥洛夫复杂度与深度学习、只靠注意力的序列模型、少样本学习。",
        status=status,
        published_at=timezone.now() - datetime.timedelta(hours=1)
        if status in (Digest.Status.PUBLISHED, Digest.Status.ARCHIVED)
        else None,
    )
    digest.tags.add("每日推介")
    for position, data in enumerate(papers, start=1):
        category, _created = Category.objects.get_or_create(
            code=data["category"], defaults={"name": data["category"]}
        )
        paper = Paper.objects.create(
            arxiv_id=data["arxiv_id"],
            title=data["title"],
            authors="\n".join(data["authors"]),
            affiliations="\n".join(data["affiliations"]),
            abstract=data["abstract"],
            primary_category=category,
        )
        entry = Entry.objects.create(
            digest=digest, paper=paper, position=position, title_zh=data["title_zh"]
        )
        entry.tags.set(data["tags"])
        for slug, body in data["sections"].items():
            Section.objects.create(entry=entry, kind=kinds[slug], body=body)
        for index, figure_data in enumerate(data["figures"], start=1):
            figure = Figure(
                entry=entry,
                position=index,
                caption=figure_data.get("caption", ""),
                placeholder=figure_data.get("placeholder", ""),
                source_url=figure_data.get("source", ""),
            )
            if "size" in figure_data:
                figure.image.save("figure.png", ContentFile(png(*figure_data["size"])), save=False)
            figure.save()
    return digest
