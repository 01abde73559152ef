"""Digest import: pasted text (the site's layout or the older Markdown layout) -> a
structured draft.

``parse_digest(text, fmt)`` reads the text into plain structures (``common``) without
touching the database except to read the SectionKind table; ``write_digest`` (``writer``)
creates the rows in one transaction. The admin page and ``manage.py import_digest`` both go
through these two functions.
"""

from editorial.importing.common import DigestImportError, ImportReport, ParsedDigest, ParsedEntry
from editorial.importing.parse import decode_upload, detect_format, parse_digest
from editorial.importing.writer import WriteResult, write_digest

__all__ = [
    "DigestImportError",
    "ImportReport",
    "ParsedDigest",
    "ParsedEntry",
    "WriteResult",
    "decode_upload",
    "detect_format",
    "parse_digest",
    "write_digest",
]
