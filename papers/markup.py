"""Markdown rendered once at save time, sanitised, stored as HTML: critique sections, and
the light Markdown of reader comments (comments/markup.py) and of the site's footer.

Raw HTML in the source is never passed through (markdown-it with ``html`` off), and the
result is cleaned by nh3 on an allowlist, so a section, a comment or the footer can never
carry a script.
"""

import re

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_md.disable("image")  # figures are Figure rows with captions and licences, never inline

ALLOWED_TAGS = {"p", "ul", "ol", "li", "em", "strong", "code", "pre", "a", "blockquote", "br"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}

# Bullets pasted from a word processor or a chat app: "• item", "· item", "●", "▪".
_PASTED_BULLET = re.compile(r"^[ \t]*[•·●▪◦][ \t]*", flags=re.MULTILINE)
_LIST_MARKER = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+", flags=re.MULTILINE)


def normalise_section_text(text: str, *, as_list: bool) -> str:
    """Tidy an editor's text: pasted bullets become Markdown bullets; for list kinds,
    plain lines (no list markers at all) become one bullet each."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    text = _PASTED_BULLET.sub("- ", text)
    if as_list and text and not _LIST_MARKER.search(text):
        text = "\n".join(f"- {line.strip()}" for line in text.split("\n") if line.strip())
    return text


def render_markdown(text: str) -> str:
    """Markdown source -> safe HTML."""
    html = _md.render(text or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    ).strip()


def absolute_links(html: str, *, base: str) -> str:
    """Stored section HTML with its relative links made absolute against ``base`` (the
    site's address), for places read away from the site: mail, exports."""
    return nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
        url_relative=("rewrite_with_base", base.rstrip("/") + "/"),
    ).strip()


# Light Markdown (comments, the footer): paragraphs, emphasis, links, code, quotes and lists;
# headings, rules, images, raw HTML and reference definitions switched off.
_LIGHT_RULES = ["image", "heading", "lheading", "hr", "html_block", "html_inline", "reference"]
_light = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_light.disable(_LIGHT_RULES)
# The footer's lines are lines (a postal address, a phone number): a newline is a break.
_light_breaks = MarkdownIt(
    "commonmark", {"html": False, "linkify": False, "typographer": False, "breaks": True}
)
_light_breaks.disable(_LIGHT_RULES)

LIGHT_TAGS = {"p", "br", "em", "strong", "code", "pre", "a", "blockquote", "ul", "ol", "li"}

# Characters that reorder text for display (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI):
# an "RTL override" can make a link or a name read differently from what it is.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Other invisible controls (C0 except tab and newline, DEL, C1); NUL is refused by forms.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def neutralise(text: str) -> str:
    """Drop bidi overrides and control characters; normalise line ends."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", BIDI_CONTROLS.sub("", text))


def render_light_markdown(
    text: str, *, url_schemes: set[str], link_rel: str, breaks: bool = False
) -> str:
    """Light Markdown source -> safe HTML: links keep only ``url_schemes`` and get
    ``link_rel``; with ``breaks`` a newline is a line break."""
    html = (_light_breaks if breaks else _light).render(neutralise(text))
    return nh3.clean(
        html,
        tags=LIGHT_TAGS,
        attributes={"a": {"href"}},
        url_schemes=url_schemes,
        link_rel=link_rel,
    ).strip()


def render_footer(text: str) -> str:
    """The site footer's Markdown -> safe HTML (links to web pages, mail and phone numbers,
    such as a licence number linked to its registry)."""
    return render_light_markdown(
        text, url_schemes={"http", "https", "mailto", "tel"}, link_rel="noopener", breaks=True
    )
