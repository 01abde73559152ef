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
    URL_ANYWHERE,
    Note,
    ParsedSection,
    has_cjk,
    is_latin_prose,
)
from editorial.importing.text import AFFILIATIONS, NOT_A_TITLE, TextLayoutParser

QUOTE = re.compile(r"^\s*>\s?(?P<text>.*)$")
TOP_BULLET = re.compile(r"^[-*+]\s+(?P<text>\S.*)$")
HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>.*)$")
# "### 1、Title", "### [1] [Title](url)", "## 0.[Title](url)", "### 1) Title", "### （1）Title"
PAPER_HEADING = re.compile(
    r"^(?P<hashes>#{2,4})\s*(?:\[(?P<n1>\d{1,3})\]|(?P<n2>\d{1,3})\s*[、.．)）:：]|"
    r"[(（](?P<n3>\d{1,3})[)）])\s*(?P<rest>.*)$"
)
TAG = re.compile(r"^\[(?P<tag>[A-Za-z][A-Za-z.\-]{0,11})\](?!\()\s*")
LINKED_TITLE = re.compile(
    r"^\[(?P<title>[^\]]{1,1000})\]\((?P<url>[^)\s]{1,2000})\)\s*(?P<rest>.*)$"
)
# Where a paper's sub-headings go when no section came before them.
NEAREST_FALLBACK = "gist"


def _strip_heading(text: str) -> str:
    """ "Motivation:" / "**要点**" / "TL;DR:" -> the label, trailing hashes and colon gone."""
    text = text.strip()
    while text.endswith("#"):
        text = text[:-1].rstrip()
    text = text.replace("**", "").strip()
    return text


class MarkdownLayoutParser(TextLayoutParser):
    format = "markdown"
    paper_heading_re = PAPER_HEADING

    def paper_heading(self, line: str):
        if not line.startswith("#"):
            return None
        match = PAPER_HEADING.match(line)
        if not match:
            return None
        pos = match.group("n1") or match.group("n2") or match.group("n3")
        rest = _strip_heading(match.group("rest"))
        tag = TAG.match(rest)
        if tag:
            rest = rest[tag.end() :]
        url = ""
        linked = LINKED_TITLE.match(rest)
        if linked:
            url = linked.group("url")
            rest = (linked.group("title") + " " + linked.group("rest")).strip()
        return {
            "pos": pos,
            "tag": tag.group("tag") if tag else "",
            "title": rest,
            "level": len(match.group("hashes")),
            "url": url,
        }

    def find_headings(self) -> list[int]:
        """Paper headings are the numbered headings at the level of the first one; a
        numbered heading deeper than that is a sub-heading of a paper."""
        found = [(i, self.paper_heading(line)) for i, line in enumerate(self.lines)]
        found = [(i, h) for i, h in found if h]
        if not found:
            return []
        levels = list(dict.fromkeys(h["level"] for _i, h in found))
        toc: list[int] = []
        for level in levels:
            indexes = [i for i, h in found if h["level"] == level]
            if level != levels[-1] and len(indexes) > 1 and self._adjacent(indexes):
                # A table of contents at a level of its own (this site's exports: "####"
                # lines before the "###" papers): kept first, so it is read as one.
                toc = toc or indexes
                continue
            return toc + indexes
        return toc

    def _adjacent(self, indexes: list[int]) -> bool:
        """Whether only blank lines stand between these lines."""
        return all(
            not any(line.strip() for line in self.lines[a + 1 : b])
            for a, b in zip(indexes, indexes[1:], strict=False)
        )

    def single_paper(self):
        """A post of one paper: no numbered heading, one arXiv link. Its first heading (or
        its first line) is the paper."""
        links = [i for i, line in enumerate(self.lines) if "arxiv.org/" in line or "arXiv:" in line]
        if not links:
            return None
        for i in range(links[0]):
            line = self.lines[i].strip()
            heading = HEADING.match(line)
            if heading and not NOT_A_TITLE.match(line) and not self._front_line(i):
                title = _strip_heading(heading.group("text"))
                linked = LINKED_TITLE.match(title)
                self.synthetic[i] = {
                    "pos": None,
                    "tag": "",
                    "title": linked.group("title") if linked else title,
                    "level": len(heading.group("hashes")),
                    "url": linked.group("url") if linked else "",
                }
                # The block starts on the heading's next line.
                self.synthetic[i]["start"] = i + 1
                return i
        return None

    def parse_block(self, parsed, entry, start, end):
        if start in self.synthetic:
            start = self.synthetic[start]["start"]
        super().parse_block(parsed, entry, start, end)

    def title_from(self, line: str) -> str | None:
        heading = HEADING.match(line.strip())
        if heading and line.startswith("# "):
            text = _strip_heading(heading.group("text"))
            return None if NOT_A_TITLE.match(text) else text
        match = TITLE_WITH_DATE.match(line.strip())
        return match.group("title") if match else None

    def _find_title(self, end):
        if self.synthetic and not self.front.get("title"):
            index = next(iter(self.synthetic))
            return index, self.synthetic[index]["title"]
        return super()._find_title(end)

    def _preamble(self, parsed, start, end, toc):
        # "## 摘要" as a heading introduces the summary paragraph below it.
        for i in range(start, end):
            heading = HEADING.match(self.lines[i].strip())
            if heading and heading.group("text").strip(" :：") in ("摘要", "Summary"):
                self.lines[i] = "摘要:"
        super()._preamble(parsed, start, end, toc)

    def block_line(self, parsed, entry, state, number, line):
        stripped = line.strip()
        heading = HEADING.match(stripped) if stripped.startswith("#") else None
        if heading:
            self.heading_line(parsed, entry, state, number, heading)
            return
        quote = QUOTE.match(line)
        if quote:
            self.quote_line(parsed, entry, state, number, quote.group("text").strip())
            return
        if stripped[:1] in "!<" and self.figure_line(parsed, entry, number, stripped):
            return
        top = TOP_BULLET.match(line)
        if top:
            text = top.group("text")
            if self.meta_line(parsed, entry, number, text, links_only=state["phase"] != "header"):
                return
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
        if state["phase"] == "header" and self.meta_line(parsed, entry, number, stripped):
            return
        if (
            state["phase"] == "header"
            and is_latin_prose(stripped)
            and not AFFILIATIONS.match(stripped)
            and not self._glued(stripped)
        ):
            # English prose before any section is the abstract, not an author line.
            state.update(phase="abstract", section=None)
            entry.abstract_lines.append(stripped)
            return
        super().block_line(parsed, entry, state, number, line)

    @staticmethod
    def _glued(stripped):
        from editorial.importing.text import split_glued_header

        return split_glued_header(stripped) is not None

    def heading_line(self, parsed, entry, state, number, heading) -> None:
        """A heading inside a paper: a section label ("## Motivation:", "#### 要点"), a part
        heading between papers ("## 更多"), or a sub-heading of the paper, kept with its
        label as a bold paragraph of the nearest section."""
        level = len(heading.group("hashes"))
        text = _strip_heading(heading.group("text"))
        known = self.kinds.match(text)
        if known:
            self.start_section(parsed, entry, state, number, *known)
            return
        label = text.rstrip(":：").strip()
        is_label = text.endswith((":", "：")) and 0 < len(label) <= 30
        if is_label:
            parsed.report.unknown_section(label, number)
            entry.unplaced.append(Note(number, heading.group(0)))
            state.update(phase="body", section="unknown")
            return
        if entry.heading_level and level <= entry.heading_level or not text:
            # "## 更多" and other part headings between papers.
            parsed.report.ignore(number, heading.group(0))
            state.update(section=None)
            return
        # A sub-heading of the paper: a bold label paragraph of the nearest section (the one
        # open, else the last one, else a 主旨 section), its paragraphs and figures below it.
        section = state["section"] if isinstance(state["section"], ParsedSection) else None
        section = section or (entry.sections[-1] if entry.sections else None)
        if section is None:
            gist = next((k for k in self.kinds.kinds if k.slug == NEAREST_FALLBACK), None)
            if gist is None:
                parsed.report.unknown_section(label, number)
                entry.unplaced.append(Note(number, heading.group(0)))
                state.update(phase="body", section="unknown")
                return
            section = ParsedSection(kind=gist, line=number)
            entry.sections.append(section)
        if section.parts and section.parts[-1] != "":
            section.parts.append("")
        section.parts.append(f"**{label}**")
        section.parts.append("")
        entry.pending_label = label
        state.update(phase="body", section=section)

    def quote_line(self, parsed, entry, state, number: int, text: str) -> None:
        if not text:
            return
        url = ARXIV_URL.match(text)
        if url:
            self.arxiv_link(parsed, entry, number, url.group("url"), text)
            return
        if self.meta_line(parsed, entry, number, text):
            return
        bare = text.lstrip("-*+ ").strip()
        link = URL_ANYWHERE.fullmatch(bare)
        if link:
            self.link_line(parsed, entry, number, bare)
        elif has_cjk(bare) and not entry.title_zh and not (entry.arxiv_id or entry.authors):
            entry.title_zh, entry.title_zh_line = bare, number
        else:
            # Anything else: kept for the editor, never dropped.
            entry.unplaced.append(Note(number, text))
