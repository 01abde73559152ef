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
- SQLite: migration 0010 adds an FTS5 *external content* table over the search rows
  (``papers_entrysearch_fts``: the three term texts, rowid = entry id, tokenizer unicode61
  without diacritic folding, so each term is one token). Words and facets become one FTS5
  query (``{title_terms body_terms} : ("推理" + "理模" AND "reason" *) AND facets : ("c7"
  OR "c9")``, every token quoted so nothing a reader types is syntax) and the list tests
  ``entry_id IN (SELECT rowid … MATCH …)``; the title tier is a MATCH on ``title_terms``.
  Triggers on papers_entrysearch (insert, delete, update of a term text) keep the index,
  not Python signals: ``refresh_entries`` writes with a bulk upsert, a deleted digest's or
  entry's search rows go in one bulk DELETE, and bulk loads and raw SQL send no signal at
  all. The update trigger skips writes that leave the term texts unchanged (the state
  copies of ``sync_entry_state``).
- Any other backend: each term is a substring of the term text (``LIKE``; the leading space
  anchors it to a token boundary), ranked by "all terms in the title text".

Results rank in tiers (``title_tiers``): every term in the English or Chinese title; with
several terms, some of them there; none (the one-line summary is body text); newest first
within a tier. Counts of search results stop at 1000. Highlighting is ``Piece``s, which the
templates escape and mark (templates/includes/_highlighted.html).

The search rows are kept current by signals (models/reading.py) that call
``refresh_entries``; on SQLite the FTS5 index follows the rows through its triggers.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connection, connections, models
from django.db.models import Case, IntegerField, Value, When
from django.db.models.expressions import RawSQL
from django.utils.functional import cached_property

from papers.models import Digest, Entry, Paper, Section, SectionKind, TaggedEntry, split_lines
from reading.models import EntrySearch

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
# Single-character emphasis, as Markdown reads it: *a* anywhere, _a_ only between words
# (snake_case and a lone 2*3 stay as typed).
_EMPHASIS = re.compile(r"\*(?=\S)([^*\n]+?)(?<=\S)\*|(?<!\w)_(?=\S)([^_\n]+?)(?<=\S)_(?!\w)")


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

    @property
    def fts_query(self) -> str:
        """The term in FTS5 query syntax: a phrase of quoted tokens (``"推理" + "理模"``),
        the last one a prefix (``"reason" *``) for a Latin word."""
        phrase = " + ".join(_fts_quote(token) for token in self.tokens)
        return phrase + (" *" if self.prefix else "")


def _fts_quote(token: str) -> str:
    """An FTS5 string: whatever it holds (``NEAR``, ``AND``, ``*``, a quote) is text."""
    return '"' + token.replace('"', '""') + '"'


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


def to_tsquery_text(query_terms: list[QueryTerm], *, any_term: bool = False) -> str:
    return (" | " if any_term else " & ").join(f"({term.tsquery})" for term in query_terms)


def uses_postgres_index() -> bool:
    return connection.vendor == "postgresql"


def uses_sqlite_index() -> bool:
    return connection.vendor == "sqlite"


# The FTS5 index of the search rows on SQLite (migration 0010), and the columns a word is
# looked for in (not the facets: a word ``t1`` must not find the tag t12).
FTS_TABLE = "papers_entrysearch_fts"
_TEXT_COLUMNS = "{title_terms body_terms}"


def fts_match_text(
    query_terms: list[QueryTerm], facets=(), *, columns=_TEXT_COLUMNS, any_term: bool = False
) -> str:
    """One FTS5 query: every word (``any_term``: one of them) in ``columns`` and, for each
    facet group, one of its tokens in the facets column."""
    parts = []
    if query_terms:
        joiner = " OR " if any_term else " AND "
        parts.append(f"{columns} : (" + joiner.join(t.fts_query for t in query_terms) + ")")
    for group in facets:
        parts.append("facets : (" + " OR ".join(_fts_quote(token) for token in group) + ")")
    return " AND ".join(parts)


class FtsMatch(RawSQL):
    """The (joined) search row is (``negated``: is not) among the FTS5 matches.

    SQLite's planner cannot know how many rows match, and always takes them from the FTS
    index, then looks up and sorts each: right for a rare word, 230 ms for a tag on a third
    of 100,000 entries. A query marked ``walk_sort_index`` (``EntryResults``, when the
    capped count says the matches are many) writes ``+entry_id``, which no index may
    answer: the planner then walks the covering list-order index (migration 0010) and
    tests each id against the match set, built once, until the page is full. When the match
    is tags and categories alone (``facet_groups``), the walk tests each row's facets, which
    that index covers (reading migration 0002), and builds no match set: a tag on a third of
    the archive fills its first page after a few dozen rows."""

    def __init__(
        self, match_text: str, *, negated: bool = False, output_field=None, facet_groups=()
    ):
        self.negated = negated
        self.facet_groups = [list(group) for group in facet_groups]
        super().__init__("", (match_text,), output_field=output_field or models.BooleanField())

    def _facets_in_walk(self):
        """Every group has one of its tokens in the row's facets (`` t1 t12 c7 ``)."""
        column = '"papers_entrysearch"."facets"'
        groups, params = [], []
        for group in self.facet_groups:
            groups.append("(" + " OR ".join(f"instr({column}, %s) > 0" for _ in group) + ")")
            params.extend(f" {token} " for token in group)
        return "(" + " AND ".join(groups) + ")", tuple(params)

    def as_sql(self, compiler, connection):
        column = '"papers_entrysearch"."entry_id"'
        if getattr(compiler.query, "fts_join", False) and not self.negated:
            # ``_fts_driven_count``: the FTS5 table is joined first, its matches the loop.
            return f"({column} = {FTS_TABLE}.rowid AND {FTS_TABLE} MATCH %s)", self.params
        if getattr(compiler.query, "walk_sort_index", False):
            if self.facet_groups and not self.negated:
                return self._facets_in_walk()
            column = "+" + column
        operator = "NOT IN" if self.negated else "IN"
        sql = f"{column} {operator} (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)"
        return f"({sql})", self.params


def _fts_condition(
    match_text: str, *, negated: bool = False, output_field=None, facet_groups=()
) -> FtsMatch:
    return FtsMatch(
        match_text, negated=negated, output_field=output_field, facet_groups=facet_groups
    )


def facet_token(kind: str, pk: int) -> str:
    """A facet as one term: ``t12`` for tag 12, ``c7`` for category 7."""
    return f"{kind}{pk}"


def match_condition(
    query_terms: list[QueryTerm],
    facets=(),
    *,
    prefix: str = "search__",
    table: str = "papers_entrysearch",
):
    """The filter "every term and one token of every facet group", on the search row
    (``prefix`` is the path to it: ``search__`` from an entry, empty from the row itself),
    or None when there is nothing to match. ``table``: on PostgreSQL, the table whose
    vectors are tested (``papers_entryfacets`` for facets alone, see ``EntryFacets``).

    PostgreSQL: one raw condition on the GIN-indexed vectors. SQLite: one FTS5 MATCH. Both
    name the search row's table, so a queryset of entries must join it first (``apply_search``
    does). Other backends: substring tests of the term texts."""
    facets = [list(group) for group in facets if group]
    if not query_terms and not facets:
        return None
    if uses_postgres_index():
        # Facets first: PostgreSQL tests conditions of equal estimated cost in the order
        # written, and the small facet vector is inline while the search vector is
        # detoasted for every row it is tested on.
        conditions, params = [], []
        if facets:
            conditions.append("facet_vector @@ to_tsquery('simple', %s)")
            params.append(" & ".join("(" + " | ".join(group) + ")" for group in facets))
        if query_terms:
            conditions.append("search_vector @@ to_tsquery('simple', %s)")
            params.append(to_tsquery_text(query_terms))
        return RawSQL(
            " AND ".join(f'"{table}".{c}' for c in conditions),
            tuple(params),
            output_field=models.BooleanField(),
        )
    if uses_sqlite_index():
        alone = () if query_terms else facets  # facets alone may be tested in the walk
        return _fts_condition(fts_match_text(query_terms, facets), facet_groups=alone)
    condition = models.Q()
    for group in facets:
        any_of = models.Q()
        for token in group:
            any_of |= models.Q(**{f"{prefix}facets__contains": f" {token} "})
        condition &= any_of
    for term in query_terms:
        pattern = term.like_pattern
        condition &= models.Q(**{f"{prefix}title_terms__contains": pattern}) | models.Q(
            **{f"{prefix}body_terms__contains": pattern}
        )
    return condition


def apply_search(queryset, raw_query: str, facets=()):
    """Entries of ``queryset`` matching every term of ``raw_query`` and every facet group
    (``facets``: groups of facet tokens; one token of each group must be present), annotated
    with ``rank`` (higher is better) when there are words. Returns (queryset, terms).

    On PostgreSQL the match is written on the entry's search row, which the list querysets
    join anyway (its sort key and publication state live there). The planner then either
    walks the sort index and tests each row (a page of a common word or tag: a few hundred
    rows), or takes the matches from a GIN index and sorts them (a rare one); a capped count
    reads the GIN bitmap and stops after 1001 rows. On SQLite the FTS5 matches are a set of
    rowids (entry ids) the list's walk of the sort index tests each row against."""
    query_terms = parse_query(raw_query)
    condition = match_condition(query_terms, facets)
    if condition is None:
        return queryset, []
    if uses_postgres_index() or uses_sqlite_index():
        # An inner join on the search row (reused when the queryset has it already): its
        # first join, so its alias is the table name the raw condition names.
        queryset = queryset.filter(search__entry_id__isnull=False)
    queryset = queryset.filter(condition)
    if query_terms:
        # The relevance tier (``title_tiers``): 2 when every term is in the English or
        # Chinese title, 1 when some are, read from the small title vector (not the large
        # one, detoasted per row).
        rank = title_match(query_terms)
        if len(query_terms) > 1:
            rank = rank + title_match(query_terms, any_term=True)
        else:
            rank = rank * Value(2)
        queryset = queryset.filter(search__entry_id__isnull=False).annotate(rank=rank)
    return queryset, query_terms


def title_tier(queryset, query_terms: list[QueryTerm], facets=()):
    """The first relevance tier of ``queryset`` (not yet searched): the entries with every
    term in the title text and one token of every facet group. Every term in the title
    implies every term in the whole text, so only the title is tested: on SQLite one FTS5
    query, on PostgreSQL the facet vector and the small title vector."""
    facets = [list(group) for group in facets if group]
    if uses_sqlite_index():
        match = fts_match_text(query_terms, facets, columns="title_terms")
        return queryset.filter(search__entry_id__isnull=False).filter(_fts_condition(match))
    queryset, _terms = apply_search(queryset, "", facets)
    return queryset.filter(title_condition(query_terms))


def title_match(query_terms: list[QueryTerm], *, any_term: bool = False):
    """1 when every term (``any_term``: one of them) is in the title text of the (joined)
    search row, else 0."""
    if uses_postgres_index():
        return RawSQL(
            f"({_title_vector_match()})::int",
            (to_tsquery_text(query_terms, any_term=any_term),),
            output_field=models.IntegerField(),
        )
    if uses_sqlite_index():
        return _fts_condition(
            fts_match_text(query_terms, columns="title_terms", any_term=any_term),
            output_field=IntegerField(),
        )
    return Case(
        When(_title_like(query_terms, any_term=any_term), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


def title_condition(query_terms: list[QueryTerm], *, negated: bool = False, any_term=False):
    """A filter: every term (``any_term``: one of them) is (``negated``: is not) in the
    title text. On PostgreSQL a plain ``@@`` on the title vector, which its GIN index
    answers."""
    if uses_postgres_index():
        sql = _title_vector_match()
        return RawSQL(
            f"NOT ({sql})" if negated else sql,
            (to_tsquery_text(query_terms, any_term=any_term),),
            output_field=models.BooleanField(),
        )
    if uses_sqlite_index():
        match = fts_match_text(query_terms, columns="title_terms", any_term=any_term)
        return _fts_condition(match, negated=negated)
    condition = _title_like(query_terms, any_term=any_term)
    return ~condition if negated else condition


def title_tiers(query_terms: list[QueryTerm]) -> list[tuple[int, list]]:
    """The relevance tiers of a search, best first, as (tier, filters on the search row):
    every term in the English or Chinese title (2); with several terms, some of them in
    it but not all (1); none (0). Every match is in exactly one tier; within a tier the
    newest come first. The one-line summary and the critique are body text."""
    if len(query_terms) == 1:
        return [
            (2, [title_condition(query_terms)]),
            (0, [title_condition(query_terms, negated=True)]),
        ]
    return [
        (2, [title_condition(query_terms)]),
        (
            1,
            [
                title_condition(query_terms, any_term=True),
                title_condition(query_terms, negated=True),
            ],
        ),
        (0, [title_condition(query_terms, negated=True, any_term=True)]),
    ]


def _title_vector_match() -> str:
    return "\"papers_entrysearch\".title_vector @@ to_tsquery('simple', %s)"


def _title_like(query_terms: list[QueryTerm], *, any_term: bool = False) -> models.Q:
    in_title = models.Q()
    for term in query_terms:
        condition = models.Q(search__title_terms__contains=term.like_pattern)
        in_title = (in_title | condition) if any_term else (in_title & condition)
    return in_title


# The order of every list: newest issue first, then the digest, then the position in it,
# read from the search row's copies (one index: entrysearch_sort_idx).
DATE_ORDER = ("-search__issue_date", "-search__digest_pk", "search__position")


class EntryResults:
    """The ids of a filtered entry list, in order, as a sliceable sequence for a paginator,
    and its capped count.

    ``queryset`` is the filtered, ordered Entry queryset. With ``ranked_terms`` (a
    search sorted by relevance) a page is the union of two walks of the sort index, each cut
    at the end of the page: the entries with every word in the title, newest first, then
    the others. Ranking every match in one query would read the rank of each of them; for a
    word in a sixth of the archive that is 17,000 rows for a page of 20."""

    def __init__(
        self,
        queryset,
        ranked_terms=None,
        in_title=None,
        count_rows=None,
        indexed=None,
        count_key=None,
        tier_rows=None,
    ):
        self.queryset = queryset
        self.ranked_terms = ranked_terms
        # The first tier as a queryset of its own (the filters and the title condition
        # without the whole-text one), when the caller has it; else derived from queryset.
        self.in_title = in_title
        # The same matches as search rows alone, when the filters allow it (or a function
        # returning them or None): counted instead of ``queryset``, without the join to
        # each entry.
        self.count_rows = count_rows
        # Whether the matches come from the word or facet indexes (the capped count then
        # reads their bitmap); None: assume so.
        self.indexed = indexed
        self.count_key = count_key
        # A function giving the two relevance tiers as search-row querysets, or None: on
        # PostgreSQL each tier is then cut on the search rows before its page's few rows are
        # joined to their entries.
        self.tier_rows = tier_rows
        # Columns of the entry fetched with each id: a page is then a list of (id, *columns)
        # tuples instead of ids.
        self.columns: tuple[str, ...] = ()
        # Whether the count also reads the matches' facet names (reading/facets.py): the
        # same query returns them instead of a number.
        self.with_facet_names = False
        self.facet_names: list[str] | None = None
        self._count = None

    def count(self) -> int:
        """The number of matches, counted up to MAX_COUNTED_RESULTS + 1."""
        if self._count is None:
            self._count = self._counted()
        return self._count

    def _entry_tiers(self, queryset, in_title, columns):
        """The tiers (``title_tiers``) as querysets of entries (the page query's own
        filters)."""
        sort_key = ("search__issue_date", "search__digest_pk", "search__position")
        ids = queryset.order_by(*DATE_ORDER).values_list("pk", *sort_key)
        result = []
        for tier, conditions in title_tiers(self.ranked_terms):
            rows = ids
            if tier == 2 and in_title is not None:
                rows = in_title.order_by(*DATE_ORDER).values_list("pk", *sort_key)
            else:
                for condition in conditions:
                    rows = rows.filter(condition)
            result.append(
                rows.annotate(tier=Value(tier)).values_list("pk", *sort_key, "tier", *columns)
            )
        return result

    def _cut_tiers(self, stop, columns):
        if self.tier_rows is None or not uses_postgres_index():
            return None
        tier_rows = self.tier_rows()
        return None if tier_rows is None else _cut_tiers_of(tier_rows, stop, columns)

    def _counted(self) -> int:
        rows = self.count_rows() if callable(self.count_rows) else self.count_rows
        source = self.queryset if rows is None else rows
        fetch = self.with_facet_names
        if fetch:
            # The first 1001 matches' facet names, in one query with the count: reading
            # the short column of each row the count visits anyway (on SQLite, the
            # covering index the count probes holds it: reading migration 0003).
            column = "facet_names" if rows is not None else "search__facet_names"
            capped = source.order_by().values_list(column)[: MAX_COUNTED_RESULTS + 1]
        else:
            capped = source.order_by().values("pk")[: MAX_COUNTED_RESULTS + 1]
        if uses_postgres_index() and self.indexed is not False:
            found = _bitmap_count(capped, fetch=fetch)
        elif uses_sqlite_index() and rows is not None and self.indexed is not False:
            found = _fts_driven_count(capped, fetch=fetch)
        else:
            # No words or facets: the first 1001 published rows of the sort index.
            found = [row[0] for row in capped] if fetch else capped.count()
        if fetch:
            self.facet_names = found
            return len(found)
        return found

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("EntryResults only supports slices")
        start, stop = index.start or 0, index.stop
        queryset, in_title = self.queryset, self.in_title
        if uses_sqlite_index() and self.count() > MAX_COUNTED_RESULTS:
            # Many matches (the paginator has counted them already): walk the list order.
            queryset = _walking(queryset)
            in_title = None if in_title is None else _walking(in_title)
        columns = self.columns
        if not self.ranked_terms:
            if columns:
                return list(queryset.values_list("pk", *columns)[start:stop])
            return list(queryset.values_list("pk", flat=True)[start:stop])
        # Rows are (id, issue date, digest, position, tier, *columns): ``_union_of_limited``
        # orders by position.
        rows = self._cut_tiers(stop, columns)
        in_page_order = False
        if rows is None:
            tiers = [tier[:stop] for tier in self._entry_tiers(queryset, in_title, columns)]
            if connection.features.supports_slicing_ordering_in_compound:
                rows = list(tiers[0].union(*tiers[1:], all=True))
            else:
                rows, in_page_order = _union_of_limited(*tiers, stop=stop), True
        if not in_page_order:
            rows = sorted(rows, key=lambda row: (-row[4], _descending(row[1]), -row[2], row[3]))
        rows = rows[start:stop]
        if columns:
            return [(row[0], *row[5:]) for row in rows]
        return [row[0] for row in rows]


def _cut_tiers_of(tier_rows, stop, columns) -> list[tuple] | None:
    """The rows (id, issue date, digest, position, tier, *columns) of every tier's first
    ``stop`` matches, each tier cut on the search rows alone and only then joined to its
    entries, in one statement: written on the entries, PostgreSQL joined every candidate
    (1,494 for "reasoning" in cs.CL) before sorting and cutting. Raw SQL around the two
    compiled querysets, because their conditions name the search table, which Django would
    re-alias inside a subquery. None when a tier can match nothing."""

    entry = connection.ops.quote_name(Entry._meta.db_table)
    extra = "".join(f", e.{connection.ops.quote_name(column)}" for column in columns)
    parts, params = [], []
    for tier, rows in tier_rows:
        cut = rows.order_by("-issue_date", "-digest_pk", "position").values_list(
            "entry_id", "issue_date", "digest_pk", "position"
        )
        if stop is not None:
            cut = cut[:stop]
        try:
            sql, part_params = cut.query.get_compiler(cut.db).as_sql()
        except EmptyResultSet:
            continue
        parts.append(
            f"SELECT cut.entry_id, cut.issue_date, cut.digest_pk, cut.position, {tier}{extra} "
            f"FROM ({sql}) cut INNER JOIN {entry} e ON e.id = cut.entry_id"
        )
        params.extend(part_params)
    if not parts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(f"({part})" for part in parts), params)
        return cursor.fetchall()


# Planner settings turned off for the capped count on PostgreSQL (``_bitmap_count``). JIT
# too: a plan that needs a disabled node anyway (a filter no index answers) is costed at
# 10^10, far above jit_above_cost, and compiling it took 60 ms.
_COUNT_PLAN_OFF = ("enable_seqscan", "enable_indexscan", "jit")
_COUNT_SAVEPOINT = "papers_capped_count"


def _bitmap_count(capped, *, fetch: bool = False):
    """``capped.count()`` with the matches taken from the GIN indexes' bitmap.

    For a word found in a fifth of the archive, the planner estimates that reading rows in
    table or key order finds the first 1001 matches soonest. It does not know that testing
    each row detoasts its search vector (about 20 µs): 40–100 ms where the bitmap of the
    20,000 matches and 1001 heap rows take 8 ms, and which plan wins depends on the last
    ANALYZE's sample. The count therefore runs with sequential and plain index scans off:
    ``SET LOCAL`` in the same one-round-trip statement, which PostgreSQL runs as one
    implicit transaction; inside an open transaction, within a savepoint rolled back after
    the count, which undoes the settings and leaves the transaction's own as they were.
    ``fetch``: the rows' first column instead of their number."""
    try:
        sql, params = capped.query.get_compiler(using=capped.db).as_sql()
    except EmptyResultSet:  # a filter that can match nothing (``.none()``)
        return [] if fetch else 0
    connection = connections[capped.db]
    off = "".join(f"SET LOCAL {name} = off; " for name in _COUNT_PLAN_OFF)
    back = ""
    if connection.in_atomic_block:
        off = f"SAVEPOINT {_COUNT_SAVEPOINT}; {off}"
        back = f"; ROLLBACK TO SAVEPOINT {_COUNT_SAVEPOINT}; RELEASE SAVEPOINT {_COUNT_SAVEPOINT}"
    select = "capped.*" if fetch else "COUNT(*)"
    with connection.cursor() as cursor:
        cursor.execute(f"{off}SELECT {select} FROM ({sql}) capped{back}", params)
        while cursor.description is None and cursor.nextset():
            pass  # past the SETs' results to the count's
        if fetch:
            return [row[0] for row in cursor.fetchall()]
        return cursor.fetchone()[0]


def _fts_driven_count(capped, *, fetch: bool = False):
    """``capped.count()`` of search rows (SQLite) with the FTS5 matches as the join's outer
    loop, each probing the covering state index until 1001 are found.

    Written as ``entry_id IN (SELECT rowid … MATCH …)``, SQLite first builds the whole
    match set in a temporary b-tree: 4–7 ms for a tag on a sixth of 100,000 entries, where
    the first 1001 matches, read lazily from the doclist, take 0.8 ms. ``CROSS JOIN`` fixes
    the order. Any other shape (no FTS5 match, two of them, words tested apart from
    the search rows) is counted as written. ``fetch``: the rows' first column instead of
    their number."""

    query = capped.query.clone()
    query.fts_join = True
    try:
        sql, params = query.get_compiler(using=capped.db).as_sql()
    except EmptyResultSet:  # a filter that can match nothing (``.none()``)
        return [] if fetch else 0
    table = connection.ops.quote_name(EntrySearch._meta.db_table)
    head = f"FROM {table} WHERE "
    if sql.count(f"{FTS_TABLE} MATCH") != 1 or sql.count(head) != 1 or " IN (SELECT" in sql:
        return [row[0] for row in capped] if fetch else capped.count()
    sql = sql.replace(head, f"FROM {FTS_TABLE} CROSS JOIN {table} WHERE ")
    with connections[capped.db].cursor() as cursor:
        if fetch:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) capped", params)
        return cursor.fetchone()[0]


def _walking(queryset):
    """``queryset`` with its FTS5 conditions written for a walk of the list order
    (``FtsMatch``)."""
    queryset = queryset.all()
    queryset.query.walk_sort_index = True
    return queryset


def _union_of_limited(*querysets, stop) -> list[tuple]:
    """The rows of a UNION ALL of the two tiers' (pk, issue date, digest, position, tier,
    …) rows in page order, as the database returns them (no field converters), for
    SQLite, whose compound SELECT Django writes without each part's
    ORDER BY and LIMIT: SQLite accepts them in a subquery per part, so the SQL is put
    together here. Still one query, each part one cut walk of the sort index."""
    parts, params = [], []
    for queryset in querysets:
        try:
            sql, part_params = queryset.query.get_compiler(queryset.db).as_sql()
        except EmptyResultSet:  # a filter that can match nothing (``.none()``)
            continue
        parts.append(f"SELECT * FROM ({sql})")
        params.extend(part_params)
    if not parts:
        return []
    # By position: tier, then issue date, digest (newest first) and position.
    statement = " UNION ALL ".join(parts) + " ORDER BY 5 DESC, 2 DESC, 3 DESC, 4 LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, -1 if stop is None else stop])
        return cursor.fetchall()


def _descending(day):
    return -day.toordinal() if day else 0


class CappedPage(Page):
    """A page of a list whose count stopped at the cap: whether a next page exists is known
    from one extra id fetched with the page, not from the count."""

    def __init__(self, object_list, number, paginator, has_more: bool):
        super().__init__(object_list, number, paginator)
        self._has_more = has_more

    def has_next(self):
        return self._has_more

    def end_index(self):
        return self.start_index() + len(self.object_list) - 1 if self.object_list else 0


MAX_PAGED_OFFSET = 10**6  # rows a capped list may skip: far past any reader, far from 2**63


class CappedCountPaginator(Paginator):
    """Counts at most ``MAX_COUNTED_RESULTS`` results (a bounded ``LIMIT`` subquery): a word
    or tag found in half the archive must not cost a full count. Readers see "more than
    1000" and can still page on past page 50: beyond the cap, a page is fetched with one
    extra id, which tells whether another page follows (an empty page is a 404)."""

    @cached_property
    def count(self):
        if isinstance(self.object_list, EntryResults):
            return self.object_list.count()
        return self.object_list.order_by()[: MAX_COUNTED_RESULTS + 1].count()

    @property
    def is_capped(self):
        return self.count > MAX_COUNTED_RESULTS

    def validate_number(self, number):
        if not self.is_capped:
            return super().validate_number(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if (number - 1) * self.per_page > MAX_PAGED_OFFSET:  # no database takes such an offset
            raise EmptyPage(self.error_messages["no_results"])
        return number

    def page(self, number):
        number = self.validate_number(number)
        if not self.is_capped:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        items = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not items and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return CappedPage(items[: self.per_page], number, self, len(items) > self.per_page)


def plain_text(markdown: str) -> str:
    """Section Markdown without list markers and emphasis, for snippets."""
    text = _MARKDOWN_NOISE.sub("", markdown or "")
    return _EMPHASIS.sub(lambda match: match.group(1) or match.group(2), text)


@dataclass(frozen=True)
class Piece:
    """A piece of a highlighted text: plain, or a match of a query term (``match``). The
    template escapes it and wraps a match in <mark> (templates/includes/_highlighted.html),
    so no markup is built here."""

    text: str
    match: bool = False


def _needle_pattern(query_terms: list[QueryTerm]):
    needles = sorted({t.text for t in query_terms if t.text}, key=len, reverse=True)
    if not needles:
        return None
    return re.compile("|".join(re.escape(n) for n in needles), flags=re.IGNORECASE)


def snippet(text: str, query_terms: list[QueryTerm], *, width: int = 120) -> list[Piece]:
    """A window of ``text`` around the first match of any term, as pieces with every
    match marked (``highlight``). Without a match: the start of the text."""
    text = re.sub(r"\s+", " ", text or "").strip()
    pattern = _needle_pattern(query_terms)
    match = pattern.search(text) if pattern else None
    if match:
        start = max(0, match.start() - width // 3)
        window = text[start : start + width]
        prefix = "…" if start > 0 else ""
        suffix = "…" if start + width < len(text) else ""
    else:
        window, prefix = text[:width], ""
        suffix = "…" if len(text) > width else ""
    pieces = highlight(window, query_terms)
    if prefix:
        pieces.insert(0, Piece(prefix))
    if suffix:
        pieces.append(Piece(suffix))
    return pieces


def highlight(text: str, query_terms: list[QueryTerm]) -> list[Piece]:
    """``text`` as pieces, the matches of the query terms (any case) marked."""
    pattern = _needle_pattern(query_terms)
    if pattern is None or not text:
        return [Piece(text or "")]
    pieces, last = [], 0
    for match in pattern.finditer(text):
        if match.start() > last:
            pieces.append(Piece(text[last : match.start()]))
        pieces.append(Piece(match.group(0), match=True))
        last = match.end()
    if last < len(text):
        pieces.append(Piece(text[last:]))
    return pieces


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
        summary,
        paper.authors,
        paper.affiliations,
        paper.abstract,
        paper.arxiv_id or "",
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
        "title_terms": term_text(paper.title, title_zh),
        "body_terms": term_text(*body_parts),
        "summary": summary,
        "plain": "\n".join(part.strip() for part in plain_parts if part.strip()),
        "facets": f" {' '.join(facets)} " if facets else "",
    }


def refresh_entries(entry_ids) -> int:
    """(Re)build the search rows of the given entries (text, facets, sort key and publication
    state) in a fixed number of queries: five, whatever the number of entries, so bulk
    loaders call it in chunks of a few hundred ids. Entries that no longer exist are skipped
    (their rows went with them)."""
    entry_ids = list({int(pk) for pk in entry_ids})
    if not entry_ids:
        return 0
    entries = list(
        Entry.objects.filter(pk__in=entry_ids)
        .select_related("digest", "paper__primary_category")
        .only(
            "id",
            "position",
            "title_zh",
            "digest__issue_date",
            "digest__status",
            "digest__published_at",
            "digest__expires_at",
            "paper__arxiv_id",
            "paper__title",
            "paper__authors",
            "paper__affiliations",
            "paper__abstract",
            "paper__primary_category__code",
            "paper__primary_category__name",
        )
    )
    if not entries:
        return 0
    kinds = {
        pk: (order, slug, name)
        for pk, order, slug, name in SectionKind.objects.values_list(
            "pk", "order", "slug", "name_zh"
        )
    }
    sections = defaultdict(list)
    for entry_id, kind_id, body in Section.objects.filter(entry_id__in=entry_ids).values_list(
        "entry_id", "kind_id", "body"
    ):
        order, slug, name = kinds[kind_id]
        sections[entry_id].append((order, kind_id, slug, name, body))
    tags = defaultdict(list)
    tag_ids = defaultdict(list)
    tag_rows = defaultdict(list)
    for object_id, tag_id, name, tag_slug in TaggedEntry.objects.filter(
        content_object_id__in=entry_ids
    ).values_list("content_object_id", "tag_id", "tag__name", "tag__slug"):
        tags[object_id].append(name)
        tag_ids[object_id].append(tag_id)
        tag_rows[object_id].append((tag_id, tag_slug, name))
    cross = defaultdict(list)  # paper id -> [(category id, code)], cross-list categories
    for paper_id, category_id, code in Paper.categories.through.objects.filter(
        paper_id__in={entry.paper_id for entry in entries}
    ).values_list("paper_id", "category_id", "category__code"):
        cross[paper_id].append((category_id, code))
    rows = []
    for entry in entries:
        paper, digest = entry.paper, entry.digest
        categories = [paper.primary_category.code, paper.primary_category.name]
        categories += [code for _pk, code in cross[paper.pk]]
        facets = [facet_token("t", pk) for pk in tag_ids[entry.pk]]
        facets.append(facet_token("c", paper.primary_category_id))
        facets += [facet_token("c", pk) for pk, _code in cross[paper.pk]]
        document = document_for(
            paper=paper,
            title_zh=entry.title_zh,
            sections=[item[2:] for item in sorted(sections[entry.pk], key=lambda i: i[:2])],
            tag_names=tags[entry.pk],
            categories=categories,
            facets=facets,
        )
        codes = [paper.primary_category.code] + [code for _pk, code in cross[paper.pk]]
        category_ids = [paper.primary_category_id] + [pk for pk, _code in cross[paper.pk]]
        document["facet_names"] = facet_names_text(
            tags=sorted(tag_rows[entry.pk]),
            categories=list(zip(category_ids, codes, strict=True)),
            affiliations=split_lines(paper.affiliations),
        )
        rows.append(
            EntrySearch(
                entry_id=entry.pk,
                issue_date=digest.issue_date,
                digest_pk=digest.pk,
                position=entry.position,
                status=digest.status,
                published_at=digest.published_at,
                expires_at=digest.expires_at,
                **document,
            )
        )
    EntrySearch.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["entry"],
        update_fields=[*DOCUMENT_FIELDS, *STATE_FIELDS],
    )
    return len(rows)


def _facet_field(value: str) -> str:
    """A name on one line of ``facet_names``: no tab or line break can split it."""
    return " ".join(value.split())


def facet_names_text(*, tags, categories, affiliations) -> str:
    """The ``facet_names`` of a search row (reading/facets.py reads it): a line per tag
    (``t12``, slug, name), category (``c7``, code) and affiliation (``a``, name), each
    value once."""
    lines = [
        f"{facet_token('t', pk)}\t{_facet_field(slug)}\t{_facet_field(name)}"
        for pk, slug, name in tags
    ]
    seen = set()
    for pk, code in categories:
        if pk not in seen:
            seen.add(pk)
            lines.append(f"{facet_token('c', pk)}\t{_facet_field(code)}")
    names = set()
    for name in affiliations:
        name = _facet_field(name)
        if name and name.casefold() not in names:
            names.add(name.casefold())
            lines.append(f"a\t{name}")
    return "\n".join(lines)


# The copies of the entry's sort key and its digest's publication state on the search row.
DOCUMENT_FIELDS = ("title_terms", "body_terms", "summary", "plain", "facets", "facet_names")
STATE_FIELDS = ("issue_date", "digest_pk", "position", "status", "published_at", "expires_at")
_SYNC_CHUNK = 500


def sync_entry_state(*, digest_ids=None, entry_ids=None) -> None:
    """Copy the sort key and publication state of entries into their search rows, for the
    entries of ``digest_ids``, the entries ``entry_ids``, or (both None) every entry: one
    ``UPDATE … FROM`` per 500 ids on PostgreSQL, a row-value subquery on SQLite. Called
    whenever a digest's status, times or issue date change (a Digest post_save), when
    positions are moved in bulk, and after bulk loads that bypass the models."""
    quote = connection.ops.quote_name
    search, entry, digest = (quote(model._meta.db_table) for model in (EntrySearch, Entry, Digest))
    if connection.vendor == "postgresql":
        statement = (
            f"UPDATE {search} SET issue_date = d.issue_date, digest_pk = e.digest_id, "
            "position = e.position, status = d.status, published_at = d.published_at, "
            f"expires_at = d.expires_at FROM {entry} e INNER JOIN {digest} d "
            f"ON d.id = e.digest_id WHERE e.id = {search}.entry_id"
        )
    else:
        statement = (
            f"UPDATE {search} SET ({', '.join(STATE_FIELDS)}) = (SELECT d.issue_date, "
            "e.digest_id, e.position, d.status, d.published_at, d.expires_at "
            f"FROM {entry} e INNER JOIN {digest} d ON d.id = e.digest_id "
            f"WHERE e.id = {search}.entry_id) WHERE 1 = 1"
        )
    if digest_ids is None and entry_ids is None:
        with connection.cursor() as cursor:
            cursor.execute(statement)
        return
    for column, ids in (("digest_id", digest_ids), ("id", entry_ids)):
        ids = sorted({int(pk) for pk in ids or ()})
        for start in range(0, len(ids), _SYNC_CHUNK):
            chunk = ids[start : start + _SYNC_CHUNK]
            placeholders = ", ".join(["%s"] * len(chunk))
            condition = (
                f"{search}.entry_id IN (SELECT id FROM {entry} WHERE {column} IN ({placeholders}))"
            )
            with connection.cursor() as cursor:
                cursor.execute(f"{statement} AND {condition}", chunk)
