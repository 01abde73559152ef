"""What an empty list or search offers instead: the tags closest to what the reader typed,
and the same list without its rarest filter.

Both run only on a page with no result, which has spare queries (no rows, no tags to load):
one query for the published tags' names, one for the capped count of each filter alone
(a ``UNION ALL`` of counts, each stopping at 1001 like the list's own).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connection

from papers.models import Entry, published_q
from reading.filters import published_tag_lookup
from reading.models import EntrySearch
from reading.search import MAX_COUNTED_RESULTS, facet_token, match_condition, parse_query

MAX_SUGGESTED_TAGS = 5
MAX_TAGS_COMPARED = 2000  # the most tags read to find the closest ones
CLOSE_ENOUGH = 0.5  # difflib's ratio, 0 to 1


@dataclass
class TagSuggestion:
    name: str
    slug: str


def closest_tags(needles: list[str]) -> list[TagSuggestion]:
    """The published tags closest to ``needles`` (the words searched, tags not found): a
    tag containing a needle or contained in it first, then by similarity of spelling (any
    case). One query."""
    needles = [n.casefold() for n in dict.fromkeys(n.strip() for n in needles) if n]
    if not needles:
        return []
    tags = published_tag_lookup().order_by("name").values_list("name", "slug")
    scored = []
    for name, slug in tags[:MAX_TAGS_COMPARED]:
        folded = name.casefold()
        best = 0.0
        for needle in needles:
            if needle in folded or (len(folded) > 1 and folded in needle):
                best = max(best, 1.0 + len(needle) / max(len(folded), 1))
            else:
                best = max(best, difflib.SequenceMatcher(None, needle, folded).ratio())
        if best >= CLOSE_ENOUGH:
            scored.append((-best, folded, name, slug))
    scored.sort()
    return [TagSuggestion(name, slug) for _score, _folded, name, slug in scored][
        :MAX_SUGGESTED_TAGS
    ]


def _alone(filterset, key: str, value: str):
    """The published matches of one filter value alone (search rows or entries), or None
    when the value names nothing (an unknown tag or category: no match at all)."""
    rows = EntrySearch.objects.filter(published_q(""))
    if key == "q":
        condition = match_condition(parse_query(value), prefix="")
        return rows if condition is None else rows.filter(condition)
    if key == "tag":
        group = filterset.tag_groups.get(value)
        return rows.filter(match_condition([], [group], prefix="")) if group else None
    if key == "category":
        tokens = [facet_token("c", category.pk) for category in filterset.categories]
        return rows.filter(match_condition([], [tokens], prefix="")) if tokens else None
    data = filterset.form.cleaned_data if filterset.form.is_valid() else {}
    if key == "date_from" and data.get("date_from"):
        return rows.filter(issue_date__gte=data["date_from"])
    if key == "date_to" and data.get("date_to"):
        return rows.filter(issue_date__lte=data["date_to"])
    if key == "digest" and data.get("digest"):
        return rows.filter(digest_pk=data["digest"].pk)
    if key in ("affiliation", "author"):
        field = "paper__affiliations" if key == "affiliation" else "paper__authors"
        return Entry.objects.filter(published_q("search__"), **{f"{field}__icontains": value})
    return None


def capped_counts(querysets: list) -> list[int]:
    """The number of rows of each queryset (None: 0), each counted up to 1001, in one
    query."""
    parts, params, counts = [], [], [0] * len(querysets)
    for index, queryset in enumerate(querysets):
        if queryset is None:
            continue
        capped = queryset.order_by().values("pk")[: MAX_COUNTED_RESULTS + 1]
        try:
            sql, part_params = capped.query.get_compiler(capped.db).as_sql()
        except EmptyResultSet:
            continue
        parts.append(f"SELECT {index}, COUNT(*) FROM ({sql}) capped_{index}")
        params.extend(part_params)
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for index, count in cursor.fetchall():
                counts[index] = count
    return counts


def rarest_chip(filterset, chips: list[dict]) -> dict | None:
    """Of the reader's active filters (``chips``, at least two), the one with the fewest
    matches alone: the list without it is the likeliest to find something. None for a
    single filter (without it the list would be filtered by nothing)."""
    if len(chips) < 2:
        return None
    counts = capped_counts([_alone(filterset, chip["key"], chip["raw"]) for chip in chips])
    index = min(range(len(chips)), key=lambda i: (counts[i], i))
    return {**chips[index], "alone": counts[index]}
