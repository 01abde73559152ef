"""URL converters: ISO dates and stored arXiv ids (both schemes)."""

import datetime

from .arxiv_ids import URL_PATTERN


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
    regex = URL_PATTERN

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value
