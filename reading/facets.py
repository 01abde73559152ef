"""Facets of an entry list: the tags, categories and affiliations of the current result, each
with its number of papers and a link that adds (or, when active, removes) it as a filter.

The counts cost no query of their own. The list's capped count (reading/search.py,
``EntryResults``) reads the ``facet_names`` of its first 1001 matches instead of counting
them (one line per value: ``t12, slug, name`` per tag, ``c7, code`` per category, ``a,
name`` per affiliation; built by ``refresh_entries``), and the values are counted here.
Matches are published entries only, as the list's. Beyond 1000 matches the counts are
those of the 1001 matches read, and the page says so.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain

from django.http import QueryDict
from django.urls import reverse

from reading.search import MAX_COUNTED_RESULTS, facet_token

FACET_LIMIT = 10  # values shown per facet, most frequent first (and any chosen one)


@dataclass
class FacetValue:
    """One value of a facet: what it shows, its count, and where its link leads."""

    label: str
    count: int
    url: str
    active: bool = False
    removable: bool = True


@dataclass
class Facet:
    name: str  # "tag", "category", "affiliation": the URL parameter
    values: list[FacetValue] = field(default_factory=list)


@dataclass
class Facets:
    groups: list[Facet]
    sampled: bool  # counted over the first matches only (more than the counting cap)

    def __bool__(self):
        return any(group.values for group in self.groups)


def count_values(facet_names: list[str]):
    """Per tag, category and affiliation: (count, what it shows). Tags and categories are
    told apart by id; affiliations by their case-folded name, shown as most often written.
    The lines are counted first (in C: a thousand rows of a few lines each), then each
    distinct line is read once."""
    lines = Counter(chain.from_iterable(map(str.splitlines, filter(None, facet_names))))
    tags: dict[str, tuple[str, str]] = {}
    categories: dict[str, str] = {}
    spellings: dict[str, Counter] = {}
    counts: Counter = Counter()
    for line, count in lines.items():
        parts = line.split("\t")
        kind = parts[0]
        if kind == "a" and len(parts) == 2:
            key = "a:" + parts[1].casefold()
            spellings.setdefault(key, Counter())[parts[1]] += count
        elif kind.startswith("t") and len(parts) == 3:
            key = kind
            tags[key] = (parts[1], parts[2])
        elif kind.startswith("c") and len(parts) == 2:
            key = kind
            categories[key] = parts[1]
        else:
            continue
        counts[key] += count
    affiliations = {key: spelled.most_common(1)[0][0] for key, spelled in spellings.items()}
    return counts, tags, categories, affiliations


def _url(path: str, params: QueryDict, name: str, *, add: str = "", remove: str = "") -> str:
    """``path`` with ``params``, ``remove`` taken from ``name``'s values (compared without
    case) and ``add`` added (single-valued parameters replaced), without the page number;
    neither: without ``name``."""
    query = params.copy()
    query.pop("page", None)
    values = [v for v in query.getlist(name) if v.strip()] if add or remove else []
    if remove:
        values = [v for v in values if v.casefold() != remove.casefold()]
    if add:
        values = [*values, add] if name == "tag" else [add]
    query.setlist(name, values)
    if not values:
        query.pop(name, None)
    encoded = query.urlencode()
    return f"{path}?{encoded}" if encoded else path


def build_facets(facet_names, *, filterset, params: QueryDict, path: str) -> Facets:
    """The facets of a list from its matches' ``facet_names`` (``EntryResults``)."""
    counts, tags, categories, affiliations = count_values(facet_names or [])
    preset = filterset.preset
    active_tags = {facet_token("t", tag.pk) for tag in filterset.tags}
    active_categories = {facet_token("c", category.pk) for category in filterset.categories}
    data = filterset.form.cleaned_data if filterset.form.is_valid() else {}
    affiliation = (data.get("affiliation") or "").casefold()
    chosen_keys = {*active_tags, *active_categories, "a:" + affiliation}

    def ranked(keys):
        """The FACET_LIMIT most frequent values (links are built for those alone), and the
        active ones."""
        chosen = heapq.nsmallest(FACET_LIMIT, keys, key=lambda key: (-counts[key], key))
        chosen += [key for key in keys if key in chosen_keys and key not in chosen]
        return chosen

    tag_values = []
    for key in ranked(tags):
        slug, name = tags[key]
        active = key in active_tags
        # The tag as the reader named it (slug, name, in any case) or its slug.
        named = next(
            (
                v
                for v in params.getlist("tag")
                if v.casefold() in {slug.casefold(), name.casefold()}
            ),
            slug,
        )
        in_preset = active and preset.get("tag", "").casefold() in {
            slug.casefold(),
            name.casefold(),
        }
        url = (
            _url(path, params, "tag", remove=named)
            if active
            else _url(path, params, "tag", add=slug)
        )
        tag_values.append(FacetValue(name, counts[key], url, active, not in_preset))
    category_values = []
    for key in ranked(categories):
        code = categories[key]
        active = key in active_categories
        if "category" in preset:  # a category's page: another category is another page
            url = _url(reverse("reading:category-entries", args=[code]), params, "category")
        elif active:
            url = _url(path, params, "category", remove=params.get("category", ""))
        else:
            url = _url(path, params, "category", add=code)
        category_values.append(FacetValue(code, counts[key], url, active, "category" not in preset))
    affiliation_values = []
    for key in ranked(affiliations):
        name = affiliations[key]
        active = bool(affiliation) and name.casefold() == affiliation
        if "affiliation" in preset:
            url = _url(reverse("reading:affiliation-entries", args=[name]), params, "affiliation")
        elif active:
            url = _url(path, params, "affiliation", remove=name)
        else:
            url = _url(path, params, "affiliation", add=name)
        affiliation_values.append(
            FacetValue(name, counts[key], url, active, "affiliation" not in preset)
        )
    groups = [
        Facet("tag", tag_values),
        Facet("category", category_values),
        Facet("affiliation", affiliation_values),
    ]
    return Facets(groups, sampled=len(facet_names or []) > MAX_COUNTED_RESULTS)
