"""Synthetic benchmark data: ``python manage.py generate_bench_data --papers N --digests M``.

Deterministic from ``--seed``: digest *i* and paper *k* are drawn from their own random
generators (``seed``, index), so a database generated at once and one grown in steps
(1,000 papers, then 100,000) hold the same rows. Benchmark rows are recognisable:
digest slugs start with ``bench-`` and paper ids with ``9`` (``9001.10000``: new-style arXiv
ids begin in 2007, so no real paper has one). Anything else is "other content": the command
refuses to write beside it unless ``--force``.

What it writes, shaped like the real site so the benchmark's numbers mean something:
papers with authors, affiliations, an abstract, a primary category and cross-lists (Zipf-
distributed), digests of five entries, one issue a day from 1970-01-01, each entry with its
Chinese title, two or three tags (Zipf: 强化学习 is on about one entry in six), critique sections
of every kind (bullets or prose, Markdown rendered with ``papers.markup.render_markdown``
exactly as ``Section.save`` does), some placeholder figures, view counts, approved and
waiting comments on about a fifth of the digests, and a few drafts,
digests in review, scheduled, archived and expired digests (readers must never see the
unpublished ones). Chinese and English text are Zipf-distributed vocabularies with 推理, 蒸馏,
reasoning and distillation at the ranks of technical terms.

Rows are bulk-inserted in batches, one transaction per batch, then the search rows are built
with ``reading.search.refresh_entries`` (500 entries per call), and every readable entry gets
related lists (``make_related``). PostgreSQL gets ANALYZE at the end.
"""

from __future__ import annotations

import datetime
import itertools
import random
import time
import zoneinfo
from collections import defaultdict

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from taggit.models import Tag

from comments.markup import render_comment
from comments.models import Comment
from comments.services import body_key
from editorial.management.commands._progress import Progress
from papers.changes import content_changed
from papers.markup import normalise_section_text, render_markdown
from papers.models import (
    Category,
    Digest,
    Entry,
    Figure,
    Paper,
    Section,
    SectionKind,
    TaggedDigest,
    TaggedEntry,
)
from reading.models import EntrySearch, RelatedEntry
from reading.related import STORED, indexed_entries, section_kinds
from reading.search import refresh_entries

ENTRIES_PER_DIGEST = 5
DEFAULT_PAPERS, DEFAULT_DIGESTS = 100_000, 20_000
QUICK_PAPERS, QUICK_DIGESTS = 1_000, 200
DEFAULT_SEED = 2026
SLUG_PREFIX = "bench-"
PAPER_PREFIX = "9"  # 9001.10000: a valid new-style id no real paper has
FIRST_ISSUE = datetime.date(1970, 1, 1)
SITE_TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
# Scheduled benchmark digests go live long after anyone runs this.
FAR_FUTURE = datetime.datetime(2100, 1, 1, 8, 0, tzinfo=SITE_TZ)
DIGEST_BATCH = 200  # digests (1,000 entries) per transaction
PAPER_BATCH = 2_000
SEARCH_CHUNK = 500  # entries per refresh_entries() call

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
SURNAMES = (
    "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo "
    "Smith Johnson Brown Garcia Miller Davis Wilson Anderson Taylor Thomas Moore Martin Lee "
    "Kim Park Singh Kumar Nguyen Tanaka Sato Müller Schmidt Rossi Dubois Ivanov Cohen"
).split()
INITIALS = "ABCDEFGHJKLMNOPRSTWXYZ"
TAGS = [
    f"{a}{b}"
    for a in ("强化", "推理", "蒸馏", "对齐", "检索", "视觉", "代码", "安全")
    for b in ("学习", "模型", "方法", "评测", "理论")
] + [f"topic-{n}" for n in range(160)]
CATEGORY_CODES = ["cs.LG", "cs.CL", "cs.AI", "cs.CV", "stat.ML", "cs.RO", "cs.CR", "cs.IR"]
ARXIV_COMMENTS = ["", "", "12 pages, 5 figures", "Accepted at NeurIPS", "Preprint", "30 pages"]


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


# The vocabularies are fixed (their own seed), so every seed draws from the same language.
_VOCAB_RNG = random.Random(7)
ZH_POOL, ZH_WEIGHTS = _vocabulary(
    _VOCAB_RNG, CHINESE_WORDS[20:], 6000, [(400, "推理"), (600, "蒸馏")]
)
EN_POOL, _ = _vocabulary(
    _VOCAB_RNG, [w for w in ENGLISH_WORDS if w not in ("reasoning", "distillation")], 1, []
)
EN_POOL = EN_POOL + [f"{w}{n}" for w in EN_POOL for n in range(30)]
EN_POOL.insert(300, "reasoning")
EN_POOL.insert(500, "distillation")
EN_WEIGHTS = [1 / (rank + 1) for rank in range(len(EN_POOL))]
TAG_WEIGHTS = [1 / (rank + 1) for rank in range(len(TAGS))]
CATEGORY_WEIGHTS = [1 / (rank + 1) for rank in range(len(CATEGORY_CODES))]
# Cumulative weights, computed once: random.choices would sum 6,000 weights on every call.
_ZH_CUM = list(itertools.accumulate(ZH_WEIGHTS))
_EN_CUM = list(itertools.accumulate(EN_WEIGHTS))
_TAG_CUM = list(itertools.accumulate(TAG_WEIGHTS))


def chinese(rng, words: int) -> str:
    return "".join(rng.choices(ZH_POOL, cum_weights=_ZH_CUM, k=words))


def english(rng, words: int) -> str:
    return " ".join(rng.choices(EN_POOL, cum_weights=_EN_CUM, k=words))


def paper_arxiv_id(k: int) -> str:
    """The id of benchmark paper ``k`` (0-based): 9001.10000, 9001.10001, …"""
    month = k // 90000
    return f"{90 + month // 12:02d}{month % 12 + 1:02d}.{k % 90000 + 10000:05d}"


def digest_slug(i: int) -> str:
    return f"{SLUG_PREFIX}{i}"


def issue_date(i: int) -> datetime.date:
    return FIRST_ISSUE + datetime.timedelta(days=i)


def go_live(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(8, 0), tzinfo=SITE_TZ)


def digest_state(i: int) -> dict:
    """Status and times of digest ``i``: mostly published; a few of every other state."""
    published_at = go_live(issue_date(i))
    if i % 100 == 37:
        return {"status": Digest.Status.DRAFT, "published_at": None}
    if i % 100 == 73:
        return {"status": Digest.Status.REVIEW, "published_at": None}
    if i % 250 == 111:
        return {"status": Digest.Status.PUBLISHED, "published_at": FAR_FUTURE}  # scheduled
    if i % 500 == 251:
        return {"status": Digest.Status.ARCHIVED, "published_at": published_at}
    if i % 1000 == 999:  # expired a month after going live
        return {
            "status": Digest.Status.PUBLISHED,
            "published_at": published_at,
            "expires_at": published_at + datetime.timedelta(days=30),
        }
    return {"status": Digest.Status.PUBLISHED, "published_at": published_at}


def bench_counts() -> tuple[int, int]:
    """(papers, digests) of benchmark data in the database."""
    return (
        Paper.objects.filter(arxiv_id__startswith=PAPER_PREFIX).count(),
        Digest.objects.filter(slug__startswith=SLUG_PREFIX).count(),
    )


def other_content() -> str:
    """A description of the non-benchmark content in the database, or ""."""
    digests = Digest.objects.exclude(slug__startswith=SLUG_PREFIX).count()
    papers = Paper.objects.exclude(arxiv_id__startswith=PAPER_PREFIX).count()
    parts = [f"{digests} digests" if digests else "", f"{papers} papers" if papers else ""]
    return " and ".join(p for p in parts if p)


def expected_summary(seed: int, i: int) -> str:
    return chinese(random.Random(f"{seed}:digest:{i}"), 30)


class Command(BaseCommand):
    help = (
        "Fill the database with deterministic synthetic benchmark data (papers, digests, "
        "entries, sections, tags, comments, search rows). Default 100,000 papers / 20,000 "
        "digests; --quick 1,000 / 200."
    )

    def add_arguments(self, parser):
        parser.add_argument("--papers", type=int, help=f"default {DEFAULT_PAPERS:,}")
        parser.add_argument("--digests", type=int, help=f"default {DEFAULT_DIGESTS:,}")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument(
            "--quick",
            action="store_true",
            help=f"{QUICK_PAPERS:,} papers / {QUICK_DIGESTS:,} digests (CI) unless given",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete earlier benchmark data (and nothing else) first",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="write even though the database holds other (non-benchmark) content",
        )

    def handle(self, *args, papers, digests, seed, quick, reset, force, **options):
        papers = papers if papers is not None else (QUICK_PAPERS if quick else DEFAULT_PAPERS)
        digests = digests if digests is not None else (QUICK_DIGESTS if quick else DEFAULT_DIGESTS)
        if digests < 1:
            raise CommandError("--digests must be at least 1.")
        if papers < ENTRIES_PER_DIGEST:
            raise CommandError(
                f"--papers must be at least {ENTRIES_PER_DIGEST} (one digest has "
                f"{ENTRIES_PER_DIGEST} different papers)."
            )
        if papers > 9_000_000:
            raise CommandError("--papers must be at most 9,000,000.")
        if seed < 0:
            raise CommandError("--seed must be 0 or more.")
        kinds = list(SectionKind.objects.order_by("order", "id"))
        if not kinds:
            raise CommandError("No section kinds: run `manage.py migrate` first.")
        others = other_content()
        if others and not force:
            raise CommandError(
                f"This database holds content that is not benchmark data ({others}); use an "
                "empty database, or --force to add benchmark data beside it."
            )
        if reset:
            self.reset()
        have_papers, have_digests = bench_counts()
        if have_digests and not reset:
            first = Digest.objects.filter(slug=digest_slug(0)).values_list("summary", flat=True)
            if list(first) != [expected_summary(seed, 0)]:
                raise CommandError(
                    "The benchmark data here was generated with another seed; run again with "
                    "--reset (it deletes only benchmark data)."
                )
        if have_papers > papers or have_digests > digests:
            raise CommandError(
                f"This database already holds more benchmark data ({have_papers:,} papers, "
                f"{have_digests:,} digests) than asked for ({papers:,} / {digests:,}); run "
                "again with --reset to regenerate it."
            )
        self.seed = seed
        self.kinds = kinds
        started = time.perf_counter()
        self.prepare_reference_rows()
        grown = not (have_papers == papers and have_digests == digests)
        if grown:
            self.make_papers(have_papers, papers)
            self.make_digests(have_digests, digests, papers)
        else:
            self.stdout.write(
                f"Benchmark data already complete: {papers:,} papers, {digests:,} digests."
            )
        listed = self.make_related()
        if (grown or listed) and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        if grown:
            self.stdout.write(
                f"Benchmark data ready: {papers:,} papers, {digests:,} digests "
                f"({digests * ENTRIES_PER_DIGEST:,} entries) in "
                f"{time.perf_counter() - started:.1f} s."
            )
        self.forget_cached_pages()

    # -- housekeeping ------------------------------------------------------------------

    def reset(self):
        """Delete benchmark digests and papers, bottom-up and without signals: a cascade
        through the ORM would rebuild a search row for every section it deletes."""
        digests = Digest.objects.filter(slug__startswith=SLUG_PREFIX)
        entries = Entry.objects.filter(digest__in=digests)
        with transaction.atomic():
            for queryset in (
                Comment.objects.filter(digest__in=digests),
                Comment.objects.filter(entry__in=entries),
                Section.objects.filter(entry__in=entries),
                Figure.objects.filter(entry__in=entries),
                TaggedEntry.objects.filter(content_object__in=entries),
                EntrySearch.objects.filter(entry__in=entries),
                RelatedEntry.objects.filter(entry__in=entries),
                RelatedEntry.objects.filter(related__in=entries),
                entries,
                TaggedDigest.objects.filter(content_object__in=digests),
            ):
                queryset._raw_delete(queryset.db)
            digests.delete()  # whatever else points at them (audit records, revisions…)
            # Papers still used by other digests (after --force) are kept.
            unused = Paper.objects.filter(arxiv_id__startswith=PAPER_PREFIX).exclude(
                pk__in=Entry.objects.values("paper_id")
            )
            through = Paper.categories.through.objects.filter(paper__in=unused)
            through._raw_delete(through.db)
            unused = Paper.objects.filter(arxiv_id__startswith=PAPER_PREFIX).exclude(
                pk__in=Entry.objects.values("paper_id")
            )
            unused._raw_delete(unused.db)
        self.stdout.write("Earlier benchmark data deleted.")

    def make_related(self) -> int:
        """Related lists shaped as the worker stores them (reading/related.py: ``STORED``
        entries per list, one list per entry and per listed section kind), for the readable
        entries that have none yet, drawn at random among entries sharing a tag. Computing
        them is the worker's job and takes minutes at this size (docs/performance.md); pages
        read these rows exactly as they read the worker's. Returns the lists written."""
        papers = dict(indexed_entries().values_list("pk", "paper_id"))
        kinds = [None, *section_kinds()]
        listed = set(RelatedEntry.objects.values_list("entry_id", "kind_id").distinct())
        missing = [pk for pk in sorted(papers) if any((pk, k) not in listed for k in kinds)]
        if not missing:
            return 0
        tags, pools = defaultdict(list), defaultdict(list)
        rows = TaggedEntry.objects.filter(content_object_id__in=list(papers)).order_by("tag_id")
        for entry_id, tag_id in rows.values_list("content_object_id", "tag_id").iterator():
            tags[entry_id].append(tag_id)
            pools[tag_id].append(entry_id)
        everyone = list(papers)
        written, progress = 0, Progress(self.stdout, "related lists")
        for start in range(0, len(missing), DIGEST_BATCH * ENTRIES_PER_DIGEST):
            batch = []
            for entry_id in missing[start : start + DIGEST_BATCH * ENTRIES_PER_DIGEST]:
                rng = random.Random(f"{self.seed}:related:{entry_id}")
                pool = pools[tags[entry_id][0]] if tags[entry_id] else everyone
                for kind_id in [k for k in kinds if (entry_id, k) not in listed]:
                    # A rare tag's few entries first, then any (a list is always full).
                    drawn = rng.sample(pool, min(len(pool), STORED + 4))
                    drawn += rng.sample(everyone, min(len(everyone), 2 * STORED))
                    own = {papers[entry_id]}
                    chosen = [o for o in drawn if papers[o] not in own and not own.add(papers[o])]
                    chosen = chosen[:STORED]
                    batch += [
                        RelatedEntry(
                            entry_id=entry_id,
                            kind_id=kind_id,
                            related_id=other,
                            score=round(0.9 - 0.05 * rank, 6),
                            rank=rank,
                        )
                        for rank, other in enumerate(chosen, start=1)
                    ]
                    written += 1
            with transaction.atomic():
                RelatedEntry.objects.bulk_create(batch, batch_size=2000)
            progress(min(start + DIGEST_BATCH * ENTRIES_PER_DIGEST, len(missing)), len(missing))
        return written

    def forget_cached_pages(self):
        """Pages and blocks cached before (a shared Redis cache survives this process) are
        stale now: the rows were written in bulk, without signals."""
        content_changed(names=True)

    def prepare_reference_rows(self):
        self.categories = [
            Category.objects.get_or_create(code=code, defaults={"name": code})[0]
            for code in CATEGORY_CODES
        ]
        existing = {t.name: t for t in Tag.objects.filter(name__in=TAGS)}
        missing = [Tag(name=n, slug=n) for n in TAGS if n not in existing]
        if missing:
            Tag.objects.bulk_create(missing, ignore_conflicts=True)
            existing = {t.name: t for t in Tag.objects.filter(name__in=TAGS)}
        self.tags = [existing[n] for n in TAGS]

    # -- papers ------------------------------------------------------------------------

    def make_papers(self, first: int, total: int):
        progress = Progress(self.stdout, "papers")
        done = first
        while done < total:
            count = min(PAPER_BATCH, total - done)
            with transaction.atomic():
                self.paper_batch(done, count)
            done += count
            progress(done, total)

    def paper_batch(self, first: int, count: int):
        rows, cross = [], []
        for k in range(first, first + count):
            rng = random.Random(f"{self.seed}:paper:{k}")
            published = FIRST_ISSUE + datetime.timedelta(days=k // ENTRIES_PER_DIGEST)
            published -= datetime.timedelta(days=rng.randint(1, 6))
            primary = rng.choices(self.categories, CATEGORY_WEIGHTS)[0]
            authors = [
                f"{rng.choice(INITIALS)} {rng.choice(SURNAMES)}" for _ in range(rng.randint(2, 8))
            ]
            rows.append(
                Paper(
                    arxiv_id=paper_arxiv_id(k),
                    title=english(rng, rng.randint(6, 12)).title(),
                    authors="\n".join(dict.fromkeys(authors)),
                    affiliations="\n".join(
                        dict.fromkeys(rng.choices(AFFILIATIONS, k=rng.randint(1, 3)))
                    ),
                    abstract=english(rng, rng.randint(110, 170)).capitalize() + ".",
                    primary_category=primary,
                    published_on=published,
                    updated_on=published + datetime.timedelta(days=rng.choice((0, 0, 3, 20))),
                    comment=rng.choice(ARXIV_COMMENTS),
                )
            )
            extra = {c for c in rng.choices(self.categories, k=rng.randint(0, 2)) if c != primary}
            cross.append(sorted(extra, key=lambda c: c.code))
        created = Paper.objects.bulk_create(rows)
        if created and created[0].pk is None:  # backends that return no ids
            ids = dict(
                Paper.objects.filter(arxiv_id__in=[p.arxiv_id for p in rows]).values_list(
                    "arxiv_id", "pk"
                )
            )
            for paper in created:
                paper.pk = ids[paper.arxiv_id]
        through = Paper.categories.through
        Paper.categories.through.objects.bulk_create(
            [
                through(paper_id=paper.pk, category_id=category.pk)
                for paper, extra in zip(created, cross, strict=True)
                for category in extra
            ]
        )

    # -- digests -----------------------------------------------------------------------

    def make_digests(self, first: int, total: int, papers: int):
        self.paper_ids = dict(
            Paper.objects.filter(arxiv_id__startswith=PAPER_PREFIX).values_list("arxiv_id", "pk")
        )
        self.papers_total = papers
        progress = Progress(self.stdout, "digests")
        done = first
        while done < total:
            count = min(DIGEST_BATCH, total - done)
            with transaction.atomic():
                entry_ids = self.digest_batch(done, count)
                for start in range(0, len(entry_ids), SEARCH_CHUNK):
                    refresh_entries(entry_ids[start : start + SEARCH_CHUNK])
            done += count
            progress(done, total)

    def digest_batch(self, first: int, count: int) -> list[int]:
        digests, plans = [], []
        for i in range(first, first + count):
            rng = random.Random(f"{self.seed}:digest:{i}")
            day = issue_date(i)
            digests.append(
                Digest(
                    title=f"AI前沿推介({day.month}.{day.day})",
                    slug=digest_slug(i),
                    issue_date=day,
                    summary=chinese(rng, 30),  # first draw: expected_summary() checks it
                    view_count=rng.randint(0, 5000),
                    **digest_state(i),
                )
            )
            plans.append((i, rng))
        digests = Digest.objects.bulk_create(digests)
        self._fill_pks(digests, Digest, "slug")

        entries, entry_plans, digest_tags = [], [], []
        for digest, (i, rng) in zip(digests, plans, strict=True):
            for tag in dict.fromkeys(
                rng.choices(self.tags, cum_weights=_TAG_CUM, k=rng.randint(1, 2))
            ):
                digest_tags.append(TaggedDigest(content_object=digest, tag=tag))
            for position in range(1, ENTRIES_PER_DIGEST + 1):
                k = (i * ENTRIES_PER_DIGEST + position - 1) % self.papers_total
                entries.append(
                    Entry(
                        digest=digest,
                        paper_id=self.paper_ids[paper_arxiv_id(k)],
                        position=position,
                        title_zh=chinese(rng, rng.randint(5, 9)),
                        view_count=rng.randint(0, 3000),
                    )
                )
                entry_plans.append(rng)
        entries = Entry.objects.bulk_create(entries)
        if entries and entries[0].pk is None:
            ids = {
                (d, p): pk
                for d, p, pk in Entry.objects.filter(digest__in=digests).values_list(
                    "digest_id", "position", "pk"
                )
            }
            for entry in entries:
                entry.pk = ids[(entry.digest_id, entry.position)]

        sections, tagged, figures = [], [], []
        for entry, rng in zip(entries, entry_plans, strict=True):
            sections += self.sections_for(entry, rng)
            for tag in dict.fromkeys(
                rng.choices(self.tags, cum_weights=_TAG_CUM, k=rng.randint(2, 3))
            ):
                tagged.append(TaggedEntry(content_object=entry, tag=tag))
            if rng.random() < 0.3:  # an image still to upload, as the importer leaves them
                figures.append(
                    Figure(
                        entry=entry,
                        position=1,
                        caption=chinese(rng, 6),
                        placeholder=f"Image on 2025-09-30 09.00.{rng.randint(10, 59)} PM",
                    )
                )
        Section.objects.bulk_create(sections, batch_size=2000)
        TaggedEntry.objects.bulk_create(tagged, batch_size=2000)
        TaggedDigest.objects.bulk_create(digest_tags)
        Figure.objects.bulk_create(figures)
        Comment.objects.bulk_create(self.comments_for(digests, plans, entries), batch_size=1000)
        return [e.pk for e in entries]

    @staticmethod
    def _fill_pks(objects, model, field):
        if objects and objects[0].pk is None:
            values = [getattr(o, field) for o in objects]
            ids = dict(model.objects.filter(**{f"{field}__in": values}).values_list(field, "pk"))
            for obj in objects:
                obj.pk = ids[getattr(obj, field)]

    def sections_for(self, entry, rng) -> list[Section]:
        kinds = self.kinds
        if rng.random() < 0.1:  # some critiques leave a heading or two out
            dropped = set(rng.sample(range(1, len(kinds)), k=rng.randint(1, 2)))
            kinds = [k for n, k in enumerate(kinds) if n not in dropped]
        rows = []
        for kind in kinds:
            if kind.is_list:
                lines = [chinese(rng, rng.randint(8, 14)) + "。" for _ in range(rng.randint(2, 5))]
                if rng.random() < 0.2:
                    lines[0] += f"（{english(rng, 2)}）"
                text = "\n".join(lines)
            elif kind.slug == "summary":
                text = chinese(rng, rng.randint(10, 16)) + "。"
            else:
                text = "\n\n".join(
                    chinese(rng, rng.randint(18, 34)) + "。" for _ in range(rng.randint(1, 2))
                )
            body = normalise_section_text(text, as_list=kind.is_list)
            rows.append(Section(entry=entry, kind=kind, body=body, body_html=render_markdown(body)))
        return rows

    def comments_for(self, digests, plans, entries) -> list[Comment]:
        """Approved comments (some pinned) on a fifth of the digests, some of them on papers,
        and now and then one still waiting for moderation."""
        by_digest = {}
        for entry in entries:
            by_digest.setdefault(entry.digest_id, []).append(entry)
        rows = []
        for digest, (_i, rng) in zip(digests, plans, strict=True):
            if digest.status not in Digest.READABLE_STATES or digest.published_at == FAR_FUTURE:
                continue
            if rng.random() >= 0.2:
                continue
            for n in range(rng.randint(1, 6)):
                target = (
                    {"entry": rng.choice(by_digest[digest.pk])}
                    if rng.random() < 0.3
                    else {"digest": digest}
                )
                waiting = rng.random() < 0.1
                body = chinese(rng, rng.randint(6, 30)) + "。"
                rows.append(
                    Comment(
                        **target,
                        author_name=f"{rng.choice(SURNAMES)}{rng.randint(1, 99)}",
                        body=body,
                        body_html=render_comment(body),
                        body_hash=body_key(body),
                        status=Comment.Status.PENDING if waiting else Comment.Status.APPROVED,
                        is_pinned=not waiting and n == 0 and rng.random() < 0.3,
                        held_reason="" if not waiting else "benchmark: waiting",
                    )
                )
        return rows
