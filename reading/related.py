"""Related papers: for each entry, the entries of the archive whose text resembles its own,
as a whole (titles, abstract, critique, tags) and section by section ("similar 不足").

How it is computed (``refresh``, run by the background task after any content change, and
in full by ``manage.py rebuild_related``):

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

- **Incremental**: ``RelatedDocument`` keeps each indexed entry's stamp (its entry's, paper's
  and digest's ``updated_at`` and its tags), term counts and vectors, and ``RelatedCorpus``
  the document frequencies. A refresh tokenises only the entries whose stamp changed (new
  ones included), moves the frequencies by what came and what left (unpublished, deleted),
  reads every stored vector once for the postings of the terms it needs, and recomputes the
  lists of the changed entries and of the entries whose lists hold a changed or removed
  one; a changed entry enters the other lists it scores into. What it scores is weighed
  from stored counts with today's frequencies; the vectors of entries it did not touch keep
  the frequencies of the run that made them, so the postings and the order of untouched
  lists drift a little, until a full recomputation: the task makes one once ``FULL_AFTER``
  of the corpus changed since the last, up to ``FULL_IN_TASK_MAX`` entries (past that
  ``manage.py rebuild_related`` does it: a full run would outlast ``TASKS_ABANDONED_AFTER``).
  docs/performance.md, "Related papers (issue 21)", has the measurements.
"""

from __future__ import annotations

import datetime
import hashlib
import heapq
import itertools
import json
import logging
import math
import time
import zlib
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, JSONField, Max, Sum
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone

from background.tasks import enqueue_once_on_commit, retrying_task
from papers.changes import content_changed
from papers.models import (
    Category,
    Digest,
    Entry,
    Paper,
    Section,
    SectionKind,
    TaggedEntry,
    short_code,
)
from reading.models import RelatedCorpus, RelatedDocument, RelatedEntry
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
STREAM_CHUNK = 2000  # stored documents read per query by an incremental refresh
VERSION = "2"  # part of the fingerprint: a change of the computation recomputes every list
FULL_AFTER = 0.1  # a full recomputation once this share of the corpus changed since the last
FULL_IN_TASK_MAX = 20_000  # entries: past this the task stays incremental (rebuild_related)
ATTEMPTS = 3  # incremental computations made again when another refresh wrote meanwhile

logger = logging.getLogger(__name__)

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

    def by_kind(self) -> dict[int | None, Counter]:
        """The counts of each vector the entry gets: ``None`` for the whole entry."""
        return {None: self.whole, **self.sections}


def documents(kinds: Iterable[int], ids: Iterable[int] | None = None) -> Iterator[Document]:
    """The terms of every indexed entry (or of those of ``ids`` still indexed), in id order,
    reading ``CHUNK`` entries per query."""
    kinds = set(kinds)
    wanted = sorted(ids) if ids is not None else None
    last = 0
    while True:
        query = indexed_entries().order_by("pk")
        if wanted is None:
            query = query.filter(pk__gt=last)[:CHUNK]
        else:
            chunk, wanted = wanted[:CHUNK], wanted[CHUNK:]
            if not chunk:
                return
            query = query.filter(pk__in=chunk)
        rows = list(
            query.values_list("pk", "paper_id", "title_zh", "paper__title", "paper__abstract")
        )
        if not rows:
            if wanted is None:
                return
            continue
        last = rows[-1][0]
        yield from _documents_of(rows, kinds)


def _documents_of(rows: list[tuple], kinds: set[int]) -> Iterator[Document]:
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


def stamps() -> dict[int, tuple[int, str]]:
    """Every indexed entry's paper and the stamp of what its document is made of: its
    entry's, paper's and digest's ``updated_at`` (any edit a reader could see saves one of
    them, as ``fingerprint`` relies on) and its tags. Two queries."""
    tags = defaultdict(list)
    tagged = TaggedEntry.objects.filter(content_object__in=indexed_entries())
    for entry_id, tag_id in tagged.values_list("content_object_id", "tag_id").iterator(
        chunk_size=5000
    ):
        tags[entry_id].append(tag_id)
    rows = indexed_entries().values_list(
        "pk", "paper_id", "updated_at", "paper__updated_at", "digest__updated_at"
    )
    result = {}
    for entry_id, paper_id, *times in rows.iterator(chunk_size=5000):
        made_of = f"{' '.join(t.isoformat() for t in times)} {sorted(tags.get(entry_id, ()))}"
        result[entry_id] = (paper_id, hashlib.blake2b(made_of.encode(), digest_size=16).hexdigest())
    return result


def _key(kind_id: int | None) -> str:
    """A vector's key in stored JSON: "" for the whole entry, else the section kind's id."""
    return "" if kind_id is None else str(kind_id)


def _kind(key: str) -> int | None:
    return None if key == "" else int(key)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _pack(value) -> bytes:
    return zlib.compress(_dumps(value).encode(), 1)


def _unpack(packed: bytes):
    return json.loads(zlib.decompress(packed))


def _idf(frequencies: dict, terms: Iterable[str] | None = None) -> dict[str, float]:
    """Inverse document frequencies from ``{"n": documents, "df": {term: documents}}``, of
    ``terms`` (else of all), for terms of two documents or more."""
    n, df = frequencies["n"], frequencies["df"]
    found = df.items() if terms is None else ((t, df.get(t, 0)) for t in terms)
    return {t: math.log((1 + n) / (1 + d)) + 1 for t, d in found if d > 1}


# ---------------------------------------------------------------------------------------------
# TF-IDF vectors and their nearest neighbours


def weigh(counts: dict[str, int], idf: dict[str, float], keep: int) -> dict[str, float]:
    """The ``keep`` strongest TF-IDF weights of ``counts``, normalised to length 1 (six
    decimals, as stored). Terms without an ``idf`` (found in this document alone) are left
    out first: they are the rarest, so they would fill the vector, yet they can match
    nothing."""
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
    return {term: round(w / norm, 6) for term, w in strongest}


def _candidates(vector: dict[str, float], postings: dict[str, list[int]]) -> list[int]:
    """The ``CANDIDATES`` entries sharing most terms with ``vector``, read from its terms
    strongest first until ``CANDIDATE_POSTINGS`` postings were read, the most recent
    entries of a term shared by more (else the work would grow with the square of the
    archive)."""
    hits: Counter = Counter()
    budget = CANDIDATE_POSTINGS
    for term in sorted(vector, key=vector.__getitem__, reverse=True):
        found = postings.get(term, [])[-budget:]
        hits.update(found)
        budget -= len(found)
        if budget <= 0:
            break
    return [other for other, _hits in hits.most_common(CANDIDATES)]


def _scores(vector: dict[str, float], others: Iterable[int], vector_of) -> list[tuple[int, float]]:
    """The cosine of ``vector`` with each of ``others``' (vectors of length 1)."""
    scored = []
    for other in others:
        theirs = vector_of(other)
        scored.append((other, sum(w * theirs[t] for t, w in vector.items() if t in theirs)))
    return scored


def _order(scored: Iterable[tuple[int, float]]) -> list[tuple[int, float]]:
    """Best first; of equal scores, the most recent entry first."""
    return sorted(scored, key=lambda item: (-item[1], -item[0]))


def _choose(
    scored: list[tuple[int, float]], own_paper: int, papers: dict[int, int], size: int = STORED
) -> list[tuple[int, float]]:
    """Up to ``size`` of ``scored``, best first, one entry per paper and never ``own_paper``
    (a paper presented in two digests is not related to itself)."""
    chosen, seen = [], {own_paper}
    for other, score in _order(scored):
        if score < MIN_SCORE or len(chosen) == size:
            break
        if papers[other] in seen:
            continue
        seen.add(papers[other])
        chosen.append((other, round(score, 6)))
    return chosen


def nearest(
    vectors: dict[int, dict[str, float]], papers: dict[int, int], *, size: int = STORED
) -> dict[int, list[tuple[int, float]]]:
    """For each entry of ``vectors``, up to ``size`` (entry, cosine) of the most similar
    others, best first: its ``_candidates`` from an inverted index of every vector, scored
    exactly, then ``_choose``."""
    postings: dict[str, list[int]] = defaultdict(list)
    for entry_id in sorted(vectors):
        for term in vectors[entry_id]:
            postings[term].append(entry_id)
    result = {}
    for entry_id, vector in vectors.items():
        scored = _scores(vector, _candidates(vector, postings), vectors.__getitem__)
        chosen = _choose(scored, papers[entry_id], papers, size)
        if chosen:
            result[entry_id] = chosen
    return result


# ---------------------------------------------------------------------------------------------
# A full computation, and an incremental one


@dataclass
class Computed:
    """What a computation found, to be written under the corpus row's lock."""

    full: bool
    lists: dict[tuple[int, int | None], list]  # the lists computed (all of them if ``full``)
    documents: Iterable[RelatedDocument]  # to store: every one if ``full``, else the changed
    removed: set[int]  # entries that left the corpus (``full``: unused, every row is replaced)
    frequencies: dict
    size: int  # entries in the corpus
    tokenised: int


def compute_full(kinds: dict[int, str], stamped: dict[int, tuple[int, str]]) -> Computed:
    """Every list, from every entry tokenised once: the document frequencies in a first pass
    that keeps each entry's counts as compressed JSON (a third of the text: the documents
    to store are made from it when they are written), then the vectors from it (the texts
    themselves are never held)."""
    frequency: dict[int | None, Counter] = defaultdict(Counter)
    counted: Counter = Counter()
    papers, packed = {}, {}
    for document in documents(kinds):
        papers[document.entry_id] = document.paper_id
        by_kind = document.by_kind()
        for kind_id, counts in by_kind.items():
            frequency[kind_id].update(counts.keys())
            counted[kind_id] += 1
        packed[document.entry_id] = _pack({_key(k): c for k, c in by_kind.items()})
    frequencies = {
        _key(k): {"n": counted[k], "df": dict(frequency.pop(k, {}))} for k in [None, *kinds]
    }
    idf = {k: _idf(frequencies[_key(k)]) for k in [None, *kinds]}
    vectors: dict[int | None, dict[int, dict[str, float]]] = defaultdict(dict)
    weighed = {}
    for entry_id, counts in packed.items():
        mine = {}
        for key, counted in _unpack(counts).items():
            kind_id = _kind(key)
            keep = TERMS_PER_ENTRY if kind_id is None else TERMS_PER_SECTION
            mine[key] = vectors[kind_id][entry_id] = weigh(counted, idf[kind_id], keep)
        weighed[entry_id] = _pack(mine)
    del idf
    lists = {}
    for kind_id in [None, *kinds]:
        for entry_id, chosen in nearest(vectors.pop(kind_id, {}), papers).items():
            lists[(entry_id, kind_id)] = chosen

    def rows() -> Iterator[RelatedDocument]:
        for entry_id in sorted(packed):
            yield RelatedDocument(
                entry_id=entry_id,
                paper_id=papers[entry_id],
                stamp=stamped.get(entry_id, (0, ""))[1],  # published since they were read: ""
                counts=zlib.decompress(packed.pop(entry_id)).decode(),
                vectors=zlib.decompress(weighed.pop(entry_id)).decode(),
            )

    return Computed(True, lists, rows(), set(), frequencies, len(papers), len(papers))


def _stored_vectors(ids: Iterable[int]) -> dict[int, tuple[int, dict]]:
    """{entry: (paper, {kind key: vector})} of the stored documents of ``ids``."""
    found = {}
    for chunk in _chunks(sorted(ids)):
        rows = RelatedDocument.objects.filter(pk__in=chunk).values_list(
            "entry_id", "paper_id", "vectors"
        )
        for entry_id, paper_id, vectors in rows:
            found[entry_id] = (paper_id, json.loads(vectors))
    return found


def _reweighed(wanted: dict[int, set[str]], frequencies: dict) -> dict[int, dict[str, dict]]:
    """{entry: {kind key: vector}} of the stored documents of ``wanted``'s entries, of the
    kinds it gives, weighed from their counts with ``frequencies`` (no tokenising)."""
    found = {}
    for chunk in _chunks(sorted(wanted)):
        for entry_id, counts in RelatedDocument.objects.filter(pk__in=chunk).values_list(
            "entry_id", "counts"
        ):
            mine = {}
            for key, counted in json.loads(counts).items():
                if key in wanted[entry_id]:
                    keep = TERMS_PER_ENTRY if key == "" else TERMS_PER_SECTION
                    mine[key] = weigh(counted, _idf(frequencies[key], counted), keep)
            found[entry_id] = mine
    return found


def _every_vector(skip: set[int]) -> Iterator[tuple[int, int, dict]]:
    """(entry, paper, {kind key: vector}) of every stored document but ``skip``, in id
    order, ``STREAM_CHUNK`` per query."""
    last = 0
    while True:
        rows = list(
            RelatedDocument.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("entry_id", "paper_id", "vectors")[:STREAM_CHUNK]
        )
        if not rows:
            return
        last = rows[-1][0]
        for entry_id, paper_id, vectors in rows:
            if entry_id not in skip:
                yield entry_id, paper_id, json.loads(vectors)


def changes(stamped: dict[int, tuple[int, str]]) -> tuple[list[int], set[int]]:
    """The indexed entries whose stamp differs from their stored document's (new ones
    included), and the stored documents whose entry left the corpus."""
    stored = dict(
        RelatedDocument.objects.values_list("entry_id", "stamp").iterator(chunk_size=5000)
    )
    changed = sorted(e for e, (_paper, stamp) in stamped.items() if stored.get(e) != stamp)
    return changed, stored.keys() - stamped.keys()


def compute_changes(
    kinds: dict[int, str],
    stamped: dict[int, tuple[int, str]],
    changed: list[int],
    removed: set[int],
    frequencies: dict,
) -> Computed:
    """The lists an incremental refresh rewrites: only ``changed`` entries are tokenised,
    the document frequencies are moved by what left and what came, and the stored vectors
    of the others are read as they are (their weights keep the frequencies of the run that
    made them: the drift ``FULL_AFTER`` bounds). Recomputed: the lists of the changed
    entries and of every entry whose list holds a changed or removed one; and a changed
    entry enters the list of each candidate it scores better than that list's last."""
    # What leaves: the removed entries' and the changed ones' former terms.
    for chunk in _chunks(sorted(removed | set(changed))):
        rows = RelatedDocument.objects.filter(pk__in=chunk).values_list("counts", flat=True)
        for counts in rows:
            for key, found in json.loads(counts).items():
                bucket = frequencies[key]
                bucket["n"] -= 1
                df = bucket["df"]
                for term in found:
                    df[term] -= 1
                    if df[term] <= 0:
                        del df[term]
    fresh_documents = list(documents(kinds, changed))
    removed = removed | (set(changed) - {d.entry_id for d in fresh_documents})  # gone since
    for document in fresh_documents:
        for kind_id, counts in document.by_kind().items():
            bucket = frequencies.setdefault(_key(kind_id), {"n": 0, "df": {}})
            bucket["n"] += 1
            df = bucket["df"]
            for term in counts:
                df[term] = df.get(term, 0) + 1
    fresh: dict[int, tuple[int, dict]] = {}
    rows = []
    for document in fresh_documents:
        mine = {}
        for kind_id, counts in document.by_kind().items():
            key = _key(kind_id)
            keep = TERMS_PER_ENTRY if kind_id is None else TERMS_PER_SECTION
            mine[key] = weigh(counts, _idf(frequencies[key], counts), keep)
        fresh[document.entry_id] = (document.paper_id, mine)
        rows.append(
            RelatedDocument(
                entry_id=document.entry_id,
                paper_id=document.paper_id,
                stamp=stamped[document.entry_id][1],
                counts=_dumps({_key(k): c for k, c in document.by_kind().items()}),
                vectors=_dumps(mine),
            )
        )

    # The lists to recompute, by kind key: the changed entries' and their holders'.
    leaving = removed | fresh.keys()
    recompute: dict[str, set[int]] = defaultdict(set)
    for entry_id, (_paper, mine) in fresh.items():
        for key in mine:
            recompute[key].add(entry_id)
    for chunk in _chunks(sorted(leaving)):
        held = RelatedEntry.objects.filter(related_id__in=chunk).values_list("entry_id", "kind_id")
        for entry_id, kind_id in held:
            if entry_id not in removed:
                recompute[_key(kind_id)].add(entry_id)
    known = dict(fresh)
    known.update(_stored_vectors({e for ids in recompute.values() for e in ids} - known.keys()))
    needed = {
        key: {t for e in ids for t in known.get(e, (0, {}))[1].get(key, ())}
        for key, ids in recompute.items()
    }

    # One pass over every stored vector (the changed ones' new vectors in their place):
    # the postings of the terms needed, the most recent ``CANDIDATE_POSTINGS`` of each.
    postings: dict[str, dict[str, deque]] = {
        key: defaultdict(lambda: deque(maxlen=CANDIDATE_POSTINGS)) for key in needed
    }
    papers = {}
    stream = heapq.merge(
        _every_vector(skip=leaving),
        sorted((e, paper, mine) for e, (paper, mine) in fresh.items()),
        key=lambda item: item[0],
    )
    for entry_id, paper_id, mine in stream:
        papers[entry_id] = paper_id
        for key, vector in mine.items():
            wanted = needed.get(key)
            if wanted:
                for term in vector:
                    if term in wanted:
                        postings[key][term].append(entry_id)

    candidates = {}
    for key, ids in recompute.items():
        index = {term: list(found) for term, found in postings[key].items()}
        for entry_id in ids:
            vector = known.get(entry_id, (0, {}))[1].get(key)
            candidates[(entry_id, key)] = _candidates(vector, index) if vector else []
    # Scored exactly, with today's document frequencies: the vectors of the entries and
    # candidates involved are weighed again from their stored counts.
    current = {e: mine for e, (_paper, mine) in fresh.items()}
    involved = defaultdict(set)
    for (entry_id, key), found in candidates.items():
        for other in (entry_id, *found):
            if other not in current:
                involved[other].add(key)
    current.update(_reweighed(involved, frequencies))

    lists: dict[tuple[int, int | None], list] = {}
    entering = defaultdict(list)  # (entry, kind key): [(changed entry, score), …]
    for (entry_id, key), found in candidates.items():
        vector = current.get(entry_id, {}).get(key)
        scored = _scores(vector, found, lambda e, key=key: current[e][key]) if vector else []
        lists[(entry_id, _kind(key))] = _choose(scored, papers.get(entry_id, 0), papers)
        if entry_id in fresh:
            for other, score in scored:
                if other != entry_id and other not in recompute[key]:
                    entering[(other, key)].append((entry_id, score))
    lists.update(_entered(entering, papers))
    return Computed(False, lists, rows, removed, frequencies, len(papers), len(fresh_documents))


def _entered(
    entering: dict[tuple[int, str], list[tuple[int, float]]], papers: dict[int, int]
) -> dict[tuple[int, int | None], list]:
    """The stored lists that changed entries enter: each list, with its newcomers (entry,
    score), chosen again as ``_choose`` would."""
    current = defaultdict(list)
    owners = sorted({entry_id for entry_id, _key in entering})
    for chunk in _chunks(owners):
        rows = RelatedEntry.objects.filter(entry_id__in=chunk).values_list(
            "entry_id", "kind_id", "related_id", "score"
        )
        for entry_id, kind_id, related_id, score in rows:
            current[(entry_id, _key(kind_id))].append((related_id, score))
    result = {}
    for (entry_id, key), newcomers in entering.items():
        before = _order(current[(entry_id, key)])
        after = _choose([*before, *newcomers], papers[entry_id], papers)
        if [e for e, _s in after] != [e for e, _s in before]:
            result[(entry_id, _kind(key))] = after
    return result


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
    values = [computation(kinds), state, tags]
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()


def computation(kinds: dict[int, str]) -> str:
    """What the stored documents and lists were computed with: another value needs a full
    recomputation."""
    values = [
        VERSION,
        sorted(kinds.items()),
        [SHOWN, STORED, MIN_SCORE, TERMS_PER_ENTRY, TERMS_PER_SECTION, TAG_BOOST],
        [CANDIDATE_POSTINGS, CANDIDATES],
    ]
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()[:32]


def stored_lists(entry_ids: Iterable[int] | None = None) -> dict[tuple[int, int | None], list]:
    """The stored lists (of ``entry_ids``' entries, else all): {(entry, kind): [related]}."""
    rows = RelatedEntry.objects.order_by("entry_id", "kind_id", "rank").values_list(
        "entry_id", "kind_id", "related_id"
    )
    lists = defaultdict(list)
    if entry_ids is None:
        for entry_id, kind_id, related_id in rows.iterator(chunk_size=5000):
            lists[(entry_id, kind_id)].append(related_id)
        return lists
    for chunk in _chunks(sorted(set(entry_ids))):
        for entry_id, kind_id, related_id in rows.filter(entry_id__in=chunk):
            lists[(entry_id, kind_id)].append(related_id)
    return lists


def _chunks(items: list, size: int = WRITE_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write(lists: dict[tuple[int, int | None], list], *, every: bool = True) -> int:
    """Make the stored lists ``lists`` (``every``: all of them, a list not in ``lists`` is
    emptied; else only those in ``lists``), touching only those whose entries or order
    changed (a new paper changes a few lists; scores that moved a little keep their rows).
    Returns the number of lists rewritten."""
    before = stored_lists(None if every else {entry_id for entry_id, _kind in lists})
    keys = before.keys() | lists.keys() if every else lists.keys()
    changed = [
        key
        for key in keys
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


def _store(computed: Computed) -> int:
    """Write what ``computed`` found: its lists, documents and frequencies (the corpus row
    is locked by the caller). Returns the number of lists rewritten."""
    changed = 0
    if computed.full:
        changed = write(computed.lists)
        RelatedDocument.objects.all().delete()
    else:
        for chunk in _chunks(sorted(computed.removed)):
            gone = stored_lists(chunk)
            changed += len(gone)
            RelatedEntry.objects.filter(entry_id__in=chunk).delete()
        changed += write(computed.lists, every=False)
        replaced = sorted(computed.removed | {row.entry_id for row in computed.documents})
        for chunk in _chunks(replaced):
            RelatedDocument.objects.filter(pk__in=chunk).delete()
    rows = iter(computed.documents)
    while batch := list(itertools.islice(rows, WRITE_CHUNK)):
        RelatedDocument.objects.bulk_create(batch)
    return changed


@dataclass
class Refresh:
    """What one ``refresh`` did."""

    computed: bool
    full: bool = False  # every entry tokenised and every list computed
    documents: int = 0  # entries in the corpus
    tokenised: int = 0  # of which tokenised by this refresh
    lists_changed: int = 0
    seconds: float = 0.0  # wall-clock time
    cpu_seconds: float = 0.0  # this process's CPU time (the database's work not included)


def refresh(*, force: bool = False, full: bool | None = None) -> Refresh:
    """Bring every related list up to date with the archive: nothing but a fingerprint when
    nothing changed since the last computation (unless ``force``), else an incremental
    refresh (``compute_changes``) or, when ``full`` or none can be made (no stored
    documents, another ``computation``) or the corpus drifted (``FULL_AFTER``) and is small
    enough for the task (``FULL_IN_TASK_MAX``), a full one; then the lists that changed
    are rewritten and announced (``content_changed(derived=True)``).

    The computation reads outside any transaction (a long write transaction would hold
    SQLite's lock for its duration); the writing locks the corpus row, so two workers
    write one after the other, a computation that started before the stored one does not
    overwrite it, and an incremental one whose base another refresh rewrote meanwhile is
    made again from the new base."""
    began, cpu = time.monotonic(), time.process_time()
    kinds = section_kinds()
    for _attempt in range(ATTEMPTS):
        started_at = timezone.now()
        current = fingerprint(kinds)
        corpus = RelatedCorpus.objects.filter(pk=1).first()
        if not force and corpus is not None and corpus.fingerprint == current:
            return Refresh(computed=False)
        base = corpus.generation if corpus else 0
        stamped = stamps()
        possible = (
            corpus is not None
            and corpus.generation > 0
            and corpus.computation == computation(kinds)
            and bool(corpus.frequencies)
        )
        computed = None
        if possible and not full:
            changed, removed = changes(stamped)
            drift = corpus.changed_since_full + len(changed) + len(removed)
            drifted = drift > FULL_AFTER * corpus.full_documents
            if full is False or not drifted or corpus.full_documents > FULL_IN_TASK_MAX:
                if drifted:
                    logger.warning(
                        "Related papers: %s entries changed since the last full computation "
                        "of %s: run `manage.py rebuild_related`.",
                        drift,
                        corpus.full_documents,
                    )
                frequencies = json.loads(corpus.frequencies)
                computed = compute_changes(kinds, stamped, changed, removed, frequencies)
        if computed is None:
            computed = compute_full(kinds, stamped)
        with transaction.atomic():
            corpus = RelatedCorpus.objects.select_for_update().get_or_create(pk=1)[0]
            if corpus.started_at and corpus.started_at > started_at:
                return Refresh(
                    computed=True,
                    full=computed.full,
                    documents=computed.size,
                    tokenised=computed.tokenised,
                    seconds=time.monotonic() - began,
                )
            if not computed.full and corpus.generation != base:
                continue  # another refresh wrote since this one read: again, from its base
            changed_lists = _store(computed)
            now = timezone.now()
            corpus.fingerprint = current
            corpus.computation = computation(kinds)
            corpus.frequencies = _dumps(computed.frequencies)
            corpus.generation += 1
            corpus.started_at = started_at
            corpus.finished_at = now
            corpus.documents = computed.size
            corpus.seconds = time.monotonic() - began
            if computed.full:
                corpus.full_at, corpus.full_documents, corpus.changed_since_full = (
                    now,
                    computed.size,
                    0,
                )
            else:
                corpus.changed_since_full += computed.tokenised + len(computed.removed)
            corpus.save()
            if changed_lists:
                content_changed(derived=True)
        return Refresh(
            computed=True,
            full=computed.full,
            documents=computed.size,
            tokenised=computed.tokenised,
            lists_changed=changed_lists,
            seconds=corpus.seconds,
            cpu_seconds=time.process_time() - cpu,
        )
    raise RuntimeError(f"Related papers: {ATTEMPTS} refreshes found their base rewritten.")


@retrying_task(attempts=3, backoff_seconds=60)
def refresh_related() -> dict:
    """The background task: ``refresh()``; what it did, for the task's row."""
    done = refresh()
    return {"computed": done.computed, "documents": done.documents, "changed": done.lists_changed}


def schedule_refresh() -> None:
    """Follows ``content_changed()`` (reading/apps.py): refresh the lists in the background
    once the change commits (a rolled-back change schedules nothing)."""
    enqueue_once_on_commit(refresh_related)


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
        return short_code(self.category)


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
