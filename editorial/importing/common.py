"""What both layouts share: the parsed structures, the import report, the section-heading
index built from the SectionKind table, and the line classifiers (bullets, figures, arXiv
links, page chrome)."""

import datetime
import re
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from papers.markup import normalise_section_text

# -- errors and report ---------------------------------------------------------------------


class DigestImportError(Exception):
    """Input the importer refuses, with the line it is about (1-based) when there is one."""

    def __init__(self, message: str, *, line: int | None = None):
        self.message = message
        self.line = line
        super().__init__(self.display())

    def display(self) -> str:
        if self.line is None:
            return self.message
        return _("Line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


@dataclass
class Note:
    """One line of the import report: a warning, or text the importer set aside."""

    line: int | None
    message: str

    def display(self) -> str:
        if self.line is None:
            return self.message
        return _("Line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


@dataclass
class ImportReport:
    warnings: list[Note] = field(default_factory=list)
    # Page chrome (company name, contact lines, 上一篇…) recognised and left out.
    ignored: list[Note] = field(default_factory=list)
    # Section headings not in the SectionKind table: name -> line numbers.
    unknown_sections: dict[str, list[int]] = field(default_factory=dict)
    # Recognised paper headings not imported as papers, with the reason.
    skipped: list[Note] = field(default_factory=list)

    def warn(self, line, message):
        self.warnings.append(Note(line, message))

    def ignore(self, line, text):
        self.ignored.append(Note(line, text))

    def unknown_section(self, name, line):
        self.unknown_sections.setdefault(name, []).append(line)

    def skip(self, line, message):
        self.skipped.append(Note(line, message))


# -- parsed structures --------------------------------------------------------------------


@dataclass
class ParsedFigure:
    line: int
    placeholder: str
    caption: str = ""
    source_url: str = ""


@dataclass
class ParsedSection:
    kind: object  # a SectionKind
    line: int
    parts: list[str] = field(default_factory=list)  # Markdown lines; "" separates paragraphs
    base_indent: int | None = None  # indentation of the first bullet = the top level

    @property
    def body(self) -> str:
        text = "\n".join(self.parts)
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
        return normalise_section_text(text, as_list=self.kind.is_list)

    @property
    def bullets(self) -> list[str]:
        return [
            line[2:].strip()
            for line in self.body.splitlines()
            if line.startswith("- ") and line[2:].strip()
        ]


@dataclass
class ParsedEntry:
    position: int
    line: int
    tag: str
    title: str
    arxiv_id: str = ""
    authors: list[str] = field(default_factory=list)
    authors_truncated: bool = False
    affiliations: list[str] = field(default_factory=list)
    title_zh: str = ""
    sections: list[ParsedSection] = field(default_factory=list)
    abstract_lines: list[str] = field(default_factory=list)
    figures: list[ParsedFigure] = field(default_factory=list)
    unplaced: list[Note] = field(default_factory=list)
    number: int | None = None  # the number as written (parts may number from 0 or renumber)
    heading_level: int = 0  # Markdown: how many # the paper heading has
    title_zh_line: int | None = None
    title_en: str = ""  # from 原文: / 《…》 when the heading gives the Chinese title
    code_url: str = ""
    project_url: str = ""
    link: str = ""  # the first non-arXiv link (an item without an arXiv link keeps it)
    source_url: str = ""  # set when an item without an arXiv link is imported by its link
    labels: list[str] = field(default_factory=list)  # 类型: …, stored as the entry's tags
    pending_label: str = ""  # the sub-heading the lines below belong to (figure captions)

    @property
    def abstract(self) -> str:
        paragraphs, current = [], []
        for line in self.abstract_lines + [""]:
            if line.strip():
                current.append(line.strip())
            elif current:
                paragraphs.append(" ".join(current))
                current = []
        return "\n\n".join(paragraphs)

    @property
    def unplaced_text(self) -> str:
        return "\n".join(note.message for note in self.unplaced)

    def section(self, slug):
        return next((s for s in self.sections if s.kind.slug == slug), None)


@dataclass
class ParsedDigest:
    format: str
    title: str
    title_line: int
    issue_date: datetime.date
    summary: str = ""
    toc: list[tuple[int, str, str]] = field(default_factory=list)  # (position, tag, title)
    entries: list[ParsedEntry] = field(default_factory=list)
    report: ImportReport = field(default_factory=ImportReport)
    # Items without an arXiv link not imported as entries (skipped, or summary lines).
    unlinked: list[ParsedEntry] = field(default_factory=list)
    date_line: int | None = None
    converted_from_html: bool = False

    @property
    def link_entries(self) -> list[ParsedEntry]:
        """The entries of items without an arXiv link, sourced by their link."""
        return [entry for entry in self.entries if entry.source_url]

    @property
    def unplaced_count(self) -> int:
        """Lines left unplaced (kept as each entry's unplaced text)."""
        return sum(len(entry.unplaced) for entry in self.entries)


# -- line classifiers ---------------------------------------------------------------------

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z]")
_ARXIV_URL_START = re.compile(
    r"(?:arxiv\s*[:：]\s*)?(?P<url>https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/\S+)",
    flags=re.IGNORECASE,
)
_URL_TAIL = ".,;。，"


class _ArxivUrlMatch:
    def __init__(self, url):
        self._url = url
        self.lastgroup = "url"

    def group(self, name="url"):
        return self._url


class _ArxivUrl:
    """A line that is an arXiv link and nothing else ("arXiv: https://arxiv.org/abs/…",
    trailing punctuation allowed). Matched in linear time: the old pattern (a lazy \\S+?
    before an anchored tail) took quadratic time on a long line."""

    def match(self, text: str):
        found = _ARXIV_URL_START.match(text)
        if not found:
            return None
        url = found.group("url")
        rest = text[found.end() :]
        if rest.strip(" \t" + _URL_TAIL):
            return None
        url = url.rstrip(_URL_TAIL)
        return _ArxivUrlMatch(url) if url else None


ARXIV_URL = _ArxivUrl()
IMAGE_PLACEHOLDER = re.compile(r"^(?:Image on\b.*|\[(?:图片|图|image|img)[^\]]*\])$", re.IGNORECASE)
HTML_IMAGE = re.compile(r"^<img\b(?P<attributes>[^>]{0,4000})/?>$", re.IGNORECASE)
HTML_ATTRIBUTE_SRC = re.compile(r"\bsrc\s*=\s*[\"'](?P<value>[^\"']*)[\"']", re.IGNORECASE)
HTML_ATTRIBUTE_ALT = re.compile(r"\balt\s*=\s*[\"'](?P<value>[^\"']*)[\"']", re.IGNORECASE)
# An unknown label in Latin letters: "**Motivation**: …" or "**Motivation:** …".
UNKNOWN_LATIN_LABEL = re.compile(
    r"^(?:[-*+]\s+)?\*\*(?P<name>[A-Za-z][A-Za-z0-9 ;&/'\-]{0,30}?)(?:\*\*\s*[:：]|[:：]\*\*)"
    r"\s*(?P<rest>.*)$"
)
URL_ANYWHERE = re.compile(r"https?://[^\s<>\"')\]）】]{1,2000}")
MARKDOWN_IMAGE = re.compile(r"^!\[(?P<caption>[^\]]*)\]\((?P<url>[^)\s]+)(?:\s+\"[^\"]*\")?\)$")
# "• item", "· item", "- item", "* item", "1. item", "1) item", "(1) item", "①"
BULLET = re.compile(
    r"^(?P<indent>[ \t]*)(?:[•·●▪◦][ \t]*|(?:[-*+]|\d{1,2}[.)、]|[(（]\d{1,2}[)）])[ \t]+)(?=\S)"
)
# A bullet glued to the end of the previous sentence: "…的视角。 -“多样性崩塌”…".
GLUED_BULLET = re.compile(
    r"(?<=[。！？；!?;…”\"）)])[ \t]*(?:[•·●▪◦]|[ \t][-–])[ \t]*(?=\S)"
    r"|(?<=[。！？；])[-–](?![\d-])[ \t]*(?=\S)"
)
GLUED_DOT = re.compile(r"[ \t]+[•●▪◦][ \t]*(?=\S)")
DATE_LINE = re.compile(
    r"^时间\s*[:：]\s*(?P<date>\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2})\s*日?"
    r"(?:\s*人气\s*[:：]\s*(?P<views>\d*))?\s*$"
)
TITLE_WITH_DATE = re.compile(
    r"^(?P<title>\S.*?[(（]\s*(?P<month>\d{1,2})\s*[.．/月]\s*(?P<day>\d{1,2})\s*日?\s*[)）])\s*$"
)
SUMMARY_LINE = re.compile(r"^(?:摘要|Summary)\s*[:：]\s*(?P<text>.*)$", re.IGNORECASE)
UNKNOWN_HEADING = re.compile(
    r"^(?:\*\*)?(?P<name>[\u3400-\u9fff]{1,6})(?:\*\*)?\s*[:：]\s*(?:\*\*)?(?P<rest>.*)$"
)
ARXIV_BARE = re.compile(r"^arxiv\s*[:：]\s*(?P<id>\S+)$", flags=re.IGNORECASE)

# The page around the digest on the site we serve: never digest content.
CHROME = re.compile(
    r"^(?:(?:上一篇|下一篇|联系我们|微信二维码|扫码关注|返回(?:顶部|列表)|分享到)(?:\s*[:：].*)?|"
    r".{0,40}(?:版权所有|备案号|ICP备|公网安备|Copyright ©|©|All rights reserved).*|"
    r"\S{0,20}(?:有限)?公司|"
    r".*\b\d{3,4}[- ]\d{3,4}[- ]\d{4}\b.*|(?:电话|热线|邮箱|客服|地址)\s*[:：].*)$",
    flags=re.IGNORECASE,
)
CHROME_MAX_LENGTH = 80  # footer lines are short; a long line is content


def clean_line(raw: str) -> str:
    """Normalise spaces a word processor or chat app inserts (NBSP, ideographic space,
    zero-width characters) and strip trailing whitespace."""
    line = raw.replace("\u00a0", " ").replace("\u3000", " ").replace("\t", "  ")
    line = re.sub(r"[\u200b\u200c\u200d\ufeff]", "", line)
    return line.rstrip()


def is_chrome(line: str) -> bool:
    """The site's page around the digest (company, contacts, licence, 上一篇). Only checked
    outside critique sections and abstracts, so content is never mistaken for it."""
    text = line.strip()
    return len(text) <= CHROME_MAX_LENGTH and bool(CHROME.match(text))


def is_latin_prose(line: str) -> bool:
    """A line of English prose (the abstract), as opposed to the Chinese critique."""
    text = line.strip()
    if len(text) < 30 or BULLET.match(line):
        return False
    cjk = len(CJK.findall(text))
    latin = len(LATIN.findall(text))
    return latin > 20 and cjk <= latin * 0.02


def has_cjk(text: str) -> bool:
    return bool(CJK.search(text))


def split_glued_bullets(text: str) -> list[str]:
    """ " item one。 -item two" -> ["item one。", "item two"]."""
    pieces = GLUED_BULLET.split(text)
    result = []
    for piece in pieces:
        result.extend(p for p in GLUED_DOT.split(piece))
    return [p.strip() for p in result if p.strip()]


def strip_bullet(line: str) -> tuple[int, str] | None:
    """(indent width, text) when ``line`` is a bullet, else None."""
    match = BULLET.match(line)
    if not match:
        return None
    return len(match.group("indent")), line[match.end() :].strip()


def parse_issue_date(text: str) -> datetime.date | None:
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    if len(numbers) != 3:
        return None
    try:
        return datetime.date(*numbers)
    except ValueError:
        return None


class SectionKindIndex:
    """Recognises section headings by the SectionKind table: Chinese name, English name and
    aliases, case-insensitively, with a half- or full-width colon or alone on the line; and
    the labels an editor mapped to a kind for this import (``label_map``: label -> kind)."""

    def __init__(self, kinds, label_map=None):
        self.kinds = list(kinds)
        self.by_name = {}
        for label, kind in (label_map or {}).items():
            self.by_name[self._key(label)] = kind
        for kind in self.kinds:
            for name in [kind.name_zh, kind.name_en, *kind.alias_list]:
                self.by_name.setdefault(self._key(name), kind)
        names = sorted(self.by_name, key=len, reverse=True)
        self.alternatives = "|".join(re.escape(n) for n in names) or r"(?!x)x"
        self._heading = re.compile(
            rf"^\s*(?P<open>\*\*)?(?P<name>{self.alternatives})(?P<close>\*\*)?\s*"
            rf"(?:(?P<colon>[:：])(?P<after>\*\*)?\s*(?P<rest>.*))?$",
            flags=re.IGNORECASE | re.DOTALL,
        )

    @staticmethod
    def _key(name: str) -> str:
        return unicodedata.normalize("NFKC", name).strip().casefold()

    def kind_for(self, name: str):
        return self.by_name.get(self._key(name))

    def match(self, line: str):
        """(kind, rest of the line) when ``line`` is a heading, else None."""
        found = self._heading.match(line)
        if not found:
            return None
        kind = self.by_name.get(self._key(found.group("name")))
        if kind is None:
            return None
        rest = found.group("rest") or ""
        if found.group("after") and not (found.group("open") and not found.group("close")):
            # "主旨:**弥合**…": the bold belongs to the text, not to the label.
            rest = "**" + rest
        return kind, rest.strip()


def add_section_text(section: ParsedSection, text: str, *, indent: int = 0, bullet: bool) -> None:
    """Append one source line to a section as Markdown: bullets (nested by indent), or prose
    (a blank line before a paragraph that follows a list)."""
    for number, piece in enumerate(split_glued_bullets(text) if bullet else [text.strip()]):
        if not piece:
            continue
        if bullet or number:
            prefix = "  " * min(indent // 2, 3)
            section.parts.append(f"{prefix}- {piece}")
        else:
            if section.parts and section.parts[-1].lstrip().startswith("- "):
                section.parts.append("")
            section.parts.append(piece)
    if not bullet:
        # Prose lines are paragraphs of their own (the pasted layout has one per line).
        section.parts.append("")
