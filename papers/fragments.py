"""Cached HTML of each paper's block on the digest and entry pages.

A digest page is mostly its papers' blocks (title, authors, tags, nine critique sections,
abstract, figures): rendering them through the template engine costs more than every query of
the page together. Each block is rendered once and kept in the cache under a key made of

- the *content version* (``content_cache.content_version()``), which changes on every change a
  reader could see: entry, paper, section, figure, tag, category, section kind, digest (its
  date and slug are in the links). Sections, figures and tags have no update time of their
  own and editing them does not touch the entry's ``updated_at``, so an update time would
  not be exact; the version is;
- the page kind (digest page: h2/h3 with ``paper-N-`` anchors; entry page: h1/h2 plus the
  section list and cross-lists), the language (headings and labels are translated),
  whether the page is a preview (placeholders of figures still to upload are shown to staff
  only) and whether it is a share link (titles link to in-page anchors);
- the entry's id.

A page whose blocks are all cached loads no sections, figures or tags at all; the missing ones
are loaded with one prefetch (a fixed number of queries, whatever their number) and rendered
with a context built here (per-section ids and names precomputed, no ``{% url %}``).
"""

from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db.models import prefetch_related_objects
from django.template.loader import get_template
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from .content_cache import content_version
from .models import SECTIONS_WITH_KIND

DIGEST_PAGE = "digest"
ENTRY_PAGE = "entry"

_TEMPLATES = {
    DIGEST_PAGE: "includes/_entry_block.html",
    ENTRY_PAGE: "includes/_entry_page_body.html",
}
_PREFETCH = {
    DIGEST_PAGE: ("tags", SECTIONS_WITH_KIND, "figures"),
    ENTRY_PAGE: ("tags", SECTIONS_WITH_KIND, "figures", "paper__categories"),
}
_HEADINGS = {DIGEST_PAGE: ("h2", "h3"), ENTRY_PAGE: ("h1", "h2")}


class Fragment(NamedTuple):
    html: str  # the block, ready to place (safe)
    image_url: str  # the first uploaded figure's URL, "" if none (for share cards)
    summary: str  # the 一句话总结 section's text, "" if none (page description)


def fragment_timeout() -> int:
    """Blocks hold figure URLs: with signed (expiring) media URLs keep them briefly."""
    options = settings.STORAGES.get("default", {}).get("OPTIONS", {})
    if options.get("querystring_auth"):
        return 300
    return getattr(settings, "FRAGMENT_CACHE_SECONDS", 24 * 3600)


def fragment_key(page: str, entry_id: int, *, version: str, is_preview: bool, share: bool) -> str:
    flags = ("preview" if is_preview else "public") + ("-share" if share else "")
    return f"papers:fragment:{page}:{version}:{get_language()}:{flags}:{entry_id}"


def entry_fragments(entries, *, page: str, is_preview: bool, share: bool = False):
    """The blocks of ``entries`` (each with ``paper``, its primary category and ``digest``
    loaded), in order: the cached ones from one cache read, the others rendered after one
    prefetch of their tags, sections and figures (and cross-lists on the entry page)."""
    version = content_version()
    keys = [
        fragment_key(page, entry.pk, version=version, is_preview=is_preview, share=share)
        for entry in entries
    ]
    found = cache.get_many(keys) if keys else {}
    missing = [(key, entry) for key, entry in zip(keys, entries, strict=True) if key not in found]
    if missing:
        rows = [entry for _key, entry in missing]
        prefetch_related_objects(rows, *_PREFETCH[page])
        template = get_template(_TEMPLATES[page])
        fresh = {
            key: _render(template, entry, page=page, is_preview=is_preview, share=share)
            for key, entry in missing
        }
        cache.set_many(fresh, fragment_timeout())
        found.update(fresh)
    return [Fragment(mark_safe(found[key][0]), *found[key][1:]) for key in keys]


def _render(template, entry, *, page: str, is_preview: bool, share: bool) -> tuple:
    """The block's HTML, first image URL and summary text, as plain (picklable) values."""
    paper = entry.paper
    anchor = entry.anchor
    prefix = f"{anchor}-" if page == DIGEST_PAGE else ""
    title_tag, section_tag = _HEADINGS[page]
    sections = []
    summary = ""
    for section in entry.sections.all():
        kind = section.kind
        if kind.slug == "summary" and not summary:
            summary = section.body
        sections.append(
            {
                "slug": kind.slug,
                "id": f"{prefix}{kind.slug}",
                "name_zh": kind.name_zh,
                "name_en": kind.name_en,
                "is_list": kind.is_list,
                "body_html": mark_safe(section.body_html),  # sanitised at save time
            }
        )
    figures = list(entry.figures.all())
    image_url = next((figure.image.url for figure in figures if figure.image), "")
    context = {
        "entry": entry,
        "paper": paper,
        "anchor": anchor,
        "entry_href": f"#{anchor}" if share else entry.get_absolute_url(),
        "title_tag": title_tag,
        "section_tag": section_tag,
        "anchor_prefix": prefix,
        "sections": sections,
        "figures": figures,
        "tags": list(entry.tags.all()),
        "is_preview": is_preview,
        "LANGUAGE_CODE": get_language(),
    }
    if page == ENTRY_PAGE:
        context["cross_listed"] = list(paper.categories.all())
    return (str(template.render(context)), image_url, summary)
