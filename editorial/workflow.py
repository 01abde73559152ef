"""Workflow logic that is not a state change: who may do what, revision snapshots and how
to write one back, the readable comparison of two revisions, share-link tokens, site-time
formatting and edit presence. State changes are in ``editorial/services.py``."""

import datetime
import difflib
import re
import zoneinfo

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from comments.services import staff_display_name
from editorial.models import SHARE_SALT, EditPresence, ReviewComment, ShareLink
from papers.models import Digest, Entry

PUBLISH_PERMISSION = "papers.publish_digest"
CHANGE_PERMISSION = "papers.change_digest"
RESTORE_PERMISSION = "editorial.restore_revision"
SHARE_PERMISSION = "editorial.add_sharelink"


# --- who may do what -------------------------------------------------------------------


def is_editor(user) -> bool:
    """Editors approve, publish, schedule, unpublish and archive (``publish_digest``)."""
    return bool(user and user.is_active and user.has_perm(PUBLISH_PERMISSION))


def can_edit_content(user, digest: Digest | None) -> bool:
    """Authors and editors edit drafts and digests in review (working copies included). A
    published, scheduled or archived digest is never changed in place: its changes are
    made in its working copy (``can_start_working_copy``) and published from there."""
    if not (user and user.is_active and user.has_perm(CHANGE_PERMISSION)):
        return False
    return digest is None or digest.status not in Digest.READABLE_STATES


def can_start_working_copy(user, digest: Digest | None) -> bool:
    """Whether ``user`` may start (or open) the working copy of a live ``digest``."""
    return bool(
        digest is not None
        and digest.status in Digest.READABLE_STATES
        and user
        and user.is_active
        and user.has_perm(CHANGE_PERMISSION)
    )


def working_copy(digest: Digest | None) -> Digest | None:
    """The working copy of the live ``digest``, or None (one query)."""
    if digest is None or digest.pk is None or digest.is_working_copy:
        return None
    return Digest.objects.filter(working_copy_of=digest).first()


# --- times in the site's zone ----------------------------------------------------------


def site_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def site_time(moment: datetime.datetime | None) -> str:
    """``2025-09-30 08:00 (Asia/Shanghai)``: a time as editors read it, zone named."""
    if moment is None:
        return "-"
    local = timezone.localtime(moment, site_zone())
    return f"{local:%Y-%m-%d %H:%M} ({settings.TIME_ZONE})"


# --- revisions -------------------------------------------------------------------------

SNAPSHOT_VERSION = 1


def snapshot(digest: Digest) -> dict:
    """Everything an editor writes about ``digest``, as plain JSON: its fields and tags, and
    each entry in order with its paper, tags, sections (by kind) and figures."""
    entries = (
        Entry.objects.filter(digest=digest)
        .select_related("paper")
        .prefetch_related("tags", "figures", "sections__kind")
        .order_by("position")
    )
    return {
        "version": SNAPSHOT_VERSION,
        "title": digest.title,
        "slug": digest.slug,
        "issue_date": digest.issue_date.isoformat(),
        "summary": digest.summary,
        "status": digest.status,
        "published_at": digest.published_at.isoformat() if digest.published_at else None,
        "expires_at": digest.expires_at.isoformat() if digest.expires_at else None,
        "tags": sorted(tag.name for tag in digest.tags.all()),
        "entries": [
            {
                "paper": entry.paper_id,
                # A label for the history: the arXiv id, or an item's link when not on arXiv.
                "arxiv_id": entry.paper.arxiv_id or entry.paper.source_url,
                "paper_title": entry.paper.title,
                "position": entry.position,
                "title_zh": entry.title_zh,
                "unplaced_text": entry.unplaced_text,
                "tags": sorted(tag.name for tag in entry.tags.all()),
                "sections": [
                    {"kind": s.kind.slug, "name": s.kind.name_zh, "body": s.body}
                    for s in sorted(entry.sections.all(), key=lambda s: (s.kind.order, s.kind_id))
                ],
                "figures": [
                    {
                        "position": f.position,
                        "image": f.image.name or "",
                        "caption": f.caption,
                        "alt_text": f.alt_text,
                        "source_url": f.source_url,
                        "licence": f.licence,
                        "placeholder": f.placeholder,
                    }
                    for f in sorted(entry.figures.all(), key=lambda f: (f.position, f.pk))
                ],
            }
            for entry in entries
        ],
    }


def content_of(data: dict) -> dict:
    """A snapshot without its editorial state: what "the same content" compares."""
    return {k: v for k, v in data.items() if k not in ("status", "published_at", "expires_at")}


# --- comparing two revisions -----------------------------------------------------------

# A "word" for highlighting: a run of Latin letters/digits, one CJK character (Chinese has
# no spaces, so each character is a word), a run of spaces, or one other character.
_TOKEN = re.compile(r"[A-Za-z0-9_\-.']+|[\u3400-\u9fff\uf900-\ufaff]|\s+|.", re.S)


def highlight_changes(old: str, new: str) -> tuple[str, str]:
    """HTML of ``old`` with removed words in ``<del>`` and of ``new`` with added words in
    ``<ins>``; all text escaped."""
    a, b = _TOKEN.findall(old or ""), _TOKEN.findall(new or "")
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        old_part, new_part = escape("".join(a[i1:i2])), escape("".join(b[j1:j2]))
        if op == "equal":
            left.append(old_part)
            right.append(new_part)
            continue
        if old_part:
            left.append(f"<del>{old_part}</del>")
        if new_part:
            right.append(f"<ins>{new_part}</ins>")
    return mark_safe("".join(left)), mark_safe("".join(right))  # noqa: S308 (escaped above)


def _field_change(label, old, new):
    old, new = old or "", new or ""
    if old == new:
        return None
    before, after = highlight_changes(old, new)
    return {"label": label, "before": before, "after": after}


def compare(old: dict, new: dict) -> dict:
    """What changed between two snapshots, as an editor reads it: digest fields, papers
    added / removed / moved, and per paper each changed field and section."""
    fields = [
        _field_change(_("Title"), old["title"], new["title"]),
        _field_change(_("Slug"), old["slug"], new["slug"]),
        _field_change(_("Issue date"), old["issue_date"], new["issue_date"]),
        _field_change(_("Summary"), old["summary"], new["summary"]),
        _field_change(_("Tags"), ", ".join(old["tags"]), ", ".join(new["tags"])),
    ]
    old_entries = {e["paper"]: e for e in old["entries"]}
    new_entries = {e["paper"]: e for e in new["entries"]}
    added = [e for e in new["entries"] if e["paper"] not in old_entries]
    removed = [e for e in old["entries"] if e["paper"] not in new_entries]
    moved, changed = [], []
    for item in new["entries"]:
        before = old_entries.get(item["paper"])
        if before is None:
            continue
        if before["position"] != item["position"]:
            moved.append({"entry": item, "from": before["position"], "to": item["position"]})
        changes = [
            _field_change(_("Chinese title"), before["title_zh"], item["title_zh"]),
            _field_change(_("Tags"), ", ".join(before["tags"]), ", ".join(item["tags"])),
            _field_change(_("Unplaced text"), before["unplaced_text"], item["unplaced_text"]),
        ]
        old_sections = {s["kind"]: s for s in before["sections"]}
        new_sections = {s["kind"]: s for s in item["sections"]}
        for kind in list(old_sections) + [k for k in new_sections if k not in old_sections]:
            section = new_sections.get(kind) or old_sections[kind]
            changes.append(
                _field_change(
                    section["name"],
                    old_sections.get(kind, {}).get("body"),
                    new_sections.get(kind, {}).get("body"),
                )
            )
        old_figures = [_figure_line(f) for f in before["figures"]]
        new_figures = [_figure_line(f) for f in item["figures"]]
        changes.append(_field_change(_("Figures"), "\n".join(old_figures), "\n".join(new_figures)))
        changes = [c for c in changes if c]
        if changes:
            changed.append({"entry": item, "changes": changes})
    fields = [f for f in fields if f]
    return {
        "fields": fields,
        "added": added,
        "removed": removed,
        "moved": moved,
        "changed": changed,
        "same": not (fields or added or removed or moved or changed),
    }


def _figure_line(figure: dict) -> str:
    name = figure["image"].rsplit("/", 1)[-1] if figure["image"] else _("(no image)")
    return f"{figure['position']}. {figure['caption'] or figure['placeholder']} [{name}]"


# --- share links -----------------------------------------------------------------------


def share_token(link: ShareLink) -> str:
    """The signed token in a share link's address (the link's id and its random key)."""
    return link.token


def shared_digest(link: ShareLink) -> Digest:
    """What a share link shows: its digest's working copy if it has one (the unpublished
    changes to a live digest), else the digest (a draft as it stands)."""
    try:
        return link.digest.working_copy
    except Digest.working_copy.RelatedObjectDoesNotExist:
        return link.digest


def share_link_from_token(token: str) -> ShareLink | None:
    """The link a token names, or None when it is forged, garbled or unknown."""
    try:
        link_id, key = signing.loads(token, salt=SHARE_SALT)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    # With the digest's working copy, if any: what the link shows (one query for both).
    link = (
        ShareLink.objects.select_related("digest", "digest__working_copy")
        .filter(pk=link_id)
        .first()
    )
    if link is None or not isinstance(key, str) or link.key != key:
        return None
    return link


# --- who else is editing ---------------------------------------------------------------


def presence_touch(digest: Digest, user) -> list:
    """Record that ``user`` opened ``digest`` for editing; return the other users who did
    in the last few minutes (most recent first), each with ``seen_at``."""
    now = timezone.now()
    EditPresence.objects.update_or_create(digest=digest, user=user, defaults={"seen_at": now})
    since = now - datetime.timedelta(minutes=settings.EDIT_PRESENCE_MINUTES)
    return list(
        EditPresence.objects.filter(digest=digest, seen_at__gte=since)
        .exclude(user=user)
        .select_related("user")
        .order_by("-seen_at")
    )


def user_label(user) -> str:
    if user is None:
        return _("someone")
    return user.get_full_name() or user.get_username()


# --- reviewers' comments (share links) ---------------------------------------------


def review_comments(digest, *, paper_id=None, pk=None) -> list:
    """Reviewers' comments on ``digest`` (kept on the live digest for a working copy) with
    their replies, in the order of the editor's page: the digest's, then by paper and
    section (``paper_id``: that paper's only; ``pk``: that comment's thread only)."""
    live = digest.working_copy_of if digest.is_working_copy else digest
    found = ReviewComment.objects.filter(digest=live, parent=None)
    if paper_id is not None:
        found = found.filter(paper=paper_id)
    if pk is not None:
        found = found.filter(pk=pk)
    found = list(
        found.select_related("paper", "kind")
        .prefetch_related("replies__author")
        .order_by("created_at")
    )
    names: dict = {}  # staff id -> display name (the site's name is read once)
    for comment in found:
        comment.when = site_time(comment.created_at)
        for reply in comment.replies.all():
            # Older replies stored a login name: staff are shown by their display name.
            if reply.author is None:
                reply.shown_name = reply.name
            else:
                if reply.author_id not in names:
                    names[reply.author_id] = staff_display_name(reply.author)
                reply.shown_name = names[reply.author_id]
            reply.when = site_time(reply.created_at)
    return sorted(
        found,
        key=lambda c: (c.paper_id is not None, c.paper_id or 0, c.kind.order if c.kind else 0),
    )
