"""The parser of both layouts. The text layout is the site's own page as pasted from a
browser or a word processor (see shared/seed/); the Markdown layout (``markdown.py``) reuses
this machinery with its own heading, quote and bullet conventions."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from editorial.importing.common import (
    ARXIV_BARE,
    ARXIV_URL,
    DATE_LINE,
    IMAGE_PLACEHOLDER,
    MARKDOWN_IMAGE,
    SUMMARY_LINE,
    TITLE_WITH_DATE,
    UNKNOWN_HEADING,
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
from papers.arxiv_ids import parse_arxiv_id

AFFILIATIONS = re.compile(r"^[\[［【](?P<text>.+)[\]］】]$")
AFFILIATION_SEPARATOR = re.compile(r"\s+(?:&|＆)\s+|\s*[;；]\s*")
AUTHOR_SEPARATOR = re.compile(r"\s*[,，、]\s*|\s+and\s+")
TRUNCATION = re.compile(r"(?:\.{3}|…+|\bet al\.?)$")


class TextLayoutParser:
    """The site's own layout: title (M.D), 时间 line, numbered table of contents, 摘要, then
    one block per paper."""

    format = "text"
    paper_heading_re = re.compile(
        r"^\s*(?P<pos>\d{1,3})\s*[、.．]\s*\[(?P<tag>[A-Za-z][A-Za-z.\-]{0,11})\]\s*(?P<title>.*)$"
    )

    def __init__(self, text: str, kinds):
        self.lines = [clean_line(line) for line in text.split("\n")]
        self.kinds = SectionKindIndex(kinds)

    # -- the digest as a whole -----------------------------------------------------------

    def paper_heading(self, line: str):
        return self.paper_heading_re.match(line)

    def title_from(self, line: str) -> str | None:
        match = TITLE_WITH_DATE.match(line.strip())
        return match.group("title") if match else None

    def parse(self) -> ParsedDigest:
        lines = self.lines
        headings = [i for i, line in enumerate(lines) if self.paper_heading(line)]
        first_heading = headings[0] if headings else len(lines)
        title_index, title = self._find_title(first_heading)
        parsed = ParsedDigest(
            format=self.format, title=title, title_line=title_index + 1, issue_date=None
        )
        report = parsed.report
        for i in range(title_index):
            if lines[i].strip():
                report.ignore(i + 1, lines[i].strip())

        toc_indexes = self._table_of_contents(headings)
        paper_indexes = [i for i in headings if i not in toc_indexes]
        for i in toc_indexes:
            match = self.paper_heading(lines[i])
            parsed.toc.append((int(match.group("pos")), match.group("tag"), match.group("title")))

        preamble_end = paper_indexes[0] if paper_indexes else len(lines)
        self._preamble(parsed, title_index + 1, preamble_end, set(toc_indexes))
        if parsed.issue_date is None:
            raise DigestImportError(
                _("No issue date: add a line such as “时间:2025-09-30” below the title."),
                line=title_index + 1,
            )
        if not paper_indexes:
            raise DigestImportError(
                _(
                    "No papers found. Each paper starts with a numbered heading such as "
                    "“1、[LG] English title”."
                )
            )

        seen = {}
        bounds = paper_indexes + [len(lines)]
        for start, end in zip(bounds, bounds[1:], strict=False):
            match = self.paper_heading(lines[start])
            position = int(match.group("pos"))
            title_text = match.group("title").strip()
            if position < 1:
                raise DigestImportError(_("Paper numbers start at 1."), line=start + 1)
            if position in seen:
                raise DigestImportError(
                    _("Paper number %(n)d appears twice (lines %(first)d and %(second)d).")
                    % {"n": position, "first": seen[position], "second": start + 1},
                    line=start + 1,
                )
            seen[position] = start + 1
            if not title_text:
                raise DigestImportError(
                    _("Paper %(n)d has no English title after its number.") % {"n": position},
                    line=start + 1,
                )
            entry = ParsedEntry(
                position=position,
                line=start + 1,
                tag=(match.groupdict().get("tag") or "").strip(),
                title=title_text,
            )
            self.parse_block(parsed, entry, start + 1, end)
            self._check_entry(parsed, entry)
            parsed.entries.append(entry)

        self._check_toc(parsed)
        return parsed

    def _find_title(self, end: int) -> tuple[int, str]:
        fallback = None
        for i in range(end):
            line = self.lines[i].strip()
            if not line or DATE_LINE.match(line) or SUMMARY_LINE.match(line):
                continue
            title = self.title_from(self.lines[i])
            if title:
                return i, title
            if fallback is None and not is_chrome(line):
                fallback = (i, line)
        if fallback is not None:
            return fallback
        raise DigestImportError(
            _(
                "No title found: the first line should be the digest's title, "
                "e.g. AI前沿推介(9.30)."
            ),
            line=1,
        )

    def _table_of_contents(self, headings: list[int]) -> list[int]:
        """The first run of numbered headings separated only by blank lines is the table of
        contents when the same numbers come again later as paper blocks."""
        if not headings:
            return []
        run = [headings[0]]
        for index in headings[1:]:
            between = self.lines[run[-1] + 1 : index]
            if any(line.strip() for line in between):
                break
            run.append(index)
        first_number = self.paper_heading(self.lines[run[0]]).group("pos")
        later = [
            i
            for i in headings
            if i > run[-1] and self.paper_heading(self.lines[i]).group("pos") == first_number
        ]
        return run if later else []

    def _preamble(self, parsed, start: int, end: int, toc: set) -> None:
        summary, in_summary = [], False
        for i in range(start, end):
            line = self.lines[i].strip()
            if i in toc:
                in_summary = False
                continue
            if not line:
                # "## 摘要" then a blank line then the paragraph: the summary goes on.
                in_summary = in_summary and not any(summary)
                continue
            date = DATE_LINE.match(line)
            if date and parsed.issue_date is None:
                parsed.issue_date = parse_issue_date(date.group("date"))
                if parsed.issue_date is None:
                    raise DigestImportError(
                        _("“%(date)s” is not a valid date (use YYYY-MM-DD).")
                        % {"date": date.group("date")},
                        line=i + 1,
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
            parsed.report.ignore(i + 1, line)
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
        if not entry.arxiv_id:
            raise DigestImportError(
                _(
                    "Paper %(n)d has no arXiv link (a line such as "
                    "https://arxiv.org/abs/2509.22445) before the next paper."
                )
                % {"n": entry.position},
                line=entry.line,
            )
        if not entry.authors:
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
        for note in entry.unplaced:
            parsed.report.warn(
                note.line,
                _("Paper %(n)d: text not placed in a section, kept as unplaced text: %(text)s")
                % {"n": entry.position, "text": note.message[:80]},
            )

    def _check_toc(self, parsed) -> None:
        by_position = {entry.position: entry for entry in parsed.entries}
        for position, _tag, title in parsed.toc:
            entry = by_position.get(position)
            if entry is None:
                parsed.report.warn(
                    None,
                    _("The table of contents lists paper %(n)d, which has no block.")
                    % {"n": position},
                )
            elif _comparable(title) != _comparable(entry.title):
                parsed.report.warn(
                    entry.line,
                    _("Paper %(n)d's title differs from the table of contents; kept: %(title)s")
                    % {"n": position, "title": entry.title},
                )
        expected = list(range(1, len(parsed.entries) + 1))
        if sorted(by_position) != expected:
            parsed.report.warn(
                None,
                _("Paper numbers are not 1 to %(count)d; they are kept as given.")
                % {"count": len(parsed.entries)},
            )

    # -- one paper block -----------------------------------------------------------------

    def parse_block(self, parsed, entry: ParsedEntry, start: int, end: int) -> None:
        state = {"phase": "header", "section": None}
        for i in range(start, end):
            self.block_line(parsed, entry, state, i + 1, self.lines[i])

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
        if self.figure_line(entry, number, stripped):
            return
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
        unknown = UNKNOWN_HEADING.match(stripped)
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

    def figure_line(self, entry, number: int, stripped: str) -> bool:
        image = MARKDOWN_IMAGE.match(stripped)
        if image:
            entry.figures.append(
                ParsedFigure(
                    number,
                    placeholder=image.group("url")[:300],
                    caption=image.group("caption").strip()[:500],
                    source_url=image.group("url") if image.group("url").startswith("http") else "",
                )
            )
            return True
        if IMAGE_PLACEHOLDER.match(stripped):
            entry.figures.append(ParsedFigure(number, placeholder=stripped[:300]))
            return True
        return False

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
                _("A second arXiv link (%(id)s) in paper %(n)d; the first one is kept.")
                % {"id": arxiv_id, "n": entry.position},
            )
            entry.unplaced.append(Note(number, stripped))
            return
        entry.arxiv_id = arxiv_id

    def start_section(self, parsed, entry, state, number: int, kind, rest: str) -> None:
        section = entry.section(kind.slug)
        if section is None:
            section = ParsedSection(kind=kind, line=number)
            entry.sections.append(section)
        else:
            parsed.report.warn(
                number,
                _("A second “%(name)s” heading in paper %(n)d; its text joins the first.")
                % {"name": kind.name_zh, "n": entry.position},
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

    def header_line(self, entry, number: int, stripped: str) -> bool:
        """Authors, [affiliations] and the Chinese title, in that order, before the sections."""
        affiliations = AFFILIATIONS.match(stripped)
        if affiliations and not entry.affiliations:
            entry.affiliations = [
                part.strip()
                for part in AFFILIATION_SEPARATOR.split(affiliations.group("text"))
                if part.strip()
            ]
            return True
        if not entry.authors and not has_cjk(stripped) and not entry.title_zh:
            self.set_authors(entry, stripped)
            return True
        if has_cjk(stripped) and not entry.title_zh:
            entry.title_zh = stripped[:300]
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
