"""Entry points of the parser: decode what was uploaded or pasted, pick the layout, parse."""

from django.conf import settings
from django.utils.translation import gettext as _

from editorial.importing.common import DigestImportError, ParsedDigest, SectionKindIndex
from editorial.importing.layouts import ImportOptions, looks_like_html
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
    utf16 = _utf16(data)
    if utf16 is not None:
        return utf16
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
        try:
            data.decode("gb18030")
        except UnicodeDecodeError:
            pass
        else:
            raise DigestImportError(
                _(
                    "The file is GBK (GB18030) text, the encoding of Chinese Windows, not "
                    "UTF-8. Convert it and import again: “iconv -f GBK -t UTF-8 digest.txt "
                    "> digest-utf8.txt”, or in Notepad choose Save as, Encoding: UTF-8."
                ),
                line=line,
            ) from None
        raise DigestImportError(
            _("The file is not UTF-8 text. Save it as UTF-8 and try again."), line=line
        ) from None


def _utf16(data: bytes) -> str | None:
    """UTF-16 text (Windows' "Unicode"), with its byte-order mark, or without one when every
    other byte of ASCII text is zero."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        head = data[:4000]
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if len(head) < 4 or len(head) % 2 or max(even, odd) < len(head) // 4:
            return None
        encoding = "utf-16-le" if odd > even else "utf-16-be"
    try:
        return data.decode(encoding).lstrip("\ufeff")
    except UnicodeDecodeError:
        return None


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
    """The site's text layout when its papers are "1、[LG] Title" lines and there is no
    Markdown paper heading; Markdown otherwise (other sites' digests, single-paper posts,
    copied web pages)."""
    if looks_like_html(text):
        return "markdown"
    text_layout = False
    for line in text.split("\n"):
        if line.startswith("#") and MarkdownLayoutParser.paper_heading_re.match(line):
            return "markdown"
        if not text_layout and TextLayoutParser.paper_heading_re.match(line):
            text_layout = True
    return "text" if text_layout else "markdown"


def resolve_label_map(pairs, kinds) -> dict:
    """["动机=gist", …] or {"动机": "gist"} -> {"动机": SectionKind}; the kind named by its
    slug, Chinese or English name or an alias ("main-idea" reads as "main idea")."""
    if isinstance(pairs, dict):
        pairs = [f"{k}={v}" for k, v in pairs.items()]
    if not pairs:
        return {}  # no query for nothing to map
    kinds = list(kinds)
    index = SectionKindIndex(kinds)
    result = {}
    for pair in pairs or []:
        label, sep, target = pair.partition("=")
        label, target = label.strip(), target.strip()
        if not sep or not label or not target:
            raise DigestImportError(
                _("“%(pair)s”: map a label as LABEL=KIND, e.g. 动机=gist.") % {"pair": pair}
            )
        kind = next((k for k in kinds if k.slug == target), None)
        kind = kind or index.kind_for(target) or index.kind_for(target.replace("-", " "))
        if kind is None:
            raise DigestImportError(
                _("“%(kind)s” is no section kind; use one of: %(kinds)s.")
                % {"kind": target, "kinds": ", ".join(k.slug for k in kinds)}
            )
        result[label] = kind
    return result


def parse_digest(
    text: str, fmt: str = "auto", options: ImportOptions | None = None
) -> ParsedDigest:
    """Parse a whole digest; raises DigestImportError for input it cannot import."""
    if fmt not in FORMATS:
        raise DigestImportError(_("Unknown format “%(fmt)s”.") % {"fmt": fmt})
    text = check_text(text)
    if fmt == "auto":
        fmt = detect_format(text)
    return PARSERS[fmt](text, SectionKind.objects.all(), options).parse()
