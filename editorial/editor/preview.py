"""The preview beside the editor: what the typed (unsaved) content looks like with the
public templates, i.e. the markup readers get. The stored digest and entries are loaded as
the share-link preview loads them, then given the typed values in memory; nothing is saved.
Section text is rendered by the same Markdown function as at save; the cache tags of the
templates get a key no page uses and keep nothing."""

import copy
import datetime
import uuid

from taggit.models import Tag

from editorial.services import FIGURE_FIELDS
from papers.markup import normalise_section_text, render_markdown
from papers.models import Digest, Entry, Figure, Section, TaggedEntry
from reading.views.pages import digest_page_context, page_entries


def _typed_digest(digest: Digest, data: dict) -> Digest:
    shown = copy.copy(digest)
    shown._prefetched_objects_cache = {}
    for name in ("title", "summary"):
        if name in data:
            setattr(shown, name, data[name])
    # An address typed half-way (or a date not yet valid) keeps the stored one.
    try:
        shown.issue_date = datetime.date.fromisoformat(str(data.get("issue_date", "")))
    except ValueError:
        pass
    if "tags" in data:
        shown._prefetched_objects_cache["tags"] = [Tag(name=name) for name in data["tags"]]
    return shown


def preview_context(digest: Digest, data: dict, kinds) -> dict:
    """The context of ``includes/_digest_article.html`` (and of the whole digest page) for
    ``digest`` with the typed ``data`` (``editor.forms.data_from_post``; ``{}`` for the
    stored content)."""
    shown = _typed_digest(digest, data)
    stored = {entry.pk: entry for entry in page_entries(Entry.objects.filter(digest=digest))}
    order = [item["id"] for item in data.get("entries", [])] or list(stored)
    items = {item["id"]: item for item in data.get("entries", [])}
    sections = {}
    for section in Section.objects.filter(entry__digest=digest).select_related("kind"):
        sections.setdefault(section.entry_id, {})[section.kind.slug] = section.body
    figures = {}
    for figure in Figure.objects.filter(entry__digest=digest).order_by("position", "id"):
        figures.setdefault(figure.entry_id, []).append(figure)
    tags = {}
    for row in TaggedEntry.objects.filter(content_object__digest=digest).select_related("tag"):
        tags.setdefault(row.content_object_id, []).append(row.tag.name)

    entries = []
    for position, entry_id in enumerate(order, start=1):
        entry = stored.get(entry_id)
        if entry is None:
            continue
        item = items.get(entry_id, {})
        entry.digest = shown
        entry.position = position
        entry.title_zh = item.get("title_zh", entry.title_zh)
        texts = {**sections.get(entry.pk, {}), **item.get("sections", {})}
        shown_sections = []
        for kind in kinds:
            body = normalise_section_text(texts.get(kind.slug, ""), as_list=kind.is_list)
            if body:
                shown_sections.append(
                    Section(entry=entry, kind=kind, body=body, body_html=render_markdown(body))
                )
        typed = {value["id"]: value for value in item.get("figures", [])}
        shown_figures = []
        for figure in figures.get(entry.pk, []):
            for name in FIGURE_FIELDS:
                if name in typed.get(figure.pk, {}):
                    setattr(figure, name, typed[figure.pk][name])
            shown_figures.append(figure)
        names = item["tags"] if "tags" in item else tags.get(entry.pk, [])
        entry._prefetched_objects_cache = {
            "sections": shown_sections,
            "figures": shown_figures,
            "taggedentry_set": [TaggedEntry(tag=Tag(name=name)) for name in sorted(names)],
        }
        entries.append(entry)

    context = digest_page_context(
        shown, entries, names=f"editor-preview-{uuid.uuid4().hex}", is_preview=True, share=True
    )
    context["block_seconds"] = 0  # nothing of an unsaved preview is kept
    context["digest"] = shown
    return context
