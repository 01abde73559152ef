"""The editor's form: its field names, what a POST (plain form or autosave, the same
fields) means as ``digest_save_content`` data, and the rows the page shows."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from taggit.utils import edit_string_for_tags, parse_tags

from editorial.services import DIGEST_FIELDS, FIGURE_FIELDS, entry_key, figure_key
from papers.models import Digest, Entry, SectionKind

MOVES = ("up", "down")


def load_entries(digest: Digest) -> list[Entry]:
    """The digest's entries in order with everything the editor shows (fixed queries)."""
    return list(
        digest.entries.select_related("paper__primary_category")
        .prefetch_related("tags", "figures", "sections__kind")
        .order_by("position")
    )


def _ids(values) -> list[int]:
    try:
        return [int(value) for value in values]
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("The form was garbled; reload the page.")) from exc


def data_from_post(post, entries: list[Entry], kinds: list[SectionKind]) -> dict:
    """``digest_save_content`` data from the editor's POST. The entries come in the order of
    their hidden ``entry`` fields (the page's order after drag and drop); a ``move`` button
    (``<id>:up``) pressed without JavaScript moves one entry before saving."""
    data = {name: post[name] for name in DIGEST_FIELDS if name in post}
    if "tags" in post:
        data["tags"] = parse_tags(post["tags"])
    known = {entry.pk: entry for entry in entries}
    order = _ids(post.getlist("entry")) if "entry" in post else [entry.pk for entry in entries]
    move = post.get("move", "")
    if ":" in move:
        moved, _sep, direction = move.partition(":")
        moved = _ids([moved])[0]
        if moved in order and direction in MOVES:
            at = order.index(moved)
            to = at - 1 if direction == "up" else at + 1
            if 0 <= to < len(order):
                order[at], order[to] = order[to], order[at]
    items = []
    for entry_id in order:
        item = {"id": entry_id}
        if (name := entry_key(entry_id, "title_zh")) in post:
            item["title_zh"] = post[name]
        if (name := entry_key(entry_id, "tags")) in post:
            item["tags"] = parse_tags(post[name])
        item["sections"] = {
            kind.slug: post[entry_key(entry_id, f"s-{kind.slug}")]
            for kind in kinds
            if entry_key(entry_id, f"s-{kind.slug}") in post
        }
        entry = known.get(entry_id)
        figures = entry.figures.all() if entry else []
        item["figures"] = [
            {"id": figure.pk}
            | {
                name: post[figure_key(figure.pk, name)]
                for name in FIGURE_FIELDS
                if figure_key(figure.pk, name) in post
            }
            for figure in figures
        ]
        items.append(item)
    data["entries"] = items
    return data


@dataclass
class Box:
    """One input of the page: its name, label, value and error."""

    name: str
    label: str
    value: str
    error: str = ""
    hint: str = ""
    is_list: bool = False
    slug: str = ""
    comments: list = field(default_factory=list)  # reviewers' (editor.comments.attach)
    unresolved: int = 0


@dataclass
class EntryRow:
    entry: Entry
    position: int
    title_zh: Box
    tags: Box
    sections: list[Box] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)
    # Reviewers' comments on the paper itself, and the counts (editor.comments.attach).
    comments: list = field(default_factory=list)
    comment_key: str = ""
    total_key: str = ""
    unresolved: int | None = None
    comments_anchor: str = ""


def page_rows(
    digest: Digest, entries: list[Entry], kinds, *, data=None, errors=None
) -> tuple[dict, list]:
    """The digest's boxes and the entries' rows, with the typed ``data`` (after a refused
    save, nothing is lost) or the stored values, and the errors by field name."""
    errors = errors or {}
    data = data or {}

    def box(name, label, stored, **more):
        value = data.get("raw", {}).get(name, stored)
        return Box(name=name, label=label, value=value, error=errors.get(name, ""), **more)

    fields = {
        "title": box("title", _("Title"), digest.title),
        "slug": box("slug", _("Slug"), digest.slug),
        "issue_date": box("issue_date", _("Issue date"), digest.issue_date.isoformat()),
        "summary": box("summary", _("Summary"), digest.summary),
        "tags": box("tags", _("Tags"), edit_string_for_tags(list(digest.tags.all()))),
    }
    by_id = {entry.pk: entry for entry in entries}
    order = [item["id"] for item in data.get("entries", [])] or [e.pk for e in entries]
    rows = []
    for position, entry_id in enumerate(order, start=1):
        entry = by_id.get(entry_id)
        if entry is None:
            continue
        stored = {section.kind_id: section.body for section in entry.sections.all()}
        row = EntryRow(
            entry=entry,
            position=position,
            title_zh=box(entry_key(entry.pk, "title_zh"), _("Chinese title"), entry.title_zh),
            tags=box(
                entry_key(entry.pk, "tags"),
                _("Tags"),
                edit_string_for_tags(list(entry.tags.all())),
            ),
        )
        for kind in kinds:
            hint = (
                _("A list: one point per line.")
                if kind.is_list
                else _("Prose: paragraphs separated by a blank line.")
            )
            row.sections.append(
                box(
                    entry_key(entry.pk, f"s-{kind.slug}"),
                    kind.name_zh,
                    stored.get(kind.pk, ""),
                    hint=hint,
                    is_list=kind.is_list,
                    slug=kind.slug,
                )
            )
        for figure in entry.figures.all():
            row.figures.append(
                {
                    "figure": figure,
                    "boxes": [
                        box(figure_key(figure.pk, "caption"), _("Caption"), figure.caption),
                        box(figure_key(figure.pk, "alt_text"), _("Alt text"), figure.alt_text),
                        box(figure_key(figure.pk, "source_url"), _("Source"), figure.source_url),
                        box(figure_key(figure.pk, "licence"), _("Licence"), figure.licence),
                    ],
                }
            )
        rows.append(row)
    return fields, rows
