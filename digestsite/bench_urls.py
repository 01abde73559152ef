"""URLs of the benchmark only (digestsite/bench_settings.py, `manage.py bench`): the site's
own URLs plus two reference views that the real pages are measured against.

- ``/__bench__/plain/``: a view returning a small plain response (Django's floor).
- ``/__bench__/template/``: a static page of the size and shape of a digest page (5 papers
  x 9 blocks, ~45 KB, 210 ``{% url %}`` tags, through base.html and the real context
  processors), rendered from a fixed in-memory context: no database, no cache of ours.

Never included by digestsite/urls.py, so the public site does not serve them.
"""

import random
from functools import cache

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from digestsite.urls import handler400  # noqa: F401
from digestsite.urls import urlpatterns as site_urlpatterns
from editorial.management.commands.generate_bench_data import chinese, english
from papers.markup import render_markdown

BLOCKS = [
    ("key-points", "要点", True),
    ("gist", "主旨", False),
    ("innovation", "创新", True),
    ("contribution", "贡献", True),
    ("improvement", "提升", False),
    ("limitations", "不足", True),
    ("takeaways", "心得", True),
    ("summary", "一句话总结", False),
]


def plain(request):
    return HttpResponse(b"ok " * 10, content_type="text/plain")


@cache
def reference_context() -> dict:
    """Five papers of eight critique blocks and an abstract, drawn once from a fixed seed
    with the benchmark generator's vocabulary (HTML pre-rendered, as sections are stored)."""
    rng = random.Random(45)
    papers = []
    for position in range(1, 6):
        blocks = []
        for slug, name, is_list in BLOCKS:
            if is_list:
                text = "\n".join(f"- {chinese(rng, 10)}。" for _ in range(3))
            else:
                text = chinese(rng, 30) + "。"
            blocks.append({"slug": slug, "name": name, "html": render_markdown(text)})
        papers.append(
            {
                "position": position,
                "anchor": f"paper-{position}",
                "arxiv_id": f"9001.{10000 + position}",
                "category": "LG",
                "title": english(rng, 9).title(),
                "title_zh": chinese(rng, 7),
                "authors": [f"A Author{n}" for n in range(6)],
                "affiliations": ["Google DeepMind", "Tsinghua University"],
                "tags": ["强化学习", "推理模型", "topic-3"],
                "blocks": blocks,
                "abstract": english(rng, 90),
            }
        )
    return {
        "title": "AI前沿推介(9.30)",
        "date": "2025-09-30",
        "slug": "reference",
        "summary": chinese(rng, 40),
        "papers": papers,
    }


def template(request):
    return render(request, "bench/reference_digest.html", reference_context())


urlpatterns = [
    path("__bench__/plain/", plain, name="bench-plain"),
    path("__bench__/template/", template, name="bench-template"),
    *site_urlpatterns,
]
