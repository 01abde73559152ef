"""What an editor pastes from elsewhere, brought to lines the parser reads, each remembering
the line of the pasted text it came from.

- HTML copied from a web page is converted to Markdown first (markdownify).
- YAML front matter (``title:``, ``date:``) is read and set aside.
- A line that lost its line breaks is cut where a section label starts ("要点：… 动机：…"),
  where a bold-labelled part starts ("summary: **Motivation**: … **Method**: …"), and around
  images inside text.

Every pattern here matches in time linear in the line (no nested quantifiers that can
backtrack over the same text), as the 2 MB timing test checks.
"""

import datetime
import re
from dataclasses import dataclass, field

# Section labels in a line: known names come from the SectionKindIndex; unknown Chinese
# labels (2-4 characters) start a new line only after a space, never inside a sentence.
NOT_LABELS = {"例如", "比如", "其中", "注意", "包括", "即", "如下", "原因", "结果是", "也就是"}
BOLD_LABEL = re.compile(
    r"\*\*(?P<a>[^*\n:：]{1,30})\*\*\s*[:：]|\*\*(?P<b>[^*\n:：]{1,30})[:：]\s*\*\*"
)
INLINE_IMAGE = re.compile(
    r"!\[[^\]\n]{0,500}\]\([^)\s]{1,4000}(?:\s+\"[^\"\n]{0,300}\")?\)|<img\b[^>]{0,4000}>",
    flags=re.IGNORECASE,
)
COLON = re.compile(r"[:：]")
MAX_LABELS_IN_LINE = 20
FRONT_KEY = re.compile(r"^(?P<key>[A-Za-z_\u4e00-\u9fff]{1,20})\s*:\s*(?P<value>.*)$")
ANY_DATE = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)")
HTML_HINT = re.compile(
    r"<(?:html|body|div|p|h[1-6]|ul|ol|li|article|section|br|img|blockquote)\b[^>]{0,2000}>",
    flags=re.IGNORECASE,
)


@dataclass
class ImportOptions:
    """The editor's choices, from the command's options or the preview's form."""

    issue_date: datetime.date | None = None
    title: str = ""
    label_map: dict = field(default_factory=dict)  # label -> SectionKind
    # Items without an arXiv link: entries sourced by their link, skipped, or summary lines.
    unlinked: str = "entries"


UNLINKED_CHOICES = ("entries", "skip", "summary")


@dataclass
class Prepared:
    lines: list[str]
    numbers: list[int]  # the pasted line each line comes from (1-based)
    front: dict = field(default_factory=dict)  # front matter: key -> (value, line)
    converted_from_html: bool = False


def looks_like_html(text: str) -> bool:
    """Copied from a web page: several block tags in the first 20,000 characters."""
    head = text[:20000]
    return len(HTML_HINT.findall(head)) >= 3 or head.lstrip()[:15].lower().startswith(
        ("<!doctype", "<html")
    )


def html_to_markdown(text: str) -> str:
    from markdownify import markdownify

    markdown = markdownify(text, heading_style="ATX", bullets="-", strip=["script", "style"])
    return re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"


def front_matter(lines: list[str]) -> tuple[dict, int]:
    """YAML front matter at the top: ``---``, ``key: value`` lines, ``---``. Returns the
    values (with their lines) and how many lines it takes (0 when there is none)."""
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines) or lines[start].strip() != "---":
        return {}, 0
    values = {}
    for i in range(start + 1, min(len(lines), start + 60)):
        line = lines[i].strip()
        if line in ("---", "..."):
            return values, i + 1
        found = FRONT_KEY.match(line)
        if found:
            value = found.group("value").strip().strip("\"'")
            values[found.group("key").casefold()] = (value, i + 1)
    return {}, 0


def find_date(text: str) -> datetime.date | None:
    found = ANY_DATE.search(text)
    if not found:
        return None
    try:
        return datetime.date(*(int(n) for n in found.groups()))
    except ValueError:
        return None


class LineSplitter:
    """Cuts a line that holds several things into lines of one thing each."""

    def __init__(self, kind_names: str, known_names=()):
        # kind_names: the alternation of every known label (SectionKindIndex.alternatives);
        # known_names: the same names, normalised (casefolded), for look-ups.
        self.known = {name for name in known_names if not name.isascii()}
        self.label_at = re.compile(
            rf"(?:\*\*)?(?:(?P<known>{kind_names})|(?P<unknown>[\u4e00-\u9fff]{{2,4}}))"
            r"(?:\*\*)?\s*[:：]",
            flags=re.IGNORECASE,
        )

    def split(self, line: str) -> list[str]:
        if len(line) < 4 or len(line) > 20000:
            return [line]  # a line of 20,000 characters is no critique: a paste of something else
        pieces = self._images(line)
        result = []
        for piece in pieces:
            result.extend(self._labels(piece))
        return result

    @staticmethod
    def _images(line: str) -> list[str]:
        if "![" not in line and "<img" not in line.lower():
            return [line]
        pieces, last = [], 0
        for found in INLINE_IMAGE.finditer(line):
            before = line[last : found.start()]
            if before.strip():
                pieces.append(before.rstrip())
            pieces.append(found.group(0))
            last = found.end()
        if line[last:].strip():
            pieces.append(line[last:].strip())
        return pieces or [line]

    def _cuts(self, line: str) -> list[int]:
        cuts = []
        lead = len(line) - len(line.lstrip(" -*>#"))
        if "**" in line:
            for found in BOLD_LABEL.finditer(line):
                if found.start() > lead:
                    cuts.append(found.start())
            if cuts:
                return cuts
        if "：" not in line and ":" not in line:
            return cuts
        # Known Chinese labels after a space or the end of a sentence; unknown ones (2-4
        # characters) only after a space, on a line that holds a label before them. Found
        # from each colon backwards, a bounded look: linear in the line.
        labelled = bool(self.label_at.match(line, lead))
        for found in COLON.finditer(line, lead + 1):
            colon = found.start()
            label = self._label_before(line, colon, lead)
            if label is None:
                continue
            start, name, before = label
            if name in self.known:
                if before not in " \t。；;！!？?）)":
                    continue
                labelled = True
            elif not labelled or before not in " \t" or not 2 <= len(name) <= 4:
                continue
            elif name in NOT_LABELS:
                continue
            cuts.append(start)
        return cuts

    @staticmethod
    def _label_before(line: str, colon: int, lead: int):
        """(start, label, the character before it) of a Chinese label ending at ``colon``
        ("要点：", "**动机**：", "方法 ："), or None."""
        end = colon
        while end > lead and line[end - 1] in " \t":
            end -= 1
        if line[end - 2 : end] == "**":
            end -= 2
        start = end
        while start > lead and end - start < 12 and "\u4e00" <= line[start - 1] <= "\u9fff":
            start -= 1
        if start == end or start <= lead:
            return None
        if line[start - 2 : start] == "**":
            start -= 2
            name = line[start + 2 : end]
        else:
            name = line[start:end]
        if start <= lead:
            return None
        return start, name.casefold(), line[start - 1]

    def _labels(self, line: str) -> list[str]:
        if len(line) > 20000:
            return [line]  # not a critique line: a paste of something else
        cuts = self._cuts(line)
        if not cuts or len(cuts) > MAX_LABELS_IN_LINE:
            # More labels than any critique line holds: a runaway paste, left whole (and
            # reported as unplaced text) rather than cut into thousands of sections.
            return [line]
        pieces, last = [], 0
        for cut in cuts:
            if line[last:cut].strip():
                pieces.append(line[last:cut].rstrip())
            last = cut
        pieces.append(line[last:])
        # A blank line between the pieces: each starts a section as a line after a break.
        out = []
        for piece in pieces:
            if out:
                out.append("")
            out.append(piece)
        return out


def prepare(text: str, splitter: LineSplitter, clean) -> Prepared:
    converted = False
    if looks_like_html(text):
        text = html_to_markdown(text)
        converted = True
    raw = text.split("\n")
    front, skip = front_matter(raw)
    lines, numbers = [], []
    for index, line in enumerate(raw):
        number = index + 1
        if index < skip:
            lines.append("")
            numbers.append(number)
            continue
        for piece in splitter.split(clean(line)):
            lines.append(piece)
            numbers.append(number)
    return Prepared(lines=lines, numbers=numbers, front=front, converted_from_html=converted)
