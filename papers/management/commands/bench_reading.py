"""Benchmark of the reading pages: the entry list with two filters, and search in Chinese and
English, measured in-process (Django test client, whole middleware stack) at two data sizes.

    DATABASE_URL=postgres://…/digest_bench python manage.py bench_reading

Generates synthetic published digests (5 papers each, three critique sections, 2–3 tags)
into the configured database up to ``--small`` and then ``--papers`` papers, reusing what an
earlier run generated (digest slugs start with ``bench-``). It refuses to write into a database
that holds other digests unless given ``--force``. Reports p50/p90 per page and the query
counts at both sizes (they must be identical).
"""

from __future__ import annotations

import datetime
import random
import statistics
import time

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from taggit.models import Tag

from papers.markup import render_markdown
from papers.models import (
    Category,
    Digest,
    Entry,
    EntrySearch,
    Paper,
    Section,
    SectionKind,
    TaggedEntry,
)
from papers.search import document_for, facet_token

ENTRIES_PER_DIGEST = 5
CHINESE_WORDS = (
    "推理 蒸馏 强化 学习 模型 语言 规划 数据 训练 优化 泛化 压缩 注意力 对齐 检索 增强 多模态 视觉 "
    "图像 生成 扩散 代码 数学 证明 搜索 奖励 策略 价值 函数 梯度 稀疏 专家 混合 长文本 记忆 上下文 "
    "推断 效率 延迟 量化 剪枝 蒸馏 教师 学生 安全 幻觉 评测 基准 鲁棒 对抗 攻击 防御 "
    "隐私 联邦 图网络 因果 解释 可解释 不确定性 校准 采样 解码 微调 指令 偏好 "
    "人类反馈 智能体 工具 规划器 世界模型 机器人 "
    "控制 仿真 物理 危险 干预 理论 复杂度 描述长度 变换器 架构 残差 归一化 预训练 规模 缩放 定律"
).split()
ENGLISH_WORDS = (
    "reasoning distillation reinforcement learning language model planning data training "
    "optimization generalization compression attention alignment retrieval augmented multimodal "
    "vision image generation diffusion code math proof search reward policy value gradient sparse "
    "expert mixture context memory inference efficiency latency quantization pruning teacher "
    "student safety hallucination evaluation benchmark robust adversarial privacy federated graph "
    "causal interpretable uncertainty calibration sampling decoding finetuning instruction "
    "preference feedback agent tool world robot control simulation physical danger theory "
    "complexity description length transformer architecture residual normalization pretraining "
    "scaling laws kolmogorov bayesian variational contrastive"
).split()
AFFILIATIONS = [
    "Google DeepMind",
    "Google Research",
    "Microsoft Research Asia",
    "Peking University",
    "Tsinghua University",
    "Stanford University",
    "MIT",
    "Meta AI",
    "OpenAI",
    "Anthropic",
    "Shanghai AI Lab",
    "Zhejiang University",
    "CMU",
    "UC Berkeley",
    "Alibaba",
    "ByteDance",
]
TAGS = [
    f"{a}{b}"
    for a in ("强化", "推理", "蒸馏", "对齐", "检索", "视觉", "代码", "安全")
    for b in ("学习", "模型", "方法", "评测", "理论")
] + [f"topic-{n}" for n in range(160)]
CATEGORY_CODES = ["cs.LG", "cs.CL", "cs.AI", "cs.CV", "stat.ML", "cs.RO", "cs.CR", "cs.IR"]


# Common characters paired into a few thousand pseudo-words, drawn with Zipf-like weights
# (a few words are everywhere, most are rare), as in real text. The benchmark's query words
# are placed at ranks where they occur in a few per cent of entries, like a technical term.
_COMMON_CHARS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能"
    "下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量"
    "都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各"
    "重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代"
)


def _vocabulary(rng, words, size, anchors):
    pool = list(dict.fromkeys(words))
    while len(pool) < size:
        a, b = rng.choice(_COMMON_CHARS), rng.choice(_COMMON_CHARS)
        pool.append(a + b)
    for rank, word in anchors:
        if word in pool:
            pool.remove(word)
        pool.insert(rank, word)
    weights = [1 / (rank + 1) for rank in range(len(pool))]
    return pool, weights


_VOCAB_RNG = random.Random(7)
ZH_POOL, ZH_WEIGHTS = _vocabulary(
    _VOCAB_RNG, CHINESE_WORDS[20:], 6000, [(400, "推理"), (600, "蒸馏")]
)
EN_POOL, EN_WEIGHTS = _vocabulary(
    _VOCAB_RNG,
    [w for w in ENGLISH_WORDS if w not in ("reasoning", "distillation")],
    1,
    [],
)
EN_POOL = EN_POOL + [f"{w}{n}" for w in EN_POOL for n in range(30)]
EN_POOL.insert(300, "reasoning")
EN_POOL.insert(500, "distillation")
EN_WEIGHTS = [1 / (rank + 1) for rank in range(len(EN_POOL))]


def _chinese(rng, words):
    return "".join(rng.choices(ZH_POOL, ZH_WEIGHTS, k=words))


def _english(rng, words):
    return " ".join(rng.choices(EN_POOL, EN_WEIGHTS, k=words))


class QueryCounter:
    """An execute wrapper counting the SQL statements of a request."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class Command(BaseCommand):
    help = "Benchmark the filtered list and bilingual search at two data sizes (see module doc)."

    def add_arguments(self, parser):
        parser.add_argument("--papers", type=int, default=100_000)
        parser.add_argument("--small", type=int, default=1_000)
        parser.add_argument("--runs", type=int, default=30)
        parser.add_argument("--force", action="store_true")

    def handle(self, *args, papers, small, runs, force, **options):
        if papers < small or small < ENTRIES_PER_DIGEST:
            raise CommandError("--papers must be at least --small, and --small at least 5.")
        others = Digest.objects.exclude(slug__startswith="bench-").exists()
        if others and not force:
            raise CommandError(
                "This database holds digests that are not benchmark data; use an empty "
                "database (or --force to add benchmark digests to it)."
            )
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        self.kinds = {k.slug: k for k in SectionKind.objects.all()}
        self.categories = [
            Category.objects.get_or_create(code=code, defaults={"name": code})[0]
            for code in CATEGORY_CODES
        ]
        self.tags = [Tag.objects.get_or_create(name=n, defaults={"slug": n})[0] for n in TAGS]
        self.tag_weights = [1 / (rank + 1) for rank in range(len(self.tags))]
        results = {}
        sizes = []
        for size in (small, papers):
            self.grow_to(size)
            actual = Entry.objects.count()
            sizes.append(actual)
            results[actual] = self.measure(runs)
        self.report(results, *sizes)

    # -- data --------------------------------------------------------------------------

    def grow_to(self, papers):
        have = Entry.objects.filter(digest__slug__startswith="bench-").count()
        started = time.perf_counter()
        rng = random.Random(have)
        batch_digests = 400
        while have < papers:
            count = min(batch_digests, (papers - have) // ENTRIES_PER_DIGEST)
            if count <= 0:
                break
            self.make_digests(rng, first=have // ENTRIES_PER_DIGEST, count=count)
            have += count * ENTRIES_PER_DIGEST
            self.stdout.write(f"\r  {have} papers", ending="")
            self.stdout.flush()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(f"\n  data ready: {have} papers ({time.perf_counter() - started:.0f} s)")

    @transaction.atomic
    def make_digests(self, rng, *, first, count):
        now = timezone.now()
        start_day = datetime.date(2000, 1, 1)
        digests = Digest.objects.bulk_create(
            [
                Digest(
                    title=f"AI前沿推介 #{first + i}",
                    slug=f"bench-{first + i}",
                    issue_date=start_day + datetime.timedelta(days=first + i),
                    summary=_chinese(rng, 30),
                    status=Digest.Status.PUBLISHED,
                    published_at=now - datetime.timedelta(days=1),
                    view_count=rng.randint(0, 5000),
                )
                for i in range(count)
            ]
        )
        paper_rows = []
        for d, _digest in enumerate(digests):
            for position in range(ENTRIES_PER_DIGEST):
                # A valid new-style id (YYMM.NNNNN), unique per generated paper.
                n = (first + d) * ENTRIES_PER_DIGEST + position
                month = n // 90000
                paper_rows.append(
                    Paper(
                        arxiv_id=f"{20 + month // 12:02d}{month % 12 + 1:02d}."
                        f"{n % 90000 + 10000:05d}",
                        title=_english(rng, 8).title(),
                        authors="\n".join(f"A{rng.randint(1, 9999)} Writer" for _ in range(4)),
                        affiliations="\n".join(rng.sample(AFFILIATIONS, 2)),
                        abstract=_english(rng, 120),
                        primary_category=rng.choice(self.categories),
                    )
                )
        papers = Paper.objects.bulk_create(paper_rows)
        entries = Entry.objects.bulk_create(
            [
                Entry(
                    digest=digests[i // ENTRIES_PER_DIGEST],
                    paper=paper,
                    position=i % ENTRIES_PER_DIGEST + 1,
                    title_zh=_chinese(rng, 6),
                    view_count=rng.randint(0, 3000),
                )
                for i, paper in enumerate(papers)
            ]
        )
        sections, tagged, documents = [], [], []
        for entry in entries:
            texts = {
                "key-points": "\n".join(f"- {_chinese(rng, 12)}" for _ in range(4)),
                "limitations": "\n".join(f"- {_chinese(rng, 12)}" for _ in range(3)),
                "summary": _chinese(rng, 15),
            }
            for slug, body in texts.items():
                sections.append(
                    Section(
                        entry=entry,
                        kind=self.kinds[slug],
                        body=body,
                        body_html=render_markdown(body),
                    )
                )
            # Tags are Zipf-distributed too: 强化学习 is on about one entry in six.
            entry_tags = list(
                dict.fromkeys(rng.choices(self.tags, self.tag_weights, k=rng.randint(2, 3)))
            )
            tagged.extend(TaggedEntry(content_object=entry, tag=tag) for tag in entry_tags)
            document = document_for(
                paper=entry.paper,
                title_zh=entry.title_zh,
                sections=[(slug, "", body) for slug, body in texts.items()],
                tag_names=[t.name for t in entry_tags],
                categories=[entry.paper.primary_category.code],
                facets=[facet_token("t", t.pk) for t in entry_tags]
                + [facet_token("c", entry.paper.primary_category_id)],
            )
            digest = entry.digest
            documents.append(
                EntrySearch(
                    entry=entry,
                    issue_date=digest.issue_date,
                    digest_pk=digest.pk,
                    position=entry.position,
                    status=digest.status,
                    published_at=digest.published_at,
                    expires_at=digest.expires_at,
                    **document,
                )
            )
        Section.objects.bulk_create(sections)
        TaggedEntry.objects.bulk_create(tagged)
        EntrySearch.objects.bulk_create(documents)

    # -- measurement -------------------------------------------------------------------

    PAGES = {
        "reference: home page": "/",
        "list, tag + category": "/papers/?tag=强化学习&category=LG",
        "list, tag + date range": "/papers/?tag=topic-7&date_from=2000-03-01&date_to=2030-12-31",
        "search 推理 + tag": "/search/?q=推理&tag=推理模型",
        "search 蒸馏 (zh)": "/search/?q=蒸馏",
        "search distillation (en)": "/search/?q=distillation",
        "search reasoning + category": "/search/?q=reasoning&category=CL",
    }

    def measure(self, runs):
        client = Client()
        results = {}
        for name, url in self.PAGES.items():
            cache.clear()
            response = client.get(url)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}")
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                client.get(url)
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            results[name] = {
                "queries": counter.count,
                "p50": statistics.median(timings),
                "p90": timings[int(len(timings) * 0.9) - 1],
            }
        return results

    def report(self, results, small, papers):
        self.stdout.write(
            f"\nReading benchmark on {connection.vendor} ({Entry.objects.count()} entries, "
            f"{Digest.objects.count()} digests); in-process, ms per request"
        )
        header = (
            f"{'page':32} {'p50@' + str(small):>10} {'p50@' + str(papers):>12} {'p90':>8} queries"
        )
        self.stdout.write(header)
        same = True
        for name in self.PAGES:
            a, b = results[small][name], results[papers][name]
            same &= a["queries"] == b["queries"]
            self.stdout.write(
                f"{name:32} {a['p50']:10.1f} {b['p50']:12.1f} {b['p90']:8.1f} "
                f"{a['queries']} -> {b['queries']}"
            )
        self.stdout.write("query counts identical at both sizes" if same else "QUERY COUNTS DIFFER")
        if not same:
            raise CommandError("query counts differ between the two sizes")
