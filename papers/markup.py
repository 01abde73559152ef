"""Markdown for critique sections: rendered once at save time, sanitised, stored as HTML.

Raw HTML in the source is never passed through (markdown-it with ``html`` off), and the
result is cleaned by nh3 on an allowlist, so a section can never carry a script.
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
