"""The parser of both layouts. The text layout is the site's own page as pasted from a
browser or a word processor (see shared/seed/); the Markdown layout (``markdown.py``) reuses
this machinery with its own heading, quote and bullet conventions."""

import re
from html import unescape

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from editorial.importing.common import (
    ARXIV_BARE,
    ARXIV_URL,
    DATE_LINE,
    HTML_ATTRIBUTE_ALT,
    HTML_ATTRIBUTE_SRC,
    HTML_IMAGE,
    IMAGE_PLACEHOLDER,
    MARKDOWN_IMAGE,
    SUMMARY_LINE,
    TITLE_WITH_DATE,
    UNKNOWN_HEADING,
    UNKNOWN_LATIN_LABEL,
    URL_ANYWHERE,
    DigestImportError,
    Note,
    ParsedDigest,
    ParsedEntry,
    ParsedFigure,
    ParsedSection,
    SectionKindIndex,
    add_section_text,
    clean_line,
    has_cjk,
    is_chrome,
    is_latin_prose,
    parse_issue_date,
    strip_bullet,
)
from editorial.importing.layouts import ImportOptions, LineSplitter, find_date, prepare
from papers.arxiv_ids import parse_arxiv_id

KEY_CLEAN = re.compile(r"\*\*|\s+")
META_DASH = re.compile(r"^(?:[-*+•·]\s*)+")
BOOK_TITLE = re.compile(r"^《(?P<title>[^《》]{1,1000})》$")
METADATA = re.compile(r"^(?P<key>[^:：]{1,24}?)\s*[:：]\s*(?P<value>.*)$")
URL_KEYS = {
    "url",
    "链接",
    "arxiv",
    "论文链接",
    "论文地址",
    "paper",
    "论文",
    "原文链接",
    "pdf",
    "link",
}
CODE_KEYS = {"official code", "code", "代码", "代码链接", "开源代码", "github", "代码地址"}
PROJECT_KEYS = {"项目主页", "project page", "project", "主页", "homepage", "项目地址", "项目链接"}
AFFILIATION_KEYS = {"单位", "机构", "affiliation", "affiliations", "institution", "institutions"}
AUTHOR_KEYS = {"作者", "author", "authors"}
ENGLISH_TITLE_KEYS = {"原文", "英文标题", "english title", "原标题", "paper title"}
TITLE_KEYS = {"中文标题", "标题", "title", "译名"}
TYPE_KEYS = {"类型", "type", "领域", "方向"}
META_KEYS = (
    URL_KEYS
    | CODE_KEYS
    | PROJECT_KEYS
    | AFFILIATION_KEYS
    | AUTHOR_KEYS
    | ENGLISH_TITLE_KEYS
    | TITLE_KEYS
    | TYPE_KEYS
)
AFFILIATIONS = re.compile(r"^[\[［【](?P<text>.+)[\]］】]$")
AFFILIATION_SEPARATOR = re.compile(r"(\s+(?:&|＆)\s+|\s*[,;；、，]\s*)")
# "University of California, Berkeley": a comma before one of a university system's campuses,
# not between two institutions. A closed list: "University of Oxford, Google" stays two.
UNIVERSITY_OF = re.compile(r"^(?:the\s+)?univ(?:ersity|\.)\s+of\s+\S", re.IGNORECASE)
CAMPUSES = frozenset(
    "berkeley|los angeles|san diego|santa barbara|irvine|davis|santa cruz|riverside|merced|"
    "san francisco|urbana-champaign|urbana champaign|chicago|springfield|austin|dallas|"
    "el paso|san antonio|arlington|madison|milwaukee|amherst|boston|lowell|college park|"
    "baltimore county|boulder|denver|chapel hill|charlotte|greensboro|ann arbor|dearborn|"
    "twin cities|duluth|kansas city|lincoln|omaha|manoa|seattle|tacoma|bothell".split("|")
)


def split_affiliations(text: str) -> list[str]:
    """Institutions separated by & , ; ； 、 ，, keeping "University of California, Berkeley"
    (a known campus after a Latin comma that follows "University of …") as one."""
    pieces = AFFILIATION_SEPARATOR.split(text)
    names = [pieces[0].strip()]
    for separator, part in zip(pieces[1::2], pieces[2::2], strict=True):
        part = part.strip()
        campus = (
            separator.strip() == ","
            and UNIVERSITY_OF.match(names[-1])
            and "," not in names[-1]
            and part.casefold() in CAMPUSES
        )
        if campus:
            names[-1] = f"{names[-1]}, {part}"
        else:
            names.append(part)
    return [name for name in names if name]


# Lines of the preamble that say the date ("日期：…", "Date: …", "date: …").
DATE_HINT = re.compile(r"^(?:日期|时间|date|发布时间|发布日期)\s*[:：]", re.IGNORECASE)
# Never the digest's title: separators, tables of contents, front-matter fences.
NOT_A_TITLE = re.compile(
    r"^(?:#+\s*)?(?:[-*_=~]{3,}|\[?toc\]?|table of contents|contents|目录|目錄)\s*[:：]?$",
    re.IGNORECASE,
)
# "Title words A Author, B Author[Affiliation] 中文标题": a header whose line breaks were lost.
GLUED_HEADER = re.compile(
    r"^(?P<pre>[^\[\]［］【】]{3,1000}?)\s*[\[［【](?P<aff>[^\]］】\[]{1,500})[\]］】]\s*(?P<rest>.*)$"
)
_INITIALS = r"(?:[A-Z]{1,2}\.?\s)+[A-Z][\w'\-]+"
AUTHOR_TAIL = re.compile(
    rf"(?:^|\s)(?P<authors>{_INITIALS}(?:\s*,\s*{_INITIALS})*(?:\s*,?\s*(?:\.\.\.|…|et al\.?))?)$"
)


def split_glued_header(text: str):
    """{"title", "authors", "affiliations", "rest"} when ``text`` is a paper's title, its
    authors (initials and surnames) and [affiliations] run together, else None."""
    if "[" not in text and "［" not in text and "【" not in text:
        return None
    found = GLUED_HEADER.match(text)
    if not found or has_cjk(found.group("pre")):
        return None
    tail = AUTHOR_TAIL.search(found.group("pre"))
    if not tail:
        return None
    title = found.group("pre")[: tail.start("authors")].strip()
    authors_text = tail.group("authors")
    truncated = bool(TRUNCATION.search(authors_text))
    authors_text = TRUNCATION.sub("", authors_text).strip().rstrip(",，")
    return {
        "title": title,
        "authors": [a.strip() for a in AUTHOR_SEPARATOR.split(authors_text) if a.strip()],
        "truncated": truncated,
        "affiliations": split_affiliations(found.group("aff")),
        "rest": found.group("rest").strip(),
    }


UNPLACED_WARNINGS = 50  # per paper; the rest in one warning
SOURCE_URL_LENGTH = 1000  # Paper.source_url's max_length
# The section of a link-sourced item's text that no label starts (a news item's blurb).
LINK_ITEM_KIND = "summary"
AUTHOR_SEPARATOR = re.compile(r"\s*[,，、]\s*|\s+and\s+")
TRUNCATION = re.compile(r"(?:\.{3}|…+|\bet al\.?)$")


class TextLayoutParser:
    """The site's own layout: title (M.D), 时间 line, numbered table of contents, 摘要, then
    one block per paper."""

    format = "text"
    paper_heading_re = re.compile(
        r"^\s*(?P<pos>\d{1,3})\s*[、.．]\s*\[(?P<tag>[A-Za-z][A-Za-z.\-]{0,11})\]\s*(?P<title>.*)$"
    )

    def __init__(self, text: str, kinds, options: ImportOptions | None = None):
        self.options = options or ImportOptions()
        self.kinds = SectionKindIndex(kinds, self.options.label_map)
        prepared = prepare(
            text, LineSplitter(self.kinds.alternatives, self.kinds.by_name), clean_line
        )
        self.lines = prepared.lines
        self.numbers = prepared.numbers
        self.front = prepared.front
        self.converted_from_html = prepared.converted_from_html
        self.synthetic = {}  # index -> heading info of a paper without a numbered heading
        self._texts = {}

    def number(self, index: int) -> int:
        """The pasted line (1-based) that line ``index`` comes from."""
        if index >= len(self.numbers):
            return (self.numbers[-1] if self.numbers else 0) + 1
        return self.numbers[index]

    # -- the digest as a whole -----------------------------------------------------------

    def paper_heading(self, line: str):
        """A dict (pos, tag, title, level, url) when ``line`` is a paper heading."""
        match = self.paper_heading_re.match(line)
        if not match:
            return None
        return {
            "pos": match.group("pos"),
            "tag": match.group("tag") or "",
            "title": match.group("title"),
            "level": 0,
            "url": "",
        }

    def heading_at(self, index: int):
        return self.synthetic.get(index) or self.paper_heading(self.lines[index])

    def find_headings(self) -> list[int]:
        return [i for i, line in enumerate(self.lines) if self.paper_heading(line)]

    def single_paper(self) -> int | None:
        """The start of a post of a single paper with no numbered heading, if it is one."""
        return None

    def title_from(self, line: str) -> str | None:
        match = TITLE_WITH_DATE.match(line.strip())
        return match.group("title") if match else None

    def parse(self) -> ParsedDigest:
        lines = self.lines
        headings = self.find_headings()
        if not headings:
            single = self.single_paper()
            if single is not None:
                headings = [single]
        toc_indexes = self._table_of_contents(headings)
        paper_indexes = [i for i in headings if i not in toc_indexes]
        first_heading = (toc_indexes or paper_indexes or [len(lines)])[0]
        title_index, title = self._find_title(first_heading)
        parsed = ParsedDigest(
            format=self.format,
            title=title,
            title_line=self.number(title_index),
            issue_date=None,
            converted_from_html=self.converted_from_html,
        )
        if self.options.title:
            parsed.title = self.options.title.strip()
        report = parsed.report
        for i in range(min(title_index, first_heading)):
            if lines[i].strip() and not self._front_line(i):
                report.ignore(self.number(i), lines[i].strip())

        for i in toc_indexes:
            match = self.heading_at(i)
            parsed.toc.append((int(match["pos"]), match["tag"], match["title"]))

        preamble_end = paper_indexes[0] if paper_indexes else len(lines)
        self._preamble(parsed, title_index + 1, preamble_end, set(toc_indexes))
        self._issue_date(parsed, title_index, preamble_end)
        if parsed.date_line:
            report.ignored = [n for n in report.ignored if n.line != parsed.date_line]
        if parsed.issue_date is None:
            raise DigestImportError(
                _(
                    "No issue date: add a line such as “时间:2025-09-30” below the title, "
                    "or give the date (--date, or the date field of the preview)."
                ),
                line=self.number(title_index),
            )
        if not paper_indexes:
            raise DigestImportError(
                _(
                    "No papers found. Each paper starts with a numbered heading such as "
                    "“1、[LG] English title”."
                )
            )

        seen, seen_links = {}, {}
        bounds = paper_indexes + [len(lines)]
        for start, end in zip(bounds, bounds[1:], strict=False):
            entry = self._entry(parsed, start, end)
            if entry is None:
                continue
            if not entry.arxiv_id:
                if not self._unlinked(parsed, entry):
                    continue
                if entry.source_url in seen_links:
                    report.skip(
                        entry.line,
                        _(
                            "“%(title)s” has the same link (%(link)s) as item %(n)d: not "
                            "imported again."
                        )
                        % {
                            "title": entry.title[:80],
                            "link": entry.source_url[:120],
                            "n": seen_links[entry.source_url],
                        },
                    )
                    continue
                entry.position = len(parsed.entries) + 1
                seen_links[entry.source_url] = entry.position
                self._check_entry(parsed, entry)
                parsed.entries.append(entry)
                continue
            if entry.arxiv_id in seen:
                report.skip(
                    entry.line,
                    _(
                        "“%(title)s” is the same arXiv paper (%(id)s) as paper %(n)d: "
                        "not imported again."
                    )
                    % {"title": entry.title[:80], "id": entry.arxiv_id, "n": seen[entry.arxiv_id]},
                )
                continue
            entry.position = len(parsed.entries) + 1
            seen[entry.arxiv_id] = entry.position
            self._check_entry(parsed, entry)
            parsed.entries.append(entry)
        if not parsed.entries and not parsed.unlinked:
            raise DigestImportError(
                _("No papers found: every paper heading was left out (see above).")
            )
        self._check_toc(parsed)
        self._news_into_summary(parsed)
        return parsed

    def _front_line(self, index: int) -> bool:
        return any(line == self.number(index) for _value, line in self.front.values())

    def _entry(self, parsed, start: int, end: int):
        match = self.heading_at(start)
        number = int(match["pos"]) if match["pos"] is not None else None
        title_text = match["title"].strip()
        entry = ParsedEntry(
            position=0,
            number=number,
            line=self.number(start),
            tag=(match.get("tag") or "").strip(),
            title=title_text,
            heading_level=match.get("level", 0),
        )
        if match.get("url"):
            self.link_line(parsed, entry, self.number(start), match["url"])
        if has_cjk(title_text):
            # "### 1. 中文标题": the Chinese title (an English one may follow as 原文:).
            entry.title_zh, entry.title_zh_line = title_text, entry.line
        glued = split_glued_header(title_text)
        if glued and glued["title"]:
            entry.title = glued["title"]
            entry.authors = glued["authors"]
            entry.affiliations = glued["affiliations"]
            entry.authors_truncated = glued["truncated"]
            if glued["rest"]:
                entry.title_zh, entry.title_zh_line = glued["rest"], entry.line
        self.parse_block(parsed, entry, start + 1 if start not in self.synthetic else start, end)
        if has_cjk(entry.title) and entry.title_en:
            # "### 1. 中文标题" then "原文: English title"
            entry.title = entry.title_en
        elif not entry.title and entry.title_en:
            entry.title = entry.title_en
        if not entry.title:
            parsed.report.skip(
                entry.line,
                _("Paper heading %(n)s has no title after its number: not imported.")
                % {"n": number if number is not None else ""},
            )
            return None
        return entry

    def _unlinked(self, parsed, entry) -> bool:
        """An item without an arXiv link, as the editor chose: True when it becomes an entry
        sourced by its link; else it is skipped, or a line of the summary, with a report
        line. An item without any link is always skipped (nothing would identify it)."""
        title = {"title": entry.title[:80], "link": entry.link[:120]}
        choice = self.options.unlinked
        if not entry.link:
            parsed.report.skip(
                entry.line, _("“%(title)s” has no link at all (arXiv or other): skipped.") % title
            )
        elif len(entry.link) > SOURCE_URL_LENGTH:
            parsed.report.skip(
                entry.line,
                _(
                    "“%(title)s” has no arXiv link, and its link is %(length)d characters, "
                    "longer than the %(limit)d a source link may have: skipped."
                )
                % {**title, "length": len(entry.link), "limit": SOURCE_URL_LENGTH},
            )
        elif choice == "skip":
            parsed.report.skip(
                entry.line, _("“%(title)s” has no arXiv link: skipped, as chosen.") % title
            )
        elif choice == "summary":
            parsed.report.skip(
                entry.line,
                _(
                    "“%(title)s” has no arXiv link: not a paper entry; kept as a line of the "
                    "digest's summary with its link (%(link)s), its other text not imported."
                )
                % title,
            )
        else:
            self._as_link_item(parsed, entry)
            return True
        parsed.unlinked.append(entry)
        return False

    def _as_link_item(self, parsed, entry) -> None:
        """An entry sourced by its link. Its heading is its title (shown once, whatever its
        language); a line that only carries the link is that source; its other text, when
        no label starts it, is the item's summary."""
        entry.source_url = entry.link
        if entry.title_zh == entry.title:
            entry.title_zh, entry.title_zh_line = "", None
        kept = []
        for note in entry.unplaced:
            rest = note.message.replace(entry.link, "")
            if entry.link in note.message and len(rest.strip(" []()<>:：-*·")) <= 12:
                continue  # "[原文链接](…)", "Source: …": the source link itself
            kept.append(note)
        entry.unplaced = kept
        labels = {n for lines in parsed.report.unknown_sections.values() for n in lines}
        summary = next((k for k in self.kinds.kinds if k.slug == LINK_ITEM_KIND), None)
        if (
            not kept
            or summary is None
            or entry.section(summary.slug)
            or any(note.line in labels for note in kept)
        ):
            return
        section = ParsedSection(kind=summary, line=kept[0].line)
        for note in kept:
            add_section_text(section, note.message, bullet=False)
        entry.sections.append(section)
        entry.unplaced = []

    def _news_into_summary(self, parsed) -> None:
        if self.options.unlinked != "summary" or not parsed.unlinked:
            return
        lines = [f"- {e.title} {e.link}" for e in parsed.unlinked if e.link]
        if not lines:
            return
        news = _("Other news") + ":\n" + "\n".join(lines)
        parsed.summary = (parsed.summary + "\n\n" + news).strip()

    def _find_title(self, end: int) -> tuple[int, str]:
        fallback = None
        front_title = self.front.get("title")
        if front_title and front_title[0]:
            index = next((i for i, n in enumerate(self.numbers) if n == front_title[1]), 0)
            return index, front_title[0]
        for i in range(end):
            line = self.lines[i].strip()
            if not line or DATE_LINE.match(line) or SUMMARY_LINE.match(line):
                continue
            if self._front_line(i) or NOT_A_TITLE.match(line):
                continue
            title = self.title_from(self.lines[i])
            if title:
                return i, title
            if fallback is None and not is_chrome(line) and len(line) <= 200:
                fallback = (i, line.lstrip("#").strip())
        if fallback is not None:
            return fallback
        if self.options.title:
            return 0, self.options.title
        raise DigestImportError(
            _(
                "No title found: the first line should be the digest's title, "
                "e.g. AI前沿推介(9.30)."
            ),
            line=1,
        )

    def _issue_date(self, parsed, title_index: int, end: int) -> None:
        """The date: the editor's choice, else the 时间 line (read in the preamble), else the
        front matter, else a date in a heading or a line before the first paper."""
        if self.options.issue_date:
            parsed.issue_date = self.options.issue_date
            return
        if parsed.issue_date is not None:
            return
        front_date = self.front.get("date")
        if front_date:
            parsed.issue_date = find_date(front_date[0])
            if parsed.issue_date is None:
                raise DigestImportError(
                    _("“%(date)s” is not a valid date (use YYYY-MM-DD).") % {"date": front_date[0]},
                    line=front_date[1],
                )
            parsed.date_line = front_date[1]
            return
        for i in range(min(end, len(self.lines))):
            line = self.lines[i]
            if len(line) > 300 or not line.strip():
                continue
            if line.startswith("#") or DATE_HINT.match(line.strip()) or i == title_index:
                found = find_date(line)
                if found:
                    parsed.issue_date = found
                    parsed.date_line = self.number(i)
                    return

    def _table_of_contents(self, headings: list[int]) -> list[int]:
        """The first run of two or more numbered headings separated only by blank lines is
        the table of contents when the same numbers come again later as paper blocks. (A
        single heading is a paper: a second part that numbers from 1 again is no table of
        contents.)"""
        if len(headings) < 2:
            return []
        run = [headings[0]]
        for index in headings[1:]:
            between = self.lines[run[-1] + 1 : index]
            if any(line.strip() for line in between):
                break
            run.append(index)
        if len(run) < 2:
            return []
        numbers = [self.heading_at(i)["pos"] for i in run]
        later = {self.heading_at(i)["pos"] for i in headings if i > run[-1]}
        return run if later and all(n in later for n in numbers) else []

    def _preamble(self, parsed, start: int, end: int, toc: set) -> None:
        summary, in_summary = [], False
        for i in range(start, end):
            line = self.lines[i].strip()
            if i in toc or self._front_line(i):
                in_summary = False
                continue
            if not line:
                # "## 摘要" then a blank line then the paragraph: the summary goes on.
                in_summary = in_summary and not any(summary)
                continue
            date = DATE_LINE.match(line)
            if date and parsed.issue_date is None:
                parsed.issue_date = parse_issue_date(date.group("date"))
                parsed.date_line = self.number(i)
                if parsed.issue_date is None:
                    raise DigestImportError(
                        _("“%(date)s” is not a valid date (use YYYY-MM-DD).")
                        % {"date": date.group("date")},
                        line=self.number(i),
                    )
                self._check_title_date(parsed)
                continue
            found = SUMMARY_LINE.match(line)
            if found and not summary:
                summary.append(found.group("text").strip())
                in_summary = True
                continue
            if in_summary:
                summary.append(line)
                continue
            parsed.report.ignore(self.number(i), line)
        parsed.summary = "\n".join(s for s in summary if s)

    def _check_title_date(self, parsed) -> None:
        match = TITLE_WITH_DATE.match(parsed.title)
        if not match:
            return
        if (int(match.group("month")), int(match.group("day"))) != (
            parsed.issue_date.month,
            parsed.issue_date.day,
        ):
            parsed.report.warn(
                parsed.title_line,
                _("The title's date does not match the issue date %(date)s.")
                % {"date": parsed.issue_date.isoformat()},
            )

    def _check_entry(self, parsed, entry) -> None:
        if not entry.authors and not entry.source_url:
            parsed.report.warn(
                entry.line,
                _("Paper %(n)d has no authors line; fetch the paper from arXiv to fill them.")
                % {"n": entry.position},
            )
        if entry.authors_truncated:
            parsed.report.warn(
                entry.line,
                _(
                    "Paper %(n)d: the author list is shortened (…); fetch the paper from arXiv "
                    "for the full list."
                )
                % {"n": entry.position},
            )
        if not entry.unplaced:
            return
        # One warning a line for the first lines, then one for the rest (a runaway paste
        # gives thousands): every line stays in the entry's unplaced text.
        template = _("Paper %(n)d: text not placed in a section, kept as unplaced text: %(text)s")
        for note in entry.unplaced[:UNPLACED_WARNINGS]:
            parsed.report.warn(
                note.line, template % {"n": entry.position, "text": note.message[:80]}
            )
        rest = entry.unplaced[UNPLACED_WARNINGS:]
        if rest:
            parsed.report.warn(
                rest[0].line,
                _(
                    "Paper %(n)d: %(count)d more lines not placed in a section (lines "
                    "%(first)d to %(last)d), kept as unplaced text."
                )
                % {
                    "n": entry.position,
                    "count": len(rest),
                    "first": rest[0].line,
                    "last": rest[-1].line,
                },
            )

    def _check_toc(self, parsed) -> None:
        by_number = {entry.number: entry for entry in parsed.entries}
        for number, _tag, title in parsed.toc:
            entry = by_number.get(number)
            if entry is None:
                parsed.report.warn(
                    None,
                    _("The table of contents lists paper %(n)d, which has no block.")
                    % {"n": number},
                )
            elif _comparable(title) != _comparable(entry.title):
                parsed.report.warn(
                    entry.line,
                    _("Paper %(n)d's title differs from the table of contents; kept: %(title)s")
                    % {"n": number, "title": entry.title},
                )
        written = [entry.number for entry in parsed.entries]
        if written != list(range(1, len(parsed.entries) + 1)) and written != [None]:
            shown = ", ".join("–" if n is None else str(n) for n in written[:40])
            parsed.report.warn(
                None,
                _(
                    "Paper numbers as written are %(numbers)s (a part that numbers again, a "
                    "count from 0, or a paper without a number); stored as 1 to %(count)d in "
                    "the order of the text."
                )
                % {"numbers": shown, "count": len(parsed.entries)},
            )

    # -- one paper block -----------------------------------------------------------------

    def parse_block(self, parsed, entry: ParsedEntry, start: int, end: int) -> None:
        state = {"phase": "header", "section": None}
        for i in range(start, end):
            self.block_line(parsed, entry, state, self.number(i), self.lines[i])

    def block_line(self, parsed, entry, state, number: int, line: str) -> None:
        stripped = line.strip()
        section = state["section"]
        # A heading starts after a blank line or a bullet, never inside a run of prose
        # ("例如：…" continuing a paragraph is not a section heading).
        after_break = state.get("after_break", True)
        state["after_break"] = not stripped or bool(strip_bullet(line))
        if not stripped:
            if isinstance(section, ParsedSection):
                section.parts.append("")
            elif state["phase"] == "abstract":
                entry.abstract_lines.append("")
            return
        if state["phase"] in ("header", "tail") and is_chrome(stripped):
            parsed.report.ignore(number, stripped)
            return
        if self.figure_line(parsed, entry, number, stripped):
            return
        if not line.startswith((" ", "\t")) and self.meta_line(
            parsed, entry, number, stripped, links_only=state["phase"] != "header"
        ):
            return
        if not entry.link and "http" in stripped:
            # An item's own link (an item without an arXiv link is sourced by it). Not a
            # figure's address, nor a code or project link: those lines were taken above.
            found = URL_ANYWHERE.search(stripped)
            if found and not ARXIV_URL.match(found.group(0)):
                entry.link = found.group(0).rstrip(".,;。，")
        url = ARXIV_URL.match(stripped) or ARXIV_BARE.match(stripped)
        if url:
            self.arxiv_link(parsed, entry, number, url.group(url.lastgroup), stripped)
            state.update(phase="tail", section=None)
            return
        heading = self.kinds.match(stripped) if not line.startswith((" ", "\t")) else None
        if heading:
            self.start_section(parsed, entry, state, number, *heading)
            return
        if state["phase"] == "header" and self.header_line(entry, number, stripped):
            return
        unknown = UNKNOWN_HEADING.match(stripped) or UNKNOWN_LATIN_LABEL.match(stripped)
        if (
            unknown
            and after_break
            and not line.startswith((" ", "\t"))
            and state["phase"] != "abstract"
        ):
            parsed.report.unknown_section(unknown.group("name"), number)
            entry.unplaced.append(Note(number, stripped))
            state.update(phase="body", section="unknown")
            return
        if state["phase"] in ("body", "abstract") and is_latin_prose(stripped):
            state.update(phase="abstract", section=None)
            entry.abstract_lines.append(stripped)
            return
        if isinstance(section, ParsedSection):
            self.section_line(section, line)
            return
        entry.unplaced.append(Note(number, stripped))

    def figure_line(self, parsed, entry, number: int, stripped: str) -> bool:
        if stripped[:1] not in "!<[Ii":  # what an image, a tag or a placeholder starts with
            return False
        image = MARKDOWN_IMAGE.match(stripped)
        if image:
            url, caption = image.group("url"), image.group("caption").strip()
        else:
            html = HTML_IMAGE.match(stripped)
            if not html:
                if IMAGE_PLACEHOLDER.match(stripped):
                    entry.figures.append(ParsedFigure(number, placeholder=stripped[:300]))
                    return True
                return False
            attributes = html.group("attributes")
            src = HTML_ATTRIBUTE_SRC.search(attributes)
            alt = HTML_ATTRIBUTE_ALT.search(attributes)
            if not src:
                return False
            url = unescape(src.group("value").strip())
            caption = unescape(alt.group("value").strip()) if alt else ""
        self.add_figure(parsed, entry, number, url, caption or entry.pending_label)
        return True

    def add_figure(self, parsed, entry, number: int, url: str, caption: str) -> None:
        remote = url.startswith(("http://", "https://"))
        figure = ParsedFigure(number, placeholder="", caption=caption, source_url="")
        if len(caption) > 500:
            parsed.report.warn(
                number,
                _(
                    "A figure caption is %(length)d characters, longer than 500: it is kept "
                    "whole in the unplaced text, not cut."
                )
                % {"length": len(caption)},
            )
            entry.unplaced.append(Note(number, caption))
            figure.caption = ""
        if not remote:
            parsed.report.warn(
                number,
                _(
                    "A figure's address is relative (%(url)s): it points to nowhere on this "
                    "site, so it is not stored as its source; upload the image to the figure."
                )
                % {"url": url[:120]},
            )
            figure.placeholder = url[:300] if len(url) <= 300 else ""
        elif len(url) > 200:
            parsed.report.warn(
                number,
                _(
                    "A figure's source address is %(length)d characters, longer than the 200 "
                    "a source may have: it is kept whole in the unplaced text, not cut."
                )
                % {"length": len(url)},
            )
            entry.unplaced.append(Note(number, url))
            figure.placeholder = _("image whose address is in the unplaced text")
        else:
            figure.source_url = figure.placeholder = url
        entry.figures.append(figure)

    def arxiv_link(self, parsed, entry, number: int, url: str, stripped: str) -> None:
        try:
            arxiv_id = parse_arxiv_id(url)
        except ValidationError:
            parsed.report.warn(number, _("Not an arXiv paper link: %(url)s") % {"url": url})
            entry.unplaced.append(Note(number, stripped))
            return
        if entry.arxiv_id and entry.arxiv_id != arxiv_id:
            parsed.report.warn(
                number,
                _(
                    "A second arXiv link (%(id)s) in the paper of line %(line)d; the first "
                    "one is kept."
                )
                % {"id": arxiv_id, "line": entry.line},
            )
            entry.unplaced.append(Note(number, stripped))
            return
        entry.arxiv_id = arxiv_id

    def start_section(self, parsed, entry, state, number: int, kind, rest: str) -> None:
        section = entry.section(kind.slug)
        if section is None:
            section = ParsedSection(kind=kind, line=number)
            entry.sections.append(section)
        elif any(section.parts) and kind.slug not in state.setdefault("joined", set()):
            state["joined"].add(kind.slug)  # once per kind and paper
            parsed.report.warn(
                number,
                _(
                    "A second “%(name)s” heading in the paper of line %(line)d; its text joins "
                    "the first."
                )
                % {"name": kind.name_zh, "line": entry.line},
            )
        if rest:
            self.section_line(section, rest)
        state.update(phase="body", section=section)

    def section_line(self, section: ParsedSection, line: str) -> None:
        bullet = strip_bullet(line)
        if bullet:
            indent, text = bullet
            if section.base_indent is None:
                section.base_indent = indent
            add_section_text(
                section, text, indent=max(0, indent - section.base_indent), bullet=True
            )
        else:
            add_section_text(section, line, bullet=False)

    def meta_line(self, parsed, entry, number: int, text: str, *, links_only=False) -> bool:
        """A metadata line ("URL：…", "单位：A、B", "Official Code：…", "原文: …", "《…》"),
        quoted or not, with or without a list dash. True when it was one."""
        if text[:1] in "-*+•·":
            text = META_DASH.sub("", text, count=1)
        if not text or ("：" not in text and ":" not in text and not text.startswith("《")):
            return False
        book = BOOK_TITLE.match(text)
        if book:
            value = book.group("title").strip()
            if has_cjk(value):
                if not entry.title_zh:
                    entry.title_zh, entry.title_zh_line = value, number
            else:
                entry.title_en = value
            return True
        meta = METADATA.match(text)
        if not meta:
            return False
        key = KEY_CLEAN.sub(" ", meta.group("key")).strip().casefold()
        value = meta.group("value").strip().strip("*").strip()
        if key not in META_KEYS or not value:
            return False
        link = URL_ANYWHERE.search(value)
        link = link.group(0).rstrip(".,;。，") if link else ""
        if key in URL_KEYS | CODE_KEYS | PROJECT_KEYS:
            if not link and not (key in URL_KEYS and ARXIV_BARE.match("arXiv:" + value)):
                return False
        elif links_only:
            return False
        if key in URL_KEYS:
            arxiv = ARXIV_URL.match(value) or (not link and ARXIV_BARE.match("arXiv:" + value))
            if arxiv:
                self.arxiv_link(parsed, entry, number, arxiv.group(arxiv.lastgroup), text)
            elif link:
                self.link_line(parsed, entry, number, link)
            else:
                entry.unplaced.append(Note(number, text))
        elif key in CODE_KEYS and link:
            entry.code_url = entry.code_url or link
        elif key in PROJECT_KEYS and link:
            entry.project_url = entry.project_url or link
        elif key in AFFILIATION_KEYS:
            entry.affiliations = split_affiliations(value.strip("[]［］【】"))
        elif key in AUTHOR_KEYS:
            self.set_authors(entry, value)
        elif key in ENGLISH_TITLE_KEYS:
            entry.title_en = value
        elif key in TITLE_KEYS:
            if not has_cjk(value):
                entry.title_en = value
            elif not entry.title_zh:
                entry.title_zh, entry.title_zh_line = value, number
        elif key in TYPE_KEYS:
            entry.labels += [p.strip() for p in re.split(r"[,，、/]", value) if p.strip()][:5]
        else:
            entry.unplaced.append(Note(number, text))
        return True

    def link_line(self, parsed, entry, number: int, url: str) -> None:
        """A link that is not an arXiv paper's: an arXiv link where one is expected, else the
        item's own link (a news item's source)."""
        arxiv = ARXIV_URL.match(url)
        if arxiv:
            self.arxiv_link(parsed, entry, number, arxiv.group("url"), url)
        elif not entry.link:
            entry.link = url

    def header_line(self, entry, number: int, stripped: str) -> bool:
        """Authors, [affiliations] and the Chinese title, in that order, before the sections."""
        affiliations = AFFILIATIONS.match(stripped)
        if affiliations and not entry.affiliations:
            entry.affiliations = split_affiliations(affiliations.group("text"))
            return True
        glued = split_glued_header(stripped) if not entry.authors else None
        if glued:
            if not entry.title:
                entry.title = glued["title"]
            elif not entry.title_en and not has_cjk(glued["title"]):
                entry.title_en = glued["title"]
            entry.authors, entry.affiliations = glued["authors"], glued["affiliations"]
            entry.authors_truncated = glued["truncated"]
            if glued["rest"] and has_cjk(glued["rest"]) and not entry.title_zh:
                entry.title_zh, entry.title_zh_line = glued["rest"], number
            return True
        if not entry.authors and not has_cjk(stripped) and not entry.title_zh:
            self.set_authors(entry, stripped)
            return True
        if has_cjk(stripped) and not entry.title_zh:
            label = UNKNOWN_HEADING.match(stripped)
            if label and len(label.group("name")) <= 4:
                return False  # "动机：…" is a section label, not the Chinese title
            entry.title_zh, entry.title_zh_line = stripped, number
            return True
        return False

    @staticmethod
    def set_authors(entry, text: str) -> None:
        text = text.strip()
        if TRUNCATION.search(text):
            entry.authors_truncated = True
            text = TRUNCATION.sub("", text).strip().rstrip(",，")
        entry.authors = [name.strip() for name in AUTHOR_SEPARATOR.split(text) if name.strip()]


def _comparable(title: str) -> str:
    return re.sub(r"[\W_]+", "", title).casefold()
