"""URL converters: ISO dates, stored arXiv ids (both schemes; or a link-sourced item's
key), and names without control
characters (tags, categories, affiliations)."""

import datetime
import re

from django.urls import register_converter

from papers.arxiv_ids import URL_PATTERN


class IsoDateConverter:
    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError as exc:  # 2025-02-30: a 404, not a 500
            raise ValueError(value) from exc

    def to_url(self, value):
        if isinstance(value, str):
            return value
        return value.isoformat()


class ArxivIdConverter:
    """An entry's key: its paper's arXiv id, or ``link-<paper id>`` for an item that is not
    on arXiv (``Paper.url_key``)."""

    regex = rf"(?:{URL_PATTERN}|link-[1-9][0-9]{{0,17}})"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


# C0 controls and DEL: no tag, category or affiliation contains one (and a NUL cannot even be
# sent to PostgreSQL). A name must also have one visible character: a blank or NUL name used to
# reach the list view, which ignored it and answered 200 with the unfiltered list. Such a path
# now does not match, so it is a 404 before any view runs.
_CONTROL = r"\x00-\x1f\x7f"
_CONTROL_RE = re.compile(f"[{_CONTROL}]+")


class NameConverter:
    """One path segment (like ``str``) without control characters and not only spaces."""

    regex = rf"[^/{_CONTROL}]*[^/\s{_CONTROL}][^/{_CONTROL}]*"

    def to_python(self, value):
        return value

    def to_url(self, value):
        # A stored name with a stray tab still gets a link (to the same words) instead of
        # a NoReverseMatch on the page that shows it.
        return _CONTROL_RE.sub(" ", str(value))


class NamePathConverter(NameConverter):
    """Like ``path`` (slashes allowed: affiliation names contain them), without control
    characters and not only spaces and slashes."""

    regex = rf"[^{_CONTROL}]*[^/\s{_CONTROL}][^{_CONTROL}]*"


register_converter(IsoDateConverter, "isodate")
register_converter(ArxivIdConverter, "arxiv")
register_converter(NameConverter, "name")
register_converter(NamePathConverter, "namepath")
