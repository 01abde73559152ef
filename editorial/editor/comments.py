"""Reviewers' comments (share links) in the one-page editor, where they belong on the page:
a section's beside its text box, a paper's under its heading, the digest's (and those on a
paper no longer in it) at the top; with the count of unresolved ones per group and per
paper. Comments are kept on the live digest, so a working copy's editor shows them too.
Replies and resolving go through ``editorial.services`` (views.comment_view)."""

from editorial import workflow
from editorial.services import entry_key

DIGEST = "digest"


def entry_group(entry_id) -> str:
    """The key of a paper's own comments (on the paper, no section)."""
    return entry_key(entry_id, "comments")


def entry_total(entry_id) -> str:
    """The key of a paper's count: its own comments and its sections'."""
    return entry_key(entry_id, "all")


def group_of(comment, entry_by_paper: dict) -> str:
    entry = entry_by_paper.get(comment.paper_id)
    if entry is None:
        return DIGEST
    if comment.kind is None:
        return entry_group(entry.pk)
    return entry_key(entry.pk, f"s-{comment.kind.slug}")


def grouped(digest, entries) -> dict[str, list]:
    """Group key (``digest``, ``e<id>-comments`` or a section's field name) -> its
    comments with their replies, in page order."""
    by_paper = {entry.paper_id: entry for entry in entries}
    groups: dict[str, list] = {}
    for comment in workflow.review_comments(digest):
        groups.setdefault(group_of(comment, by_paper), []).append(comment)
    return groups


def unresolved(groups: dict, entries) -> dict[str, int]:
    """Group key, and ``e<id>-all`` for each paper with comments -> comments not resolved."""
    counts = {
        key: sum(1 for comment in found if comment.resolved_at is None)
        for key, found in groups.items()
    }
    for entry in entries:
        prefix = f"e{entry.pk}-"
        mine = [key for key in groups if key.startswith(prefix)]
        if mine:
            counts[entry_total(entry.pk)] = sum(counts[key] for key in mine)
    return counts


def attach(rows, groups: dict, counts: dict) -> None:
    """Give the editor's rows (forms.EntryRow) and their section boxes their comments."""
    for row in rows:
        pk = row.entry.pk
        row.comments = groups.get(entry_group(pk), [])
        row.comment_key = entry_group(pk)
        row.total_key = entry_total(pk)
        row.unresolved = counts.get(entry_total(pk))
        first = [key for key in [row.comment_key, *(b.name for b in row.sections)] if key in groups]
        row.comments_anchor = first[0] if first else ""
        for box in row.sections:
            box.comments = groups.get(box.name, [])
            box.unresolved = counts.get(box.name, 0)
