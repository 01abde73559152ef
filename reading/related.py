"""Related papers: for each entry, the entries of the archive whose text resembles its own,
as a whole (titles, abstract, critique, tags) and section by section ("similar 不足").

How it is computed (``refresh``, run by the background task after any content change):

- **Terms** are reading/search.py's: lower-cased Latin words and overlapping bigrams of
  Chinese runs (``强化学习`` → ``强化 化学 学习``), with function words dropped. Bigrams need no
  dictionary, no download and no segmenter (jieba's dictionary is 20 MB loaded at run time and
  splits new technical terms unevenly), and they match as search does, so a reader who found
  a paper by a word finds its neighbours by the same word. Tags are terms of their own,
  always kept and weighed as rare words (an editor's tag names the topic).
- **Weights** are TF-IDF (sublinear term frequency, smoothed inverse document frequency) over
  the entries of published and archived digests, kept to each document's strongest terms and
  normalised: the score of two entries is the cosine of their vectors; candidates come from
  an inverted index of those terms, read for a bounded number of postings per entry. A
  small hand-written computation (a few dozen lines over dicts) rather than scikit-learn,
  which would bring NumPy and SciPy for one sparse product.
- **Stored** in ``RelatedEntry`` rows, a few more than pages show; a page reads them in its
  main query (``related_annotation``), testing visibility then, so scheduled digests appear
  when they go live and expired ones disappear without a recomputation. Drafts and digests in
  review are never in the corpus.

The corpus lives in the database alone (no module state): the fingerprint of the archive in
``RelatedCorpus`` tells whether anything changed since the lists were computed.
"""

from __future__ import annotations

import datetime
import hashlib
import heapq
import json
import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, JSONField, Max, Sum
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone

from background.tasks import enqueue_on_commit, retrying_task
from papers.changes import content_changed
from papers.models import Category, Digest, Entry, Paper, Section, SectionKind, TaggedEntry
from reading.models import RelatedCorpus, RelatedEntry
from reading.search import terms

SHOWN = 5  # entries a list shows
STORED = 8  # entries kept per list: hidden ones (a digest expired) leave room for the next
MIN_SCORE = 0.05  # below this cosine, two entries share too little to call them related
TERMS_PER_ENTRY = 40  # strongest terms kept of a whole entry's vector
TERMS_PER_SECTION = 16  # and of one section's
TAG_PREFIX = "#tag"  # a tag's term: "#tag12" (tag ids never change with a rename)
TAG_BOOST = 3.0  # a tag weighs as much as a word three times as rare
CANDIDATE_POSTINGS = 4000  # postings read to find an entry's candidates (see ``nearest``)
CANDIDATES = 60  # candidates (most terms in common) scored exactly
CHUNK = 1000  # entries read per query while building the vectors
WRITE_CHUNK = 500  # ids per DELETE (SQLite's parameter limit)
VERSION = "1"  # part of the fingerprint: a change of the computation recomputes every list

# Latin function words and a few Chinese bigrams that say nothing of a paper's topic (inverse
# document frequency lowers the rest).
STOPWORDS = frozenset(
    (
        "a an and are as at be been but by can do does for from has have how in into is it its "
        "it's may more most not of on or our over such than that the their them these they this "
        "those through to under up use used uses using via was we were what when where which "
        "while who will with without also both each other only same so some very new show "
        "shows paper propose proposes proposed approach"
    ).split()
    + "我们 本文 提出 通过 一个 一种 进行 以及 使用 可以 这个 这些 论文 的方 方法".split()
)


def features(text: str, weight: int = 1) -> Counter:
    """The terms of ``text`` and their counts (times ``weight``), function words and bare
    numbers left out."""
    counts = Counter(terms(text))
    for term in [t for t in counts if t in STOPWORDS or t.isdigit() or len(t) < 2 and t.isascii()]:
        del counts[term]
    if weight != 1:
        for term in counts:
            counts[term] *= weight
    return counts


# ---------------------------------------------------------------------------------------------
# The corpus, read from the database in chunks


def indexed_entries():
    """The entries related lists are made of: those of published and archived digests,
    scheduled and expired ones included (pages test visibility when they read a list)."""
    return Entry.objects.filter(digest__status__in=Digest.READABLE_STATES)


def section_kinds() -> dict[int, str]:
    """The section kinds that get lists of their own (``RELATED_SECTION_KINDS``), by id."""
    slugs = settings.RELATED_SECTION_KINDS
    return dict(SectionKind.objects.filter(slug__in=slugs).values_list("pk", "slug"))


@dataclass
class Document:
    """One entry's terms: ``whole`` for the entry, ``sections`` by section kind id."""

    entry_id: int
    paper_id: int
    whole: Counter
    sections: dict[int, Counter]


def documents(kinds: Iterable[int]) -> Iterator[Document]:
    """Every indexed entry's terms, in id order, reading ``CHUNK`` entries per query."""
    kinds = set(kinds)
    last = 0
    while True:
        rows = list(
            indexed_entries()
            .filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "paper_id", "title_zh", "paper__title", "paper__abstract")[:CHUNK]
        )
        if not rows:
            return
        last = rows[-1][0]
        ids = [row[0] for row in rows]
        bodies = defaultdict(list)
        for entry_id, kind_id, body in Section.objects.filter(entry_id__in=ids).values_list(
            "entry_id", "kind_id", "body"
        ):
            bodies[entry_id].append((kind_id, body))
        tags = defaultdict(list)
        for entry_id, tag_id in TaggedEntry.objects.filter(content_object_id__in=ids).values_list(
            "content_object_id", "tag_id"
        ):
            tags[entry_id].append(tag_id)
        for entry_id, paper_id, title_zh, title, abstract in rows:
            # Titles say most of what a paper is about: they count twice, tags three times.
            whole = features(title, 2)
            whole.update(features(title_zh, 2))
            whole.update(features(abstract))
            whole.update({f"{TAG_PREFIX}{tag_id}": 1 for tag_id in tags[entry_id]})
            sections = {}
            for kind_id, body in bodies[entry_id]:
                counts = features(body)
                whole.update(counts)
                if kind_id in kinds:
                    sections[kind_id] = counts
            yield Document(entry_id, paper_id, whole, sections)


# ---------------------------------------------------------------------------------------------
# TF-IDF vectors and their nearest neighbours


def weigh(counts: Counter, idf: dict[str, float], keep: int) -> dict[str, float]:
    """The ``keep`` strongest TF-IDF weights of ``counts``, normalised to length 1. Terms
    without an ``idf`` (found in this document alone) are left out first: they are the
    rarest, so they would fill the vector, yet they can match nothing."""
    weights = {
        term: (1 + math.log(n)) * idf[term] if n > 1 else idf[term]
        for term, n in counts.items()
        if term in idf
    }
    # An editor's tag names the topic: always kept, and weighed as a paper's rarest words.
    tagged = {term: TAG_BOOST * w for term, w in weights.items() if term.startswith(TAG_PREFIX)}
    words = [(term, w) for term, w in weights.items() if term not in tagged]
    strongest = [*tagged.items(), *heapq.nlargest(keep, words, key=lambda item: item[1])]
    norm = math.sqrt(sum(w * w for _t, w in strongest)) or 1.0
    return {term: w / norm for term, w in strongest}


def nearest(
    vectors: dict[int, dict[str, float]], papers: dict[int, int], *, size: int = STORED
) -> dict[int, list[tuple[int, float]]]:
    """For each entry of ``vectors``, up to ``size`` (entry, cosine) of the most similar
    others, best first, one entry per paper and never its own paper's (a paper presented in
    two digests is not related to itself).

    Candidates come from the entry's terms strongest first, until ``CANDIDATE_POSTINGS``
    postings were read, the most recent entries of a term shared by more (else the work
    would grow with the square of the archive); the ``CANDIDATES`` sharing most terms are
    then scored exactly."""
    postings: dict[str, list[int]] = defaultdict(list)
    for entry_id, vector in vectors.items():
        for term in vector:
            postings[term].append(entry_id)
    result = {}
    for entry_id, vector in vectors.items():
        hits: Counter = Counter()
        budget = CANDIDATE_POSTINGS
        for term in sorted(vector, key=vector.__getitem__, reverse=True):
            found = postings[term][-budget:]
            hits.update(found)
            budget -= len(found)
            if budget <= 0:
                break
        scored = []
        for other, _hits in hits.most_common(CANDIDATES):
            theirs = vectors[other]
            score = sum(w * theirs[t] for t, w in vector.items() if t in theirs)
            scored.append((-score, -other))
        own_paper = papers[entry_id]
        chosen, seen = [], {own_paper}
        for negative, other in sorted(scored):
            score, other = -negative, -other
            if score < MIN_SCORE or len(chosen) == size:
                break
            if papers[other] in seen:
                continue
            seen.add(papers[other])
            chosen.append((other, round(score, 6)))
        if chosen:
            result[entry_id] = chosen
    return result


def compute(kinds: dict[int, str]) -> tuple[dict[tuple[int, int | None], list], int]:
    """Every list: {(entry id, kind id or None): [(related id, score), …]}, and the number
    of documents. Two passes over the corpus (document frequencies, then vectors), so only
    the kept terms of each vector are held in memory, never the texts."""
    frequency: dict[int | None, Counter] = defaultdict(Counter)
    counted: Counter = Counter()
    papers = {}
    for document in documents(kinds):
        papers[document.entry_id] = document.paper_id
        frequency[None].update(document.whole.keys())
        counted[None] += 1
        for kind_id, counts in document.sections.items():
            frequency[kind_id].update(counts.keys())
            counted[kind_id] += 1

    idf = {}  # by kind: {term: inverse document frequency}, for terms of two documents or more
    for kind_id in [None, *kinds]:
        n = counted[kind_id]
        found = frequency.pop(kind_id, Counter())
        idf[kind_id] = {t: math.log((1 + n) / (1 + df)) + 1 for t, df in found.items() if df > 1}
    vectors: dict[int | None, dict[int, dict[str, float]]] = defaultdict(dict)
    for document in documents(kinds):
        vectors[None][document.entry_id] = weigh(document.whole, idf[None], TERMS_PER_ENTRY)
        for kind_id, counts in document.sections.items():
            vectors[kind_id][document.entry_id] = weigh(counts, idf[kind_id], TERMS_PER_SECTION)
    del idf  # the document frequencies: only the vectors are needed from here on
    lists = {}
    for kind_id in [None, *kinds]:
        for entry_id, chosen in nearest(vectors.pop(kind_id, {}), papers).items():
            lists[(entry_id, kind_id)] = chosen
    return lists, len(papers)


# ---------------------------------------------------------------------------------------------
# Keeping the stored lists current


def fingerprint(kinds: dict[int, str]) -> str:
    """What the lists depend on, in two queries: the indexed entries (how many, which, their
    latest edits and their papers' and digests'), their tags, the kinds that get lists and
    the computation's version. Any edit a reader could see saves its entry, paper or digest
    (their ``updated_at``; docs/architecture.md, "Fragments need no invalidation")."""
    state = indexed_entries().aggregate(
        n=Count("pk"),
        ids=Sum("pk"),
        entries=Max("updated_at"),
        papers=Max("paper__updated_at"),
        digests=Max("digest__updated_at"),
    )
    tags = TaggedEntry.objects.aggregate(n=Count("pk"), last=Max("pk"))
    values = [VERSION, sorted(kinds.items()), SHOWN, STORED, state, tags]
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()


def stored_lists() -> dict[tuple[int, int | None], list[int]]:
    rows = RelatedEntry.objects.order_by("entry_id", "kind_id", "rank").values_list(
        "entry_id", "kind_id", "related_id"
    )
    lists = defaultdict(list)
    for entry_id, kind_id, related_id in rows.iterator(chunk_size=5000):
        lists[(entry_id, kind_id)].append(related_id)
    return lists


def _chunks(items: list, size: int = WRITE_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write(lists: dict[tuple[int, int | None], list]) -> int:
    """Make the stored lists ``lists``, touching only those whose entries or order changed
    (a new paper changes a few lists; scores that moved a little keep their rows). Returns
    the number of lists rewritten."""
    before = stored_lists()
    changed = [
        key
        for key in before.keys() | lists.keys()
        if before.get(key, []) != [related for related, _score in lists.get(key, [])]
    ]
    by_kind = defaultdict(list)
    for entry_id, kind_id in changed:
        by_kind[kind_id].append(entry_id)
    for kind_id, entry_ids in by_kind.items():
        for chunk in _chunks(entry_ids):
            RelatedEntry.objects.filter(kind_id=kind_id, entry_id__in=chunk).delete()
    rows = [
        RelatedEntry(entry_id=entry_id, kind_id=kind_id, related_id=related, score=score, rank=n)
        for entry_id, kind_id in changed
        for n, (related, score) in enumerate(lists.get((entry_id, kind_id), []), start=1)
    ]
    RelatedEntry.objects.bulk_create(rows, batch_size=WRITE_CHUNK)
    return len(changed)


@dataclass
class Refresh:
    """What one ``refresh`` did."""

    computed: bool
    documents: int = 0
    lists_changed: int = 0
    seconds: float = 0.0  # wall-clock time
    cpu_seconds: float = 0.0  # this process's CPU time (the database's work not included)


def refresh(*, force: bool = False) -> Refresh:
    """Bring every related list up to date with the archive: nothing but a fingerprint when
    nothing changed since the last computation (unless ``force``), else compute every list
    and rewrite those that changed, then announce it (``content_changed(derived=True)``).

    The computation reads outside any transaction (a long write transaction would hold
    SQLite's lock for its duration); the writing locks the corpus row, so two workers
    write one after the other, and a computation that started before the stored one does
    not overwrite it."""
    began, cpu = time.monotonic(), time.process_time()
    started_at = timezone.now()
    kinds = section_kinds()
    current = fingerprint(kinds)
    corpus = RelatedCorpus.objects.filter(pk=1).first()
    if not force and corpus is not None and corpus.fingerprint == current:
        return Refresh(computed=False)
    lists, count = compute(kinds)
    with transaction.atomic():
        corpus = RelatedCorpus.objects.select_for_update().get_or_create(pk=1)[0]
        if corpus.started_at and corpus.started_at > started_at:
            return Refresh(computed=True, documents=count, seconds=time.monotonic() - began)
        changed = write(lists)
        corpus.fingerprint = current
        corpus.started_at = started_at
        corpus.finished_at = timezone.now()
        corpus.documents = count
        corpus.seconds = time.monotonic() - began
        corpus.save()
        if changed:
            content_changed(derived=True)
    return Refresh(
        computed=True,
        documents=count,
        lists_changed=changed,
        seconds=corpus.seconds,
        cpu_seconds=time.process_time() - cpu,
    )


@retrying_task(attempts=3, backoff_seconds=60)
def refresh_related() -> dict:
    """The background task: ``refresh()``; what it did, for the task's row."""
    done = refresh()
    return {"computed": done.computed, "documents": done.documents, "changed": done.lists_changed}


def schedule_refresh() -> None:
    """Follows ``content_changed()`` (reading/apps.py): refresh the lists in the background
    once the change commits (a rolled-back change schedules nothing)."""
    enqueue_on_commit(refresh_related)


# ---------------------------------------------------------------------------------------------
# Reading a list: part of a page's main query


def related_annotation(model, entry_field: str, kind_field: str | None = None) -> RawSQL:
    """A subquery giving, for the entry that ``entry_field`` of ``model`` (the outer query's
    model) names, its stored list as a JSON array (of the section kind ``kind_field`` names,
    else the whole-entry list), only entries a reader may open now: read by
    ``related_items``.

    Hand-written SQL for a measured need, as ``neighbour_links``: built by the ORM (a
    subquery, JSONObject through four joins, ``published_q``), the annotation took 4–20 ms of
    Python to compile on every page for 2 ms of SQL (docs/performance.md, "Related papers").
    The SQL repeats ``published_q``; tests/test_reading_related.py checks every state. The
    digest is found by its key; on SQLite ``+status`` keeps the planner off the status index.
    """
    vendor = connection.vendor
    quote = connection.ops.quote_name

    def column(of, field):
        return f"{quote(of._meta.db_table)}.{quote(of._meta.get_field(field).column)}"

    table = {m: quote(m._meta.db_table) for m in (RelatedEntry, Entry, Digest, Paper, Category)}
    aggregate, build = ("jsonb_agg", "jsonb_build_object")
    if vendor != "postgresql":
        aggregate, build = ("json_group_array", "json_object")
    status = "+d.status" if vendor == "sqlite" else "d.status"
    kind = f"r.kind_id = {column(model, kind_field)}" if kind_field else "r.kind_id IS NULL"
    sql = (
        f"SELECT {aggregate}({build}('rank', r.rank, 'title', p.title, 'title_zh', e.title_zh,"
        " 'arxiv_id', p.arxiv_id, 'paper_id', p.id, 'category', c.code,"
        " 'date', d.issue_date, 'slug', d.slug))"
        f" FROM {table[RelatedEntry]} AS r"
        f" JOIN {table[Entry]} AS e ON e.id = r.related_id"
        f" JOIN {table[Digest]} AS d ON d.id = e.digest_id"
        f" JOIN {table[Paper]} AS p ON p.id = e.paper_id"
        f" JOIN {table[Category]} AS c ON c.id = p.primary_category_id"
        f" WHERE r.entry_id = {column(model, entry_field)} AND {kind}"
        f" AND {status} IN (%s, %s) AND d.published_at <= %s"
        " AND (d.expires_at IS NULL OR d.expires_at > %s)"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = (*Digest.READABLE_STATES, now, now)
    return RawSQL(sql, params, output_field=JSONField())


@dataclass(frozen=True)
class RelatedItem:
    """One line of a related list, as the template shows it."""

    title: str
    title_zh: str
    category: str
    url: str

    @property
    def short_category(self) -> str:
        return self.category.split(".", 1)[1] if "." in self.category else self.category


def related_items(value) -> list[RelatedItem]:
    """The ``SHOWN`` first readable items of a list read by ``related_annotation``."""
    if not value:
        return []
    if isinstance(value, str):  # a backend that hands the JSON back as text
        value = json.loads(value)
    items = []
    for item in sorted(value, key=lambda item: item["rank"])[:SHOWN]:
        date = datetime.date.fromisoformat(str(item["date"])[:10])
        url = reverse(
            "reading:entry-detail",
            # A link-sourced item's key (Paper.url_key) from its paper's id.
            kwargs={
                "date": date,
                "slug": item["slug"],
                "arxiv_id": item["arxiv_id"] or f"link-{item['paper_id']}",
            },
        )
        items.append(RelatedItem(item["title"], item["title_zh"] or "", item["category"], url))
    return items
