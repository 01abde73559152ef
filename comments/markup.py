"""Light Markdown for reader comments: paragraphs, emphasis, links, code (and quotes and
lists, which readers type anyway). Rendered once when the comment is saved.

The renderer is papers/markup.py's light Markdown, which the site's footer shares: raw HTML
is never passed through, headings, rules and images are switched off, and nh3 cleans the
result on a small allowlist. Links keep only http(s) targets and get
``rel="nofollow ugc noopener"``.
"""

import re

from papers.markup import BIDI_CONTROLS, neutralise, render_light_markdown

__all__ = ["BIDI_CONTROLS", "LINK_REL", "count_links", "neutralise", "render_comment"]

LINK_REL = "nofollow ugc noopener"


def render_comment(text: str) -> str:
    """Comment source -> safe HTML."""
    return render_light_markdown(text, url_schemes={"http", "https"}, link_rel=LINK_REL)


_LINK = re.compile(r"https?://|www\.", flags=re.IGNORECASE)


def count_links(text: str) -> int:
    """Links in a comment's source, written as URLs or as Markdown links."""
    return len(_LINK.findall(text or ""))
