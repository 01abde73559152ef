"""Bilingual search over published entries.

Every entry has one derived ``EntrySearch`` row (papers/models/reading.py) holding its text in
a normalised *term* form, built here:

- Latin words and numbers are lower-cased alphanumeric tokens (``Reasoning`` -> ``reasoning``);
- runs of Chinese (or Japanese/Korean) characters become overlapping bigrams
  (``强化学习`` -> ``强化 化学 学习``), so any two-character word such as 推理 or 蒸馏 is a
  term of its own, without a dictionary-based segmenter.

A query is parsed the same way: a Chinese run becomes a *phrase* of consecutive bigrams, a
Latin word a prefix (``distil`` finds ``distillation``). All terms must match.

- PostgreSQL: migration 0003 adds a stored, generated ``tsvector`` column over the two term
  texts (config ``simple``) with a GIN index that finds the matches, and a small generated
  vector of the title terms that ranks them; the query is a ``to_tsquery`` of phrases and
  prefixes.
- SQLite (and any other backend): each term is a substring of the term text (``LIKE``; the
  leading space anchors it to a token boundary), ranked by "all terms in the title text".

Results rank in two tiers (every term in the title, Chinese title or one-line summary; else
only in the body), newest first within a tier. Counts of search results stop at 1000.

The text is kept current by signals (models/reading.py) that call ``refresh_entries``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db import connection, models
from django.db.models import Case, IntegerField, Value, When
from django.db.models.expressions import RawSQL
from django.utils.functional import cached_property
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

MAX_QUERY_TERMS = 12
MAX_QUERY_LENGTH = 200
MAX_COUNTED_RESULTS = 1000

_CJK = (
    "\u3040-\u30ff"  # kana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # hangul
    "\uf900-\ufaff"  # compatibility ideographs
)
_TOKEN = re.compile(r"[^\W_]+")
_RUNS = re.compile(rf"[{_CJK}]+|[^{_CJK}]+")
_IS_CJK = re.compile(rf"[{_CJK}]")
_MARKDOWN_NOISE = re.compile(r"^[ \t]*(?:[-*+•]|\d+[.)]|#+)[ \t]+|\*\*|__|`", flags=re.MULTILINE)


def _runs(text: str):
    """(is_cjk, run) pieces of every alphanumeric token of ``text``, lower-cased."""
    for token in _TOKEN.findall(text.casefold()):
        for run in _RUNS.findall(token):
            yield bool(_IS_CJK.match(run)), run


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def terms(text: str) -> list[str]:
    """The index terms of ``text``: Latin tokens, and bigrams of CJK runs."""
    result: list[str] = []
    for is_cjk, run in _runs(text or ""):
        result.extend(_bigrams(run) if is_cjk else [run])
    return result


def term_text(*texts: str) -> str:
    """The stored form: terms separated by single spaces, with a space at both ends so that
    a substring search can anchor a term at a token boundary."""
    joined = " ".join(term for text in texts for term in terms(text))
    return f" {joined} " if joined else ""


@dataclass(frozen=True)
class QueryTerm:
    """One thing the reader asked for: a phrase of consecutive terms (a Chinese word) or a
    single Latin word, matched as a prefix; ``text`` is what to highlight."""

    tokens: tuple[str, ...]
    text: str
    prefix: bool

    @property
    def like_pattern(self) -> str:
        return " " + " ".join(self.tokens) + ("" if self.prefix else " ")

    @property
    def tsquery(self) -> str:
        quoted = [f"'{token}'" for token in self.tokens]
        if self.prefix:
            quoted[-1] += ":*"
        return " <-> ".join(quoted)


def parse_query(raw: str) -> list[QueryTerm]:
    """Terms of a reader's query (at most MAX_QUERY_TERMS, duplicates dropped)."""
    result: list[QueryTerm] = []
    seen = set()
    for is_cjk, run in _runs((raw or "")[:MAX_QUERY_LENGTH]):
        if is_cjk:
            # A single character can only be the start of a bigram (or a lone character).
            term = QueryTerm(tuple(_bigrams(run)), run, prefix=len(run) == 1)
        else:
            term = QueryTerm((run,), run, prefix=True)
        if term.tokens not in seen:
            seen.add(term.tokens)
            result.append(term)
    return result[:MAX_QUERY_TERMS]


def to_tsquery_text(query_terms: list[QueryTerm]) -> str:
    return " & ".join(f"({term.tsquery})" for term in query_terms)


def uses_postgres_index() -> bool:
    return connection.vendor == "postgresql"


def facet_token(kind: str, pk: int) -> str:
    """A facet as one term: ``t12`` for tag 12, ``c7`` for category 7."""
    return f"{kind}{pk}"


def apply_search(queryset, raw_query: str, facets=()):
    """Entries of ``queryset`` matching every term of ``raw_query`` and every facet group
    (``facets``: groups of facet tokens; one token of each group must be present), annotated
    with ``rank`` (higher is better) when there are words. Returns (queryset, terms)."""
    query_terms = parse_query(raw_query)
    facets = [list(group) for group in facets if group]
    if not query_terms and not facets:
        return queryset, []
    if uses_postgres_index():
        conditions, params = [], []
        if query_terms:
            conditions.append("search_vector @@ to_tsquery('simple', %s)")
            params.append(to_tsquery_text(query_terms))
        if facets:
            conditions.append("facet_vector @@ to_tsquery('simple', %s)")
            params.append(" & ".join("(" + " | ".join(group) + ")" for group in facets))
        # One subquery on the GIN indexes, behind an OFFSET 0 fence so that PostgreSQL
        # always answers it from them; otherwise, under the LIMIT of a page or a capped count,
        # it may walk the primary key and test (and detoast) every row's vector.
        queryset = queryset.filter(
            pk__in=RawSQL(
                "SELECT entry_id FROM papers_entrysearch WHERE "
                + " AND ".join(conditions)
                + " OFFSET 0",
                tuple(params),
            )
        )
        if query_terms:
            # An inner join on the search row: its first join, so its alias is the table
            # name. 1 when every term is in the title, Chinese title or one-line summary,
            # read from the small title vector (not the large one, detoasted per row).
            queryset = queryset.filter(search__entry_id__isnull=False).annotate(
                rank=RawSQL(
                    "(\"papers_entrysearch\".title_vector @@ to_tsquery('simple', %s))::int",
                    (to_tsquery_text(query_terms),),
                    output_field=models.IntegerField(),
                )
            )
        return queryset, query_terms
    for group in facets:
        any_of = models.Q()
        for token in group:
            any_of |= models.Q(search__facets__contains=f" {token} ")
        queryset = queryset.filter(any_of)
    if query_terms:
        in_title = models.Q()
        for term in query_terms:
            pattern = term.like_pattern
            queryset = queryset.filter(
                models.Q(search__title_terms__contains=pattern)
                | models.Q(search__body_terms__contains=pattern)
            )
            in_title &= models.Q(search__title_terms__contains=pattern)
        queryset = queryset.annotate(
            rank=Case(When(in_title, then=Value(1)), default=Value(0), output_field=IntegerField())
        )
    return queryset, query_terms


class CappedCountPaginator(Paginator):
    """Counts at most ``MAX_COUNTED_RESULTS`` search results (a bounded ``LIMIT`` subquery):
    a word found in half the archive must not cost a full count. Readers see "1000+"."""

    @cached_property
    def count(self):
        return self.object_list.order_by()[: MAX_COUNTED_RESULTS + 1].count()

    @property
    def is_capped(self):
        return self.count > MAX_COUNTED_RESULTS


def plain_text(markdown: str) -> str:
    """Section Markdown without list markers and emphasis, for snippets."""
    return _MARKDOWN_NOISE.sub("", markdown or "")


def snippet(text: str, query_terms: list[QueryTerm], *, width: int = 120) -> SafeString:
    """A window of ``text`` around the first match of any term, HTML-escaped, with every
    match wrapped in <mark>. Without a match: the start of the text."""
    text = re.sub(r"\s+", " ", text or "").strip()
    needles = sorted({t.text for t in query_terms if t.text}, key=len, reverse=True)
    if not needles:
        return mark_safe(escape(_shorten(text, width)))  # noqa: S308 (escaped above)
    pattern = re.compile("|".join(re.escape(n) for n in needles), flags=re.IGNORECASE)
    match = pattern.search(text)
    if match:
        start = max(0, match.start() - width // 3)
        window = text[start : start + width]
        prefix = "…" if start > 0 else ""
        suffix = "…" if start + width < len(text) else ""
    else:
        window, prefix = text[:width], ""
        suffix = "…" if len(text) > width else ""
    return mark_safe(prefix + highlight(window, query_terms) + suffix)  # noqa: S308


def highlight(text: str, query_terms: list[QueryTerm]) -> str:
    """``text`` escaped, with matches of the query terms wrapped in <mark>."""
    needles = sorted({t.text for t in query_terms if t.text}, key=len, reverse=True)
    if not needles:
        return escape(text)
    pattern = re.compile("|".join(re.escape(n) for n in needles), flags=re.IGNORECASE)
    pieces, last = [], 0
    for match in pattern.finditer(text):
        pieces.append(escape(text[last : match.start()]))
        pieces.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    pieces.append(escape(text[last:]))
    return "".join(pieces)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width] + "…"


# ---------------------------------------------------------------------------------------------
# Building the derived rows


SUMMARY_KIND_SLUG = "summary"


def document_for(*, paper, title_zh: str, sections, tag_names, categories, facets=()) -> dict:
    """The searchable texts of one entry from plain values. ``sections`` is a list of
    (kind slug, kind Chinese name, Markdown body) in display order; ``facets`` the entry's
    facet tokens (its tags and its primary and cross-list categories)."""
    summary = next((body for slug, _name, body in sections if slug == SUMMARY_KIND_SLUG), "")
    summary = plain_text(summary).strip()
    body_parts = [
        paper.authors,
        paper.affiliations,
        paper.abstract,
        paper.arxiv_id,
        " ".join(tag_names),
        " ".join(categories),
    ]
    plain_parts = []
    for slug, _name, body in sections:
        if slug != SUMMARY_KIND_SLUG:
            body_parts.append(body)
            plain_parts.append(plain_text(body))
    if paper.abstract:
        plain_parts.append(paper.abstract)
    return {
        "title_terms": term_text(paper.title, title_zh, summary),
        "body_terms": term_text(*body_parts),
        "summary": summary,
        "plain": "\n".join(part.strip() for part in plain_parts if part.strip()),
        "facets": f" {' '.join(facets)} " if facets else "",
    }


def refresh_entries(entry_ids) -> int:
    """(Re)build the search rows of the given entries in a fixed number of queries.
    Entries that no longer exist are skipped (their rows went with them)."""
    from .models import Entry, EntrySearch, Section, TaggedEntry

    entry_ids = list({int(pk) for pk in entry_ids})
    if not entry_ids:
        return 0
    entries = list(
        Entry.objects.filter(pk__in=entry_ids)
        .select_related("paper__primary_category")
        .prefetch_related("paper__categories")
    )
    sections = defaultdict(list)
    for section in (
        Section.objects.filter(entry_id__in=entry_ids)
        .select_related("kind")
        .order_by("kind__order", "kind_id")
    ):
        sections[section.entry_id].append((section.kind.slug, section.kind.name_zh, section.body))
    tags = defaultdict(list)
    tag_ids = defaultdict(list)
    for object_id, tag_id, name in TaggedEntry.objects.filter(
        content_object_id__in=entry_ids
    ).values_list("content_object_id", "tag_id", "tag__name"):
        tags[object_id].append(name)
        tag_ids[object_id].append(tag_id)
    rows = []
    for entry in entries:
        paper = entry.paper
        categories = [paper.primary_category.code, paper.primary_category.name]
        categories += [c.code for c in paper.categories.all()]
        facets = [facet_token("t", pk) for pk in tag_ids[entry.pk]]
        facets.append(facet_token("c", paper.primary_category_id))
        facets += [facet_token("c", c.pk) for c in paper.categories.all()]
        document = document_for(
            paper=paper,
            title_zh=entry.title_zh,
            sections=sections[entry.pk],
            tag_names=tags[entry.pk],
            categories=categories,
            facets=facets,
        )
        rows.append(EntrySearch(entry_id=entry.pk, **document))
    EntrySearch.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["entry"],
        update_fields=["title_terms", "body_terms", "summary", "plain", "facets"],
    )
    return len(rows)
