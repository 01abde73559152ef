"""The Markdown layout of older issues::

# AI前沿推介(3.14)
时间:2024-03-14
摘要:…
### 1、[LG] English title
> 中文标题
> URL：https://arxiv.org/abs/2403.01234
> 作者：A Author, B Author
> 单位：Some University
> Official Code：https://github.com/…
- 要点：
  - a bullet
    - a nested bullet
- 动机：prose on the same line
![Figure 1: overview](https://…/fig1.png)
The English abstract.
## 更多
### 6、[CL] Another title (still an entry)
"""

import re

from editorial.importing.common import (
    ARXIV_URL,
    TITLE_WITH_DATE,
    UNKNOWN_HEADING,
    Note,
    has_cjk,
    is_latin_prose,
)
from editorial.importing.text import AFFILIATION_SEPARATOR, TextLayoutParser

QUOTE = re.compile(r"^\s*>\s?(?P<text>.*)$")
METADATA = re.compile(r"^(?P<key>[^:：]{1,20}?)\s*[:：]\s*(?P<value>.*)$")
TOP_BULLET = re.compile(r"^[-*+]\s+(?P<text>\S.*)$")
HEADING = re.compile(r"^#{1,6}\s+(?P<text>.*?)\s*#*\s*$")

URL_KEYS = {"url", "链接", "arxiv", "论文链接", "论文地址", "paper"}
AFFILIATION_KEYS = {"单位", "机构", "affiliation", "affiliations", "institution"}
AUTHOR_KEYS = {"作者", "author", "authors"}
TITLE_KEYS = {"中文标题", "标题", "title"}


class MarkdownLayoutParser(TextLayoutParser):
    format = "markdown"
    paper_heading_re = re.compile(
        r"^#{2,4}\s*(?P<pos>\d{1,3})\s*[、.．]\s*"
        r"(?:\[(?P<tag>[A-Za-z][A-Za-z.\-]{0,11})\]\s*)?(?P<title>.*?)\s*#*\s*$"
    )

    def title_from(self, line: str) -> str | None:
        heading = HEADING.match(line.strip())
        if heading and line.startswith("# "):
            return heading.group("text")
        match = TITLE_WITH_DATE.match(line.strip())
        return match.group("title") if match else None

    def _preamble(self, parsed, start, end, toc):
        # "## 摘要" as a heading introduces the summary paragraph below it.
        for i in range(start, end):
            heading = HEADING.match(self.lines[i].strip())
            if heading and heading.group("text").strip(" :：") in ("摘要", "Summary"):
                self.lines[i] = "摘要:"
        super()._preamble(parsed, start, end, toc)

    def block_line(self, parsed, entry, state, number, line):
        stripped = line.strip()
        heading = HEADING.match(stripped)
        if heading:
            # "## 更多" and other part headings between papers: the papers under them are
            # entries like the others.
            parsed.report.ignore(number, stripped)
            state.update(section=None)
            return
        quote = QUOTE.match(line)
        if quote:
            self.quote_line(parsed, entry, number, quote.group("text").strip())
            return
        top = TOP_BULLET.match(line)
        if top:
            text = top.group("text")
            known = self.kinds.match(text)
            if known:
                self.start_section(parsed, entry, state, number, *known)
                return
            unknown = UNKNOWN_HEADING.match(text)
            if unknown:
                parsed.report.unknown_section(unknown.group("name"), number)
                entry.unplaced.append(Note(number, stripped))
                state.update(phase="body", section="unknown")
                return
        if state.get("section") == "unknown" and line.startswith((" ", "\t")) and stripped:
            entry.unplaced.append(Note(number, line.rstrip()))
            return
        if state["phase"] == "header" and is_latin_prose(stripped):
            # English prose before any section is the abstract, not an author line.
            state.update(phase="abstract", section=None)
            entry.abstract_lines.append(stripped)
            return
        super().block_line(parsed, entry, state, number, line)

    def quote_line(self, parsed, entry, number: int, text: str) -> None:
        if not text:
            return
        url = ARXIV_URL.match(text)
        meta = METADATA.match(text)
        key = meta.group("key").strip().casefold() if meta else ""
        value = meta.group("value").strip() if meta else ""
        if url:
            self.arxiv_link(parsed, entry, number, url.group("url"), text)
        elif key in URL_KEYS and ARXIV_URL.match(value):
            self.arxiv_link(parsed, entry, number, ARXIV_URL.match(value).group("url"), text)
        elif key in AFFILIATION_KEYS and value:
            entry.affiliations = [
                part.strip()
                for part in AFFILIATION_SEPARATOR.split(value.strip("[]［］"))
                if part.strip()
            ]
        elif key in AUTHOR_KEYS and value:
            self.set_authors(entry, value)
        elif key in TITLE_KEYS and value and not entry.title_zh:
            entry.title_zh = value[:300]
        elif not meta and has_cjk(text) and not entry.title_zh:
            entry.title_zh = text[:300]
        else:
            # Official Code and anything else: kept for the editor, never dropped.
            entry.unplaced.append(Note(number, text))
