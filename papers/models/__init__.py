"""The app's models, one module per area; everything is re-exported here so that
``from papers.models import Digest`` keeps working whichever module defines it."""

from .core import (
    SECTIONS_WITH_KIND,
    ArxivIdField,
    Category,
    Digest,
    DigestQuerySet,
    Entry,
    EntryQuerySet,
    Figure,
    Paper,
    PaperQuerySet,
    Section,
    SectionKind,
    SiteSettings,
    TaggedDigest,
    TaggedEntry,
    figure_upload_to,
    published_q,
    split_lines,
)
from .reading import EntrySearch

__all__ = [
    "SECTIONS_WITH_KIND",
    "ArxivIdField",
    "Category",
    "Digest",
    "DigestQuerySet",
    "Entry",
    "EntryQuerySet",
    "Figure",
    "Paper",
    "PaperQuerySet",
    "Section",
    "SectionKind",
    "SiteSettings",
    "TaggedDigest",
    "TaggedEntry",
    "figure_upload_to",
    "published_q",
    "split_lines",
    "EntrySearch",
]
