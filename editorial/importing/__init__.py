"""Digest import: pasted text (the site's layout or the older Markdown layout) -> a
structured draft.

``parse_digest(text, fmt)`` reads the text into plain structures (``common``) without
touching the database except to read the SectionKind table; ``plan_import`` (``plan``) finds
what storing them would do by reading alone (the preview); ``write_digest`` (``writer``)
makes that plan again in one transaction and stores it. The admin page and
``manage.py import_digest`` both go through these functions.
"""

from editorial.importing.common import DigestImportError, ImportReport, ParsedDigest, ParsedEntry
from editorial.importing.layouts import ImportOptions
from editorial.importing.parse import (
    decode_upload,
    detect_format,
    parse_digest,
    resolve_label_map,
)
from editorial.importing.plan import ImportPlan, PlannedEntry, plan_import
from editorial.importing.writer import WriteResult, write_digest

__all__ = [
    "DigestImportError",
    "ImportOptions",
    "ImportPlan",
    "ImportReport",
    "ParsedDigest",
    "ParsedEntry",
    "PlannedEntry",
    "WriteResult",
    "decode_upload",
    "detect_format",
    "parse_digest",
    "resolve_label_map",
    "plan_import",
    "write_digest",
]
