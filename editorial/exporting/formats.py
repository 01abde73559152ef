"""The four formats. Each reads the digest loaded by ``core.load_digest`` and renders a
template of templates/editorial/export/. The text is in the site's language (Chinese),
whatever the language of the editor who asks for it; the warnings are in the editor's."""

from __future__ import annotations

import html
import json
import re

import css_inline
import nh3
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from markdown_it import MarkdownIt

from editorial.exporting.core import FORMATS, Export, ExportError, SiteAddress
from papers.models import Category, Digest
from reading import api

# The WeChat editor refuses an article whose text is longer than this.
WECHAT_MAX_TEXT = 20_000
WECHAT_COLUMN_PX = 677

# What may reach the WeChat editor: the tags it keeps, and no attribute but inline styles
# (and an image's address, size and text). nh3 also drops <style>, <script>, comments and
# the classes the stylesheet was matched by.
WECHAT_TAGS = {
    "section", "h1", "h2", "h3", "p", "span", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "img", "sup", "br",
}  # fmt: skip
WECHAT_ATTRIBUTES = {"*": {"style"}, "img": {"src", "alt", "width"}, "ol": {"start"}}


def render(digest: Digest, fmt: str, address: SiteAddress) -> Export:
    if fmt not in FORMATS:
        raise ExportError(
            _("Unknown format “%(fmt)s”; choose one of: %(choices)s.")
            % {"fmt": fmt, "choices": ", ".join(FORMATS)}
        )
    return RENDERERS[fmt](digest, address)


# --- what the formats share ---------------------------------------------------------------


class References:
    """Numbered references: each address gets one number, in order of first citation."""

    def __init__(self):
        self.items: list[dict] = []
        self._numbers: dict[str, int] = {}

    def cite(self, url: str, label: str = "") -> int:
        if url not in self._numbers:
            self._numbers[url] = len(self.items) + 1
            self.items.append({"number": self._numbers[url], "url": url, "label": label})
        return self._numbers[url]


def _content(template: str, context: dict) -> str:
    """A template rendered for readers: in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(template, context)


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]


def _tag(category: Category, ambiguous: set[str]) -> str:
    """[LG] as the site shows it, or the full code where the short one is shared by several
    categories (the importer would otherwise read the short one as another category)."""
    return category.code if category.short_code in ambiguous else category.short_code


def _ambiguous_short_codes() -> set[str]:
    seen, twice = set(), set()
    for code in Category.objects.values_list("code", flat=True):
        short = code.rsplit(".", 1)[-1]
        (twice if short in seen else seen).add(short)
    return twice


def _base_entries(digest: Digest, address: SiteAddress) -> list[dict]:
    """Each entry's values every format shows."""
    ambiguous = _ambiguous_short_codes()
    rows = []
    for entry in digest.export_entries:
        paper = entry.paper
        figures = list(entry.figures.all())
        rows.append(
            {
                "entry": entry,
                "position": entry.position,
                "tag": _tag(paper.primary_category, ambiguous),
                "title": paper.title,
                "title_zh": entry.title_zh,
                "affiliation_list": paper.affiliation_list,
                "authors": paper.authors_line,
                "affiliations": " & ".join(paper.affiliation_list),
                "arxiv_id": paper.arxiv_id,
                "arxiv_url": paper.abs_url,
                # Where the item is: its arXiv page, or the link of an item not on arXiv.
                "link_url": paper.source_link,
                "link_label": paper.source_label,
                "abstract_paragraphs": _paragraphs(paper.abstract),
                "topics": [t.name for t in entry.tags.all()],
                "section_rows": list(entry.sections.all()),
                "image_figures": [
                    {
                        "figure": f,
                        "src": address.build_absolute_uri(f.image.url),
                        "caption": f.caption,
                        "alt": f.alt_text or f.caption,
                        "width": min(f.width, WECHAT_COLUMN_PX) if f.width else None,
                    }
                    for f in figures
                    if f.image
                ],
                "placeholders": [f for f in figures if not f.image],
            }
        )
    return rows


def _warnings(rows: list[dict], *, placeholders_left_out: bool) -> list[str]:
    warnings = []
    if not rows:
        warnings.append(_("This digest has no papers yet."))
    waiting = [(row["position"], f) for row in rows for f in row["placeholders"]]
    if waiting and placeholders_left_out:
        warnings.append(
            ngettext(
                "%(count)d figure has no image yet and is left out (%(where)s).",
                "%(count)d figures have no image yet and are left out (%(where)s).",
                len(waiting),
            )
            % {
                "count": len(waiting),
                "where": "; ".join(
                    _("paper %(n)d: %(what)s") % {"n": n, "what": f.placeholder or f.caption}
                    for n, f in waiting
                ),
            }
        )
    return warnings


def _context(digest: Digest, address: SiteAddress) -> dict:
    entries = _base_entries(digest, address)
    return {
        "digest": digest,
        "entries": entries,
        "summary_paragraphs": _paragraphs(digest.summary),
        "summary_lines": [line.strip() for line in digest.summary.splitlines() if line.strip()],
        "topics": [t.name for t in digest.tags.all()],
        "site_url": address.build_absolute_uri(digest.get_absolute_url()),
    }


# --- WeChat Official Account HTML ---------------------------------------------------------


def _wechat_markdown() -> MarkdownIt:
    """Section Markdown as the WeChat editor keeps it: links become numbered references
    (nothing outside WeChat can be opened from an article) and each list item's text sits in
    a <section>, which keeps its style when the editor rewrites the list."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")

    def link_open(renderer, tokens, idx, options, env):
        label = []
        for token in tokens[idx + 1 :]:
            if token.type == "link_close":
                break
            label.append(token.content)
        env["links"].append((tokens[idx].attrGet("href") or "", "".join(label)))
        return ""

    def link_close(renderer, tokens, idx, options, env):
        url, label = env["links"].pop()
        return f"<sup>[{env['references'].cite(url, label)}]</sup>"

    md.add_render_rule("link_open", link_open)
    md.add_render_rule("link_close", link_close)
    md.add_render_rule("list_item_open", lambda *args: "<li><section>")
    md.add_render_rule("list_item_close", lambda *args: "</section></li>\n")
    return md


_WECHAT_MD = _wechat_markdown()
_INLINER = css_inline.CSSInliner(
    inline_style_tags=False, keep_style_tags=False, load_remote_stylesheets=False
)


def wechat_text_length(fragment: str) -> int:
    """The characters of text the WeChat editor counts (markup aside, runs of white space
    as one)."""
    text = html.unescape(strip_tags(fragment))
    return len(re.sub(r"\s+", " ", text).strip())


def _wechat(digest: Digest, address: SiteAddress) -> Export:
    context = _context(digest, address)
    warnings = _warnings(context["entries"], placeholders_left_out=True)
    references = References()
    with translation.override(settings.LANGUAGE_CODE):
        figure_source = _("Figure source")
    for row in context["entries"]:
        # Cited in the order the article shows them, so the numbers rise down the page.
        row["sections"] = []
        for section in row["section_rows"]:
            env = {"links": [], "references": references}
            row["sections"].append(
                {
                    "name": section.kind.name_zh,
                    "html": _WECHAT_MD.render(section.body, env),
                    "text": section.body,
                }
            )
        row["figures"] = []
        for figure in row["image_figures"]:
            source = figure["figure"].source_url
            row["figures"].append(
                {
                    **figure,
                    "source_ref": references.cite(source, figure_source) if source else None,
                }
            )
        row["arxiv_ref"] = references.cite(row["link_url"], row["link_label"])
    context["site_ref"] = references.cite(context["site_url"], digest.title)
    context["references"] = references.items

    markup = _content("editorial/export/wechat.html", context)
    stylesheet = _content("editorial/export/wechat.css", {})
    styled = _INLINER.inline_fragment(markup, stylesheet)
    fragment = nh3.clean(
        styled,
        tags=WECHAT_TAGS,
        attributes=WECHAT_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel=None,
        strip_comments=True,
    ).strip()
    length = wechat_text_length(fragment)
    if length > WECHAT_MAX_TEXT:
        warnings.insert(
            0,
            _(
                "Too long for WeChat: the text is %(count)s characters and the WeChat editor "
                "takes at most %(limit)s. Shorten the issue or publish it as two articles."
            )
            % {"count": f"{length:,}", "limit": f"{WECHAT_MAX_TEXT:,}"},
        )
    plain = _content("editorial/export/wechat.txt", context)
    return Export(
        digest=digest,
        format="wechat",
        text=fragment + "\n",
        warnings=warnings,
        plain_text=_tidy(plain),
        text_length=length,
    )


# --- Zhihu Markdown -----------------------------------------------------------------------


def _zhihu(digest: Digest, address: SiteAddress) -> Export:
    """Zhihu's document import keeps two heading levels: ``#`` for the issue and each paper,
    ``##`` for the critique sections; images by absolute address."""
    context = _context(digest, address)
    warnings = _warnings(context["entries"], placeholders_left_out=True)
    for row in context["entries"]:
        row["sections"] = [
            {"name": s.kind.name_zh, "text": s.body} for s in row["section_rows"] if s.body
        ]
        row["figures"] = row["image_figures"]
    text = _content("editorial/export/zhihu.md", context)
    return Export(digest=digest, format="zhihu", text=_tidy(text), warnings=warnings)


# --- Markdown in the site's layout (read back by editorial/importing/) ---------------------


def _indented(lines: list[str]) -> list[str]:
    return [f"  {line}" if line.strip() else "" for line in lines]


def section_block(name: str, body: str, *, is_list: bool) -> str:
    """``- 要点：`` with the body below it, two spaces in, as the Markdown layout nests it; a
    prose body starts on the heading's line (there it can never be taken for the English
    abstract), unless it opens with a list or bold text."""
    lines = body.split("\n")
    first = lines[0].strip() if lines else ""
    if is_list or not first or re.match(r"^(?:[-*+•]|\d{1,2}[.)、]|\*\*)", first):
        return "\n".join([f"- {name}：", *_indented(lines)])
    return "\n".join([f"- {name}：{first}", *_indented(lines[1:])])


def _figure_line(figure: dict) -> str:
    caption = figure["caption"].replace("]", "］").replace("\n", " ")
    return f"![{caption}]({figure['src']})"


_PLACEHOLDER_LINE = re.compile(r"^(?:Image on\b.*|\[(?:图片|图|image|img)[^\]]*\])$", re.I)


def _placeholder_line(figure) -> str:
    """A figure still to upload, as the importer writes it (``Image on …``, ``[图片…]``)."""
    text = (figure.placeholder or figure.caption or "").replace("\n", " ").strip()
    return text if _PLACEHOLDER_LINE.match(text) else f"[图片: {text.replace(']', '］')}]"


def _markdown(digest: Digest, address: SiteAddress) -> Export:
    context = _context(digest, address)
    warnings = _warnings(context["entries"], placeholders_left_out=False)
    for row in context["entries"]:
        row["sections"] = [
            {"block": section_block(s.kind.name_zh, s.body, is_list=s.kind.is_list)}
            for s in row["section_rows"]
            if s.body
        ]
        # Figures in their order, uploaded or not: a placeholder comes back as one.
        figures = [
            (f["figure"].position, f["figure"].pk, _figure_line(f)) for f in row["image_figures"]
        ]
        figures += [(f.position, f.pk, _placeholder_line(f)) for f in row["placeholders"]]
        row["figures"] = [{"line": line} for *_order, line in sorted(figures)]
        affiliations = row["affiliation_list"]
        separator = "; " if any("&" in a or "＆" in a for a in affiliations) else " & "
        row["affiliations"] = separator.join(affiliations)
    text = _content("editorial/export/digest.md", context)
    return Export(digest=digest, format="markdown", text=_tidy(text), warnings=warnings)


# --- JSON in the API's shape ----------------------------------------------------------------


def _json(digest: Digest, address: SiteAddress) -> Export:
    data = api.digest_detail_data(address, digest, digest.export_entries)
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    warnings = _warnings(_base_entries(digest, address), placeholders_left_out=True)
    return Export(digest=digest, format="json", text=text + "\n", warnings=warnings)


def _tidy(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, one newline at the end."""
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"


RENDERERS = {"wechat": _wechat, "zhihu": _zhihu, "markdown": _markdown, "json": _json}
