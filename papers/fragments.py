"""Cached HTML of each paper's block on the digest and entry pages.

A digest page is mostly its papers' blocks (title, authors, tags, eight or nine critique
sections, abstract, figures). Each block is rendered once and kept in the cache under a key
made of

- the *blocks version* (``content_cache.blocks_version()``), replaced only by a change that
  many blocks show: a category, section kind or tag renamed (papers/block_versions.py). The
  caller reads it *before* loading the entries, so that a rename committed in between is
  never cached under the new version;
- the page kind (digest page: h2/h3 headings and ``paper-N-`` anchors; entry page: h1/h2, plus
  the section list and cross-lists), the language (labels are translated, English adds the
  kinds' English names), whether the page is a preview (placeholders of figures still to
  upload are shown to staff only) and whether it is a share link (titles link to in-page
  anchors);
- the entry's id, creation time and ``block_version``: a counter raised in the transaction
  of every change the block shows (the entry, its sections, figures and tags, its paper and
  the paper's cross-lists, its digest's date and slug). An edit re-renders that paper's block
  only; the other papers of the digest come from the cache. A counter rather than
  ``updated_at``: sections, figures and tags have no update time of their own and editing
  them does not touch the entry's. The creation time covers an id used again (after a flush
  or a sequence reset) by a new row whose counter starts at 0 too.

The digest's own tag names are cached with the blocks under its ``tags_version``. Neither
key holds the content version (``content_cache.content_version()``): that one changes on any
edit anywhere and keys the whole pages (papers/page_cache.py), so a page that is not cached
any more is rebuilt from the blocks that did not change. Blocks are only rendered by reading
views (autocommit): a block rendered inside a transaction that raised its counter and then
rolled back would sit under a counter value that is used again.

A page whose blocks are all cached loads no sections, figures or tags at all. The missing ones
are loaded with one query per kind of row (a fixed number, whatever their number), as plain
values rather than model instances (ORM object building and prefetching cost more than the
SQL), and formatted here with escaped string templates: the template engine spent more on
these ~40 KB than all the page's queries together, and a cold digest page must not be slower
than a static template of its size (issue 7). The markup is the one the former
``includes/_entry_block.html`` template produced; tests/test_render_pages.py pins it.
"""

import functools
import hashlib
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.core.files.images import get_image_dimensions
from django.db import connection
from django.template.loader import get_template
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext
from taggit.models import Tag

from .models import Figure, Paper, Section, SectionKind, TaggedDigest, TaggedEntry

DIGEST_PAGE = "digest"
ENTRY_PAGE = "entry"

_HEADINGS = {DIGEST_PAGE: ("h2", "h3"), ENTRY_PAGE: ("h1", "h2")}
# The entry page wraps its block with the section list and cross-lists (a small template).
_ENTRY_PAGE_TEMPLATE = "includes/_entry_page_body.html"


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


@functools.cache
def markup_revision() -> str:
    """A digest of what the blocks' markup is made from (this module, the entry page's
    template, the compiled translations): blocks cached by an older release are never served
    by a newer one, with no revision number to remember to raise."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    template = get_template(_ENTRY_PAGE_TEMPLATE).origin.name
    catalogues = sorted(
        path for folder in settings.LOCALE_PATHS for path in Path(folder).glob("*/LC_MESSAGES/*.mo")
    )
    for path in (Path(template), *catalogues):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def fragment_key(page: str, entry, *, version: str, is_preview: bool, share: bool) -> str:
    flags = ("preview" if is_preview else "public") + ("-share" if share else "")
    return (
        f"papers:fragment:{page}:{markup_revision()}:{version}:{get_language()}:{flags}:"
        f"{entry.pk}:{_made(entry)}:{entry.block_version}"
    )


def digest_tags_key(digest, *, version: str) -> str:
    return (
        f"papers:fragment:digest-tags:{version}:{digest.pk}:{_made(digest)}:{digest.tags_version}"
    )


def _made(row) -> str:
    # With the id, the creation time: an id is used again after a flush, a sequence reset
    # or (SQLite) a rolled-back insert, and the new row starts at counter 0 too.
    return f"{row.created_at.timestamp():.6f}"


def entry_fragments(entries, *, version: str, page: str, is_preview: bool, share: bool = False):
    """The blocks of ``entries`` (each with ``paper``, its primary category and ``digest``
    loaded, and ``block_version``), in order: the cached ones from one cache read, the
    others rendered after loading their sections, tags and figures (and cross-lists on the
    entry page) with one query each, whatever their number. ``version``: ``blocks_version()``
    read *before* the entries were loaded (a rename committed in between then shows)."""
    return _fragments(entries, page, version, is_preview=is_preview, share=share, digest=None)[0]


def digest_fragments(digest, entries, *, version: str, is_preview: bool, share: bool = False):
    """(the blocks of the digest page, the digest's tag names). The tag names are cached
    with the blocks, and loaded in the same query as the papers' tags."""
    return _fragments(
        entries, DIGEST_PAGE, version, is_preview=is_preview, share=share, digest=digest
    )


def _fragments(entries, page, version, *, is_preview, share, digest):
    keys = [
        fragment_key(page, entry, version=version, is_preview=is_preview, share=share)
        for entry in entries
    ]
    tags_key = digest_tags_key(digest, version=version) if digest else None
    found = cache.get_many([*keys, tags_key] if digest else keys) if keys or digest else {}
    missing = [(key, entry) for key, entry in zip(keys, entries, strict=True) if key not in found]
    fresh = {}
    digest_tags = found.get(tags_key) if digest else None
    if missing:
        rows = [entry for _key, entry in missing]
        want = digest if digest is not None and digest_tags is None else None
        content = _load(rows, page, digest=want)
        fresh = {
            key: _render(entry, content, page=page, is_preview=is_preview, share=share)
            for key, entry in missing
        }
        found.update(fresh)
        if want is not None:
            digest_tags = fresh[tags_key] = content["digest_tags"]
    elif digest is not None and digest_tags is None:
        digest_tags = fresh[tags_key] = _digest_tags(digest)
    if fresh:
        cache.set_many(fresh, fragment_timeout())
    blocks = [Fragment(mark_safe(found[key][0]), *found[key][1:]) for key in keys]
    return blocks, digest_tags


def _digest_tags(digest) -> list[str]:
    tagged = TaggedDigest.objects.filter(content_object_id=digest.pk).order_by("id")
    return list(tagged.values_list("tag__name", flat=True))


# --- loading -------------------------------------------------------------------------------


class _Section(NamedTuple):
    body: str
    body_html: str
    slug: str
    name_zh: str
    name_en: str
    is_list: bool


class _Figure(NamedTuple):
    image: str  # the stored name, "" for a placeholder
    width: int | None
    height: int | None
    caption: str
    alt_text: str
    source_url: str
    licence: str
    placeholder: str


def _load(rows, page: str, *, digest=None) -> dict:
    """What the blocks of ``rows`` show beyond the entry and paper, as plain values: one
    query per kind of row. With ``digest``, its tag names come with the papers' tags (one
    UNION ALL query) as ``content["digest_tags"]``.

    Plain SQL built from the models' table and column names: for these few rows the ORM
    took several times longer to build each query than the database took to answer it, and
    the cold digest page must stay under a static template's time (issue 7). They read
    published content only through ids the caller got from ``visible_to()``."""
    ids = [row.pk for row in rows]
    content = {"sections": {}, "tags": {}, "figures": {}, "cross": {}, "digest_tags": None}
    section, kind = _sql_names(Section), _sql_names(SectionKind)
    for entry_id, *values in _fetch(
        f"SELECT s.{section['entry']}, s.{section['body']}, s.{section['body_html']}, "
        f"k.{kind['slug']}, k.{kind['name_zh']}, k.{kind['name_en']}, k.{kind['is_list']} "
        f"FROM {section['table']} s JOIN {kind['table']} k ON k.{kind['id']} = s.{section['kind']} "
        f"WHERE s.{section['entry']} IN ({_marks(ids)}) ORDER BY k.{kind['order']}, k.{kind['id']}",
        ids,
    ):
        body, body_html, slug, name_zh, name_en, is_list = values
        content["sections"].setdefault(entry_id, []).append(
            _Section(body, body_html, slug, name_zh, name_en, bool(is_list))
        )
    tag = _sql_names(Tag)
    parts, params = [], []
    for of_digest, through, owners in ((0, TaggedEntry, ids), (1, TaggedDigest, [])):
        if of_digest:
            if digest is None:
                continue
            owners = [digest.pk]
        names = _sql_names(through)
        parts.append(
            f"SELECT {of_digest}, x.{names['id']}, x.{names['content_object']}, t.{tag['name']} "
            f"FROM {names['table']} x JOIN {tag['table']} t ON t.{tag['id']} = x.{names['tag']} "
            f"WHERE x.{names['content_object']} IN ({_marks(owners)})"
        )
        params += owners
    if digest is not None:
        content["digest_tags"] = []
    # In the order editors added them (each kind sorted by its own row ids).
    for of_digest, _id, owner_id, name in sorted(
        _fetch(" UNION ALL ".join(parts), params), key=lambda row: row[1]
    ):
        if of_digest:
            content["digest_tags"].append(name)
        else:
            content["tags"].setdefault(owner_id, []).append(name)
    figure = _sql_names(Figure)
    columns = ", ".join(figure[name] for name in ("entry", *_Figure._fields))
    for entry_id, *values in _fetch(
        f"SELECT {columns} FROM {figure['table']} WHERE {figure['entry']} IN ({_marks(ids)}) "
        f"ORDER BY {figure['position']}, {figure['id']}",
        ids,
    ):
        found = _Figure(*values)
        if found.image and found.width is None:
            found = found._replace(**_dimensions(found.image))
        content["figures"].setdefault(entry_id, []).append(found)
    if page == ENTRY_PAGE:
        listed = Paper.categories.through.objects.filter(
            paper_id__in={row.paper_id for row in rows}
        ).order_by("category__code")
        for paper_id, code, name in listed.values_list(
            "paper_id", "category__code", "category__name"
        ):
            content["cross"].setdefault(paper_id, []).append({"code": code, "name": name})
    return content


def _sql_names(model) -> dict:
    """Quoted table and column names of ``model``: ``{"table": …, field name: column}``."""
    quote = connection.ops.quote_name
    names = {"table": quote(model._meta.db_table)}
    for field in model._meta.concrete_fields:
        names[field.name] = quote(field.column)
    return names


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def _fetch(sql: str, params) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _dimensions(name: str) -> dict:
    """An image's size read from its file, for rows stored without it (as a Figure instance
    would: ImageField reads the file when its dimension fields are empty)."""
    storage = Figure._meta.get_field("image").storage
    try:
        with storage.open(name) as file:
            width, height = get_image_dimensions(file)
    except (OSError, ValueError):
        return {}
    return {"width": width, "height": height}


# --- formatting ----------------------------------------------------------------------------
# Every value is escaped except the sections' bodies, sanitised (nh3) when they were saved.

_HEADER = (
    '<article class="entry" id="{anchor}" aria-labelledby="{anchor}-title">\n'
    '  <header class="entry-header">\n'
    '    <{title_tag} class="entry-title" id="{anchor}-title"><span class="entry-number">'
    '{position}、</span><span class="cat" title="{code}">[{short_code}]</span> '
    '<a href="{href}" lang="en">{title}</a></{title_tag}>\n'
    '    <p class="authors" lang="en">{authors}</p>\n'
)
_AFFILIATIONS = '    <p class="affiliations" lang="en">[{}]</p>\n'
_TITLE_ZH = '    <p class="title-zh" lang="zh-Hans">{}</p>\n'
_TAGS = '    <ul class="tags" aria-label="{label}">{items}</ul>\n'
_SECTION = (
    '  <section class="critique critique-{slug}{is_list}" id="{id}" aria-labelledby="{id}-h">\n'
    '    <{tag} id="{id}-h"><a class="anchor" href="#{id}">{name_zh}</a>{name_en}</{tag}>\n'
    '    <div class="body" lang="zh-Hans">{body}</div>\n'
    "  </section>\n"
)
_KIND_EN = ' <span class="kind-en">{}</span>'
_ABSTRACT = (
    '  <section class="abstract" id="{prefix}abstract" aria-labelledby="{prefix}abstract-h">\n'
    '    <{tag} id="{prefix}abstract-h">{label}</{tag}>\n'
    '    <p lang="en">{abstract}</p>\n'
    "  </section>\n"
)
_LINKS = (
    '  <p class="links"><a href="{abs_url}" rel="noopener">arXiv:{arxiv_id}</a> · '
    '<a href="{pdf_url}" rel="noopener">PDF</a></p>\n'
)
_FIGURE = (
    '  <figure class="figure">\n'
    '    <img src="{src}" alt="{alt}" loading="lazy" decoding="async"{size}>\n'
    "{caption}"
    "  </figure>\n"
)
_FIGCAPTION = "    <figcaption>{caption}{credit}</figcaption>\n"
_MISSING_FIGURE = '  <p class="figure-missing">{label}: {text}</p>\n'


def _render(entry, content, *, page: str, is_preview: bool, share: bool) -> tuple:
    """The block's HTML, first image URL, summary text and (entry page) neighbours, as plain
    picklable values."""
    paper = entry.paper
    sections = content["sections"].get(entry.pk, [])
    figures = content["figures"].get(entry.pk, [])
    storage = Figure._meta.get_field("image").storage
    image_url = next((storage.url(figure.image) for figure in figures if figure.image), "")
    summary = next((section.body for section in sections if section.slug == "summary"), "")
    html = _block_html(entry, paper, content, sections, figures, storage, page, is_preview, share)
    if page == ENTRY_PAGE:
        html = get_template(_ENTRY_PAGE_TEMPLATE).render(
            {
                "block": mark_safe(html),
                "sections": sections,
                "paper": paper,
                "cross_listed": content["cross"].get(paper.pk, []),
            }
        )
    return (str(html), image_url, summary)


def _block_html(entry, paper, content, sections, figures, storage, page, is_preview, share):
    anchor = entry.anchor
    prefix = f"{anchor}-" if page == DIGEST_PAGE else ""
    title_tag, section_tag = _HEADINGS[page]
    category = paper.primary_category
    parts = [
        _HEADER.format(
            anchor=anchor,
            title_tag=title_tag,
            position=entry.position,
            code=escape(category.code),
            short_code=escape(category.short_code),
            href=f"#{anchor}" if share else escape(entry.get_absolute_url()),
            title=escape(paper.title),
            authors=", ".join(escape(name) for name in paper.author_list),
        )
    ]
    if paper.affiliations:
        parts.append(
            _AFFILIATIONS.format(" &amp; ".join(escape(name) for name in paper.affiliation_list))
        )
    if entry.title_zh:
        parts.append(_TITLE_ZH.format(escape(entry.title_zh)))
    tags = content["tags"].get(entry.pk)
    if tags:
        items = "".join(f"<li>{escape(name)}</li>" for name in tags)
        parts.append(_TAGS.format(label=escape(gettext("Tags")), items=items))
    parts.append("  </header>\n")
    english = get_language() == "en"
    for section in sections:
        slug = escape(section.slug)
        parts.append(
            _SECTION.format(
                slug=slug,
                is_list=" is-list" if section.is_list else "",
                id=f"{prefix}{slug}",
                tag=section_tag,
                name_zh=escape(section.name_zh),
                name_en=_KIND_EN.format(escape(section.name_en)) if english else "",
                body=section.body_html,
            )
        )
    if paper.abstract:
        parts.append(
            _ABSTRACT.format(
                prefix=prefix,
                tag=section_tag,
                label=escape(gettext("Abstract")),
                abstract=escape(paper.abstract),
            )
        )
    parts.append(
        _LINKS.format(
            abs_url=escape(paper.abs_url),
            arxiv_id=escape(paper.arxiv_id),
            pdf_url=escape(paper.pdf_url),
        )
    )
    for figure in figures:
        if figure.image:
            parts.append(_figure_html(figure, storage))
        elif is_preview:
            parts.append(
                _MISSING_FIGURE.format(
                    label=escape(gettext("Image to upload")),
                    text=escape(figure.placeholder or figure.caption),
                )
            )
    parts.append("</article>\n")
    return "".join(parts)


def _figure_html(figure: _Figure, storage) -> str:
    size = ""
    if figure.width:
        size = f' width="{figure.width}" height="{figure.height}"'
    caption = ""
    if figure.caption or figure.source_url or figure.licence:
        credit = ""
        if figure.source_url or figure.licence:
            link = ""
            if figure.source_url:
                link = (
                    f'<a href="{escape(figure.source_url)}" rel="nofollow noopener">'
                    f"{escape(gettext('source'))}</a>"
                )
            comma = ", " if figure.source_url and figure.licence else ""
            credit = f' <span class="credit">({link}{comma}{escape(figure.licence)})</span>'
        caption = _FIGCAPTION.format(caption=escape(figure.caption), credit=credit)
    return _FIGURE.format(
        src=escape(storage.url(figure.image)),
        alt=escape(figure.alt_text or figure.caption),
        size=size,
        caption=caption,
    )
