"""Filters of the public entry lists (HTML pages and the JSON API), with django-filter.

``EntryFilter`` always receives an explicit base queryset (``Entry.objects.published()``).
Every value from the URL is validated by the form: a malformed date, an unknown digest or
sort order is a form error (the list is then empty and the error is shown); an unknown tag or
category is not an error but a *notice* ("there is no tag …"), and the list is empty.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from taggit.models import Tag

from papers.models import Category, Digest, TaggedEntry, published_q
from reading.models import EntryFacets, EntrySearch
from reading.search import (
    DATE_ORDER,
    MAX_QUERY_LENGTH,
    EntryResults,
    apply_search,
    facet_token,
    match_condition,
    title_tier,
    title_tiers,
    uses_postgres_index,
)

FACET_TABLE = EntryFacets._meta.db_table

MAX_TAGS = 5


def published_tag_lookup():
    """Tags that are on at least one published entry: a tag used only on drafts is as
    unknown to readers as a tag that does not exist.

    The test is a scalar ``(SELECT … LIMIT 1) IS NOT NULL`` on the search rows' copy of the
    publication state rather than ``EXISTS``: PostgreSQL turns an EXISTS into a semi-join
    and builds a bitmap of every entry of the tag (37,000 for a common one at 100,000
    papers, 2 ms), where the subquery stops at the first published entry it meets."""
    first_published = (
        TaggedEntry.objects.filter(published_q("content_object__search__"), tag=OuterRef("pk"))
        .order_by()
        .values("pk")[:1]
    )
    return Tag.objects.alias(first_published=Subquery(first_published)).filter(
        first_published__isnull=False
    )


def published_tags_named(values) -> list[Tag]:
    """The published tags named (slug or name, in any case: ``Llm`` names ``LLM``) by
    ``values``."""
    named = Q()
    for value in values:
        named |= Q(slug__iexact=value) | Q(name__iexact=value)
    return list(published_tag_lookup().filter(named))


def categories_for_code(code: str) -> list[Category]:
    """The categories a code names (``cs.LG``, or ``LG`` for every archive's LG)."""
    return list(Category.objects.filter(Q(code__iexact=code) | Q(code__iendswith=f".{code}")))


class MultiValueField(forms.Field):
    """Several values of one parameter (``?tag=a&tag=b``), stripped, empty ones dropped."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        cleaned = []
        for item in value:
            item = str(item).strip()
            # As Django's CharField does: a NUL cannot reach the database (PostgreSQL refuses
            # it in a string, which would be a 500).
            ProhibitNullCharactersValidator()(item)
            if item and item not in cleaned:
                cleaned.append(item[:100])
        if len(cleaned) > MAX_TAGS:
            raise forms.ValidationError(
                _("Choose at most %(count)d tags."), params={"count": MAX_TAGS}
            )
        return cleaned


class MultiValueFilter(django_filters.Filter):
    field_class = MultiValueField


class EntryFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date must not be before the start date."))
        if cleaned.get("sort") == EntryFilter.SORT_RELEVANCE and not cleaned.get("q"):
            cleaned["sort"] = ""  # relevance needs a query; fall back to the default order
        return cleaned


class EntryFilter(django_filters.FilterSet):
    """Published entries by search words, tags (all of them), category, affiliation, author,
    date range and digest, sorted by date, views or relevance."""

    SORT_DATE = "date"
    SORT_VIEWS = "views"
    SORT_RELEVANCE = "relevance"

    q = django_filters.CharFilter(
        label=_("Search"), method="filter_search", max_length=MAX_QUERY_LENGTH
    )
    tag = MultiValueFilter(label=_("Tags"), method="filter_tags")
    category = django_filters.CharFilter(
        label=_("Category"), method="filter_category", max_length=30
    )
    affiliation = django_filters.CharFilter(
        label=_("Affiliation"),
        field_name="paper__affiliations",
        lookup_expr="icontains",
        max_length=100,
    )
    author = django_filters.CharFilter(
        label=_("Author"), field_name="paper__authors", lookup_expr="icontains", max_length=100
    )
    date_from = django_filters.DateFilter(
        label=pgettext_lazy("date range", "From"),
        field_name="search__issue_date",
        lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        label=pgettext_lazy("date range", "To"),
        field_name="search__issue_date",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    digest = django_filters.ModelChoiceFilter(
        label=_("Digest"), queryset=Digest.objects.published(), widget=forms.HiddenInput
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"),
        method="filter_sort",
        empty_label=None,
        null_label=None,
        choices=[
            (SORT_DATE, _("Newest first")),
            (SORT_VIEWS, _("Most viewed")),
            (SORT_RELEVANCE, _("Relevance")),
        ],
    )

    class Meta:
        form = EntryFilterForm
        fields = []  # all declared above

    # Whether the matches are the search rows' alone; False when the base queryset carries
    # a condition of its own (the section page's "has this section"), which counts and
    # pages must then read through the entries.
    rows_only = True
    # What else the base queryset is restricted by, for kept counts (``count_key``): the
    # section page's kind.
    scope: tuple = ()
    # Filters that reach the queries as parsed words and facet tokens, and the order.
    _MATCHED = frozenset({"q", "tag", "category", "sort"})
    # Filters the search rows can test themselves (``search_rows``).
    _ON_SEARCH_ROWS = frozenset({"q", "tag", "category", "sort", "date_from", "date_to", "digest"})

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, preset=None):
        # A preset (tag page, category page, …) is merged under the reader's own values.
        if data is not None:
            data = data.copy()
            for key, value in (preset or {}).items():
                if key == "tag":
                    data.setlist("tag", [value, *[v for v in data.getlist("tag") if v != value]])
                else:
                    data[key] = value
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.preset = preset or {}
        # The digest filter only validates against published digests at request time.
        self.filters["digest"].queryset = Digest.objects.published()
        self.notices: list[str] = []
        self.tags: list[Tag] = []
        # Each ``tag`` value as the reader wrote it -> its facet tokens ([] for no such tag).
        self.tag_groups: dict[str, list[str]] = {}
        self.categories: list[Category] = []
        self.query_terms = []
        self.sort_order = self.SORT_DATE
        self._raw_query = ""
        self._facets: list[list[str]] = []
        self._unsearched = None  # the filtered queryset before words and facets are applied

    # django-filter runs the filters in declaration order, then ``filter_queryset`` below
    # applies the order (it needs to know whether a search ran).

    # Words, tags and categories are collected here and applied together at the end, as
    # one index lookup (reading/search.py: apply_search).

    def filter_search(self, queryset, name, value):
        self._raw_query = value
        return queryset

    def filter_tags(self, queryset, name, values):
        if not values:
            return queryset
        found = {}  # a case-folded slug or name -> the tags it names
        for tag in sorted(published_tags_named(values), key=lambda tag: tag.pk):
            for key in {tag.slug.casefold(), tag.name.casefold()}:
                found.setdefault(key, []).append(tag)
        self.tags = []
        self.tag_groups = {value: [] for value in values}
        unknown = False
        for value in values:
            tags = found.get(value.casefold())
            if not tags:
                self.notices.append(gettext("There is no tag “%(tag)s”.") % {"tag": value})
                unknown = True
                continue
            self.tags.extend(tag for tag in tags if tag not in self.tags)
            # All of the values; a value naming several tags (``LLM`` and ``llm``), any of them.
            self.tag_groups[value] = [facet_token("t", tag.pk) for tag in tags]
            self._facets.append(self.tag_groups[value])
        return queryset.none() if unknown else queryset

    def filter_category(self, queryset, name, value):
        self.categories = categories_for_code(value.strip().lower())
        if not self.categories:
            self.notices.append(
                gettext("There is no category “%(category)s”.") % {"category": value}
            )
            return queryset.none()
        # Any of them (LG may name several), as the primary or a cross-list category.
        self._facets.append([facet_token("c", category.pk) for category in self.categories])
        return queryset

    def filter_sort(self, queryset, name, value):
        self.sort_order = value or self.SORT_DATE
        return queryset

    def filter_queryset(self, queryset):
        if self.is_bound and not self.form.is_valid():
            return queryset.none()
        queryset = super().filter_queryset(queryset)
        self._unsearched = queryset
        queryset, self.query_terms = apply_search(queryset, self._raw_query, self._facets)
        sort = self.form.cleaned_data.get("sort") if self.is_bound else ""
        if not sort:
            sort = self.SORT_RELEVANCE if self.query_terms else self.SORT_DATE
        self.sort_order = sort
        if sort == self.SORT_RELEVANCE and self.query_terms:
            return queryset.order_by("-rank", *DATE_ORDER)
        if sort == self.SORT_VIEWS:
            return queryset.order_by("-view_count", *DATE_ORDER)
        return queryset.order_by(*DATE_ORDER)

    def results(self) -> EntryResults:
        """The ordered ids of the matching entries and their capped count (reading/search.py),
        for a paginator: pages are cut on ids, then the page's rows are loaded."""
        queryset = self.qs
        ranked = self.query_terms if self.sort_order == self.SORT_RELEVANCE else None
        in_title = None
        if ranked and self._unsearched is not None:
            # Every word in the title text implies every word in the whole text: the first
            # tier needs only the (small) title index, not also the body's.
            in_title = title_tier(self._unsearched, ranked, self._facets)
        return EntryResults(
            queryset,
            ranked_terms=ranked or None,
            in_title=in_title,
            count_rows=self.count_rows,
            indexed=bool(self.query_terms or self._facets),
            count_key=self.count_key(),
            tier_rows=self.tier_rows if ranked else None,
        )

    def count_key(self):
        """What the matches depend on besides the published content: the filters' values
        as the queries use them (parsed words, facet tokens, dates, digest, substrings).
        None for a list that matches nothing whatever the content (an invalid form, an
        unknown tag), whose count costs nothing."""
        if self.qs.query.is_empty() or not self.form.is_valid():
            return None
        values = tuple(
            (name, str(getattr(value, "pk", value)))  # a digest by its id
            for name, value in sorted(self.form.cleaned_data.items())
            if name not in self._MATCHED and value not in (None, "", [])
        )
        terms = tuple(repr(term) for term in self.query_terms)
        return (self.scope, terms, tuple(tuple(group) for group in self._facets), values)

    def search_rows(self, *, words: bool = True):
        """The matches as search rows alone (``EntrySearch``), when every active filter
        reads only the search row (words, tags, categories, dates, digest), else None.
        ``words=False``: without the words' condition (the first relevance tier's base).

        Their capped count then reads one table: joining each match to its entry cost a
        third of the count on PostgreSQL (1,001 index probes), for rows it never reads."""
        if not self._on_search_rows():
            return None
        rows = self._dated(EntrySearch.objects.filter(published_q("")))
        terms = self.query_terms if words else []
        condition = match_condition(terms, self._facets, prefix="")
        return rows if condition is None else rows.filter(condition)

    def count_rows(self):
        """What the capped count reads: on PostgreSQL, a filter of tags or categories
        without words counts the narrow facet table (``EntryFacets``: 2–4 ms where the
        wide search rows took 7–9); otherwise ``search_rows`` (None: the entries)."""
        if self.query_terms or not self._facets or not uses_postgres_index():
            return self.search_rows()
        if not self._on_search_rows():
            return None
        facets = self._dated(EntryFacets.objects.filter(published_q("")))
        return facets.filter(match_condition([], self._facets, prefix="", table=FACET_TABLE))

    def _on_search_rows(self) -> bool:
        """Whether every active filter reads only the search row (words, tags, categories,
        dates, digest) and the base queryset adds nothing of its own (``rows_only``)."""
        if not self.rows_only or self.qs.query.is_empty() or not self.form.is_valid():
            return False
        data = self.form.cleaned_data
        # The paper's fields (affiliation, author) need the entries' own join.
        return not any(
            v not in (None, "", []) for k, v in data.items() if k not in self._ON_SEARCH_ROWS
        )

    def _dated(self, rows):
        """``rows`` (search rows or their facet copy, which share these columns) within
        the form's date range and digest."""
        data = self.form.cleaned_data
        if data.get("date_from"):
            rows = rows.filter(issue_date__gte=data["date_from"])
        if data.get("date_to"):
            rows = rows.filter(issue_date__lte=data["date_to"])
        if data.get("digest"):
            rows = rows.filter(digest_pk=data["digest"].pk)
        return rows

    def tier_rows(self):
        """The relevance tiers (reading/search.py: ``title_tiers``) as (tier, search rows
        alone), or None (``search_rows``). The first needs no whole-text condition: every
        word in the title implies every word in the text."""
        rows = self.search_rows()
        if rows is None or not self.query_terms:
            return None
        result = []
        for tier, conditions in title_tiers(self.query_terms):
            tier_rows = self.search_rows(words=False) if tier == 2 else rows
            for condition in conditions:
                tier_rows = tier_rows.filter(condition)
            result.append((tier, tier_rows))
        return result

    @property
    def active_values(self) -> dict:
        """The reader's valid filter values (for chips and links), presets left out."""
        if not self.is_bound or not self.form.is_valid():
            return {}
        values = {}
        for name, value in self.form.cleaned_data.items():
            if name == "sort" or value in (None, "", []):
                continue
            values[name] = value
        return values
