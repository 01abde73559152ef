"""Light Markdown for reader comments: paragraphs, emphasis, links, code (and quotes and
lists, which readers type anyway). Rendered once when the comment is saved.

Raw HTML is never passed through (markdown-it with ``html`` off), headings, rules and
images are switched off, and nh3 cleans the result on a small allowlist. Links keep only
http(s) targets and get ``rel="nofollow ugc noopener"``.
"""

import re

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_md.disable(["image", "heading", "lheading", "hr", "html_block", "html_inline", "reference"])

ALLOWED_TAGS = {"p", "br", "em", "strong", "code", "pre", "a", "blockquote", "ul", "ol", "li"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
LINK_REL = "nofollow ugc noopener"

# Characters that reorder text for display (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI):
# an "RTL override" can make a link or a name read differently from what it is.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Other invisible controls (C0 except tab and newline, DEL, C1); NUL is refused by the form.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def neutralise(text: str) -> str:
    """Drop bidi overrides and control characters; normalise line ends."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", BIDI_CONTROLS.sub("", text))


def render_comment(text: str) -> str:
    """Comment source -> safe HTML."""
    html = _md.render(neutralise(text))
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel=LINK_REL,
    ).strip()


_LINK = re.compile(r"https?://|www\.", flags=re.IGNORECASE)


def count_links(text: str) -> int:
    """Links in a comment's source, written as URLs or as Markdown links."""
    return len(_LINK.findall(text or ""))
