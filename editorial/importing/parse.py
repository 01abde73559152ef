"""Entry points of the parser: decode what was uploaded or pasted, pick the layout, parse."""

from django.conf import settings
from django.utils.translation import gettext as _

from editorial.importing.common import DigestImportError, ParsedDigest
from editorial.importing.markdown import MarkdownLayoutParser
from editorial.importing.text import TextLayoutParser
from papers.models import SectionKind

FORMATS = ("auto", "text", "markdown")
PARSERS = {"text": TextLayoutParser, "markdown": MarkdownLayoutParser}


def decode_upload(data: bytes) -> str:
    """Bytes of an uploaded or pasted digest -> text, or a precise DigestImportError."""
    limit = settings.IMPORT_MAX_BYTES
    if len(data) > limit:
        raise DigestImportError(
            _(
                "The text is %(size).1f MB; the limit is %(limit).1f MB. "
                "Import one digest at a time."
            )
            % {"size": len(data) / 1024 / 1024, "limit": limit / 1024 / 1024}
        )
    if not data.strip():
        raise DigestImportError(_("The file is empty."))
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise DigestImportError(
            _(
                "This is not a text file (binary data). "
                "Export the digest as plain text or Markdown."
            ),
            line=line,
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DigestImportError(
            _("The file is not UTF-8 text. Save it as UTF-8 and try again."), line=line
        ) from None


def check_text(text: str) -> str:
    """The same limits for text pasted into a form."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    if len(text.encode("utf-8")) > settings.IMPORT_MAX_BYTES:
        return decode_upload(text.encode("utf-8"))  # raises the size error
    if not text.strip():
        raise DigestImportError(_("The text is empty."))
    if "\x00" in text:
        raise DigestImportError(
            _(
                "This is not a text file (binary data). "
                "Export the digest as plain text or Markdown."
            ),
            line=text[: text.index("\x00")].count("\n") + 1,
        )
    return text


def detect_format(text: str) -> str:
    """Markdown when the papers are Markdown headings (### 1、Title) or metadata is quoted."""
    for line in text.split("\n"):
        if MarkdownLayoutParser.paper_heading_re.match(line.strip()):
            return "markdown"
    return "text"


def parse_digest(text: str, fmt: str = "auto") -> ParsedDigest:
    """Parse a whole digest; raises DigestImportError for input it cannot import."""
    if fmt not in FORMATS:
        raise DigestImportError(_("Unknown format “%(fmt)s”.") % {"fmt": fmt})
    text = check_text(text)
    if fmt == "auto":
        fmt = detect_format(text)
    return PARSERS[fmt](text, SectionKind.objects.all()).parse()
