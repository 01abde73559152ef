"""Writes that change important state. Each checks permission on the server, runs in a
transaction, and is the only place that transition is implemented: admin actions, views,
commands and tests all call these functions."""

import datetime
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from background.tasks import queue_mail
from comments.markup import neutralise
from comments.models import Comment
from comments.services import rate_limited, staff_display_name
from editorial import workflow
from editorial.models import AuditRecord, ReviewComment, Revision, ShareLink
from editorial.signals import digest_went_live
from editorial.workflow import CHANGE_PERMISSION, RESTORE_PERMISSION, SHARE_PERMISSION
from papers.changes import content_changed
from papers.markup import normalise_section_text
from papers.models import Digest, Entry, Figure, Paper, Section, SectionKind, published_q
from reading.search import sync_entry_state
from subscriptions.services import digest_mailing_schedule

PUBLISH_PERMISSION = "papers.publish_digest"


def _require(user, permission: str) -> None:
    if user is None or not user.is_active or not user.has_perm(permission):
        raise PermissionDenied(_("You do not have permission to do this."))


require_permission = _require  # for services in other modules (importing, arXiv)


def _locked(digest: Digest) -> Digest:
    """The digest's row, locked until the transaction ends (two editors clicking at once
    act one after the other, each seeing the state the other left)."""
    return Digest.objects.select_for_update().get(pk=digest.pk)


def _require_status(digest: Digest, allowed, action: str) -> None:
    if digest.status not in allowed:
        raise ValidationError(
            _("A digest that is %(status)s cannot be %(action)s.")
            % {"status": digest.get_status_display().lower(), "action": action}
        )


def _audit(digest, *, by, action, from_status, message="", effective_at=None):
    return AuditRecord.objects.create(
        digest=digest,
        digest_label=str(digest)[:250],
        actor=by if getattr(by, "pk", None) else None,
        action=action,
        from_status=from_status,
        to_status=digest.status,
        message=message,
        effective_at=effective_at,
    )


def _go_live(*, digest, by, at, expires_at, message, action, allowed, verb):
    """Shared body of publish / approve / schedule: checks, sets the times, audits, and
    keeps the published content as a revision that pruning never removes."""
    with transaction.atomic():
        locked = _locked(digest)
        _require_status(locked, allowed, verb)
        if not locked.entries.exists():
            raise ValidationError(_("Add at least one paper before publishing this digest."))
        previous = locked.status
        locked.published_at = at or locked.published_at or timezone.now()
        if expires_at is not None:
            locked.expires_at = expires_at
        if locked.expires_at and locked.expires_at <= locked.published_at:
            raise ValidationError(_("The expiry time must come after the go-live time."))
        if locked.expires_at and locked.expires_at <= timezone.now():
            raise ValidationError(_("The expiry time is in the past: clear it or move it later."))
        locked.status = Digest.Status.PUBLISHED
        locked.save(update_fields=["status", "published_at", "expires_at", "updated_at"])
        if action != AuditRecord.Action.APPROVE and locked.published_at > timezone.now():
            action = AuditRecord.Action.SCHEDULE
        _audit(
            locked,
            by=by,
            action=action,
            from_status=previous,
            message=message,
            effective_at=locked.published_at,
        )
        revision_record(digest=locked, by=by, message=message or _("Published"), published=True)
        content_changed()
        # Subscribers get it when it goes live (now, or at the scheduled time).
        digest_mailing_schedule(digest=locked)
    return locked


def digest_publish(*, digest: Digest, by, at=None, expires_at=None, message="") -> Digest:
    """Publish ``digest`` at ``at`` (default: its scheduled go-live time if it has one,
    else now). A future time schedules it; readers see it from then on. Editors only; a
    published digest may be published again to change its times. Publishing a working
    copy publishes its changes into the live digest (``working_copy_publish``)."""
    _require(by, PUBLISH_PERMISSION)
    if digest.is_working_copy:
        return working_copy_publish(
            copy=digest, by=by, at=at, expires_at=expires_at, message=message
        )
    return _go_live(
        digest=digest,
        by=by,
        at=at,
        expires_at=expires_at,
        message=message,
        action=AuditRecord.Action.PUBLISH,
        allowed=(Digest.Status.DRAFT, Digest.Status.REVIEW, Digest.Status.PUBLISHED),
        verb=_("published"),
    )


def digest_schedule(*, digest: Digest, by, at, expires_at=None, message="") -> Digest:
    """Publish ``digest`` with a go-live time in the future (and an optional expiry).
    Nothing has to run at that time: visibility is decided when a page is read."""
    _require(by, PUBLISH_PERMISSION)
    if at is None or at <= timezone.now():
        raise ValidationError(_("Give a go-live time in the future to schedule the digest."))
    if digest.is_working_copy:
        return working_copy_publish(
            copy=digest, by=by, at=at, expires_at=expires_at, message=message
        )
    return _go_live(
        digest=digest,
        by=by,
        at=at,
        expires_at=expires_at,
        message=message,
        action=AuditRecord.Action.SCHEDULE,
        allowed=(Digest.Status.DRAFT, Digest.Status.REVIEW, Digest.Status.PUBLISHED),
        verb=_("scheduled"),
    )


def digest_approve(*, digest: Digest, by, at=None, message="") -> Digest:
    """An editor approves a digest in review: it is published (at ``at`` or its go-live
    time if one is set, else now). Approving a working copy publishes its changes."""
    _require(by, PUBLISH_PERMISSION)
    if digest.is_working_copy:
        return working_copy_publish(copy=digest, by=by, at=at, message=message, approve=True)
    return _go_live(
        digest=digest,
        by=by,
        at=at,
        expires_at=None,
        message=message,
        action=AuditRecord.Action.APPROVE,
        allowed=(Digest.Status.REVIEW,),
        verb=_("approved"),
    )


def digest_submit(*, digest: Digest, by, message="") -> Digest:
    """An author hands a draft to the editors, who are told by email."""
    _require(by, CHANGE_PERMISSION)
    with transaction.atomic():
        locked = _locked(digest)
        _require_status(locked, (Digest.Status.DRAFT,), _("submitted for review"))
        if not locked.entries.exists():
            raise ValidationError(_("Add at least one paper before submitting this digest."))
        locked.status = Digest.Status.REVIEW
        locked.save(update_fields=["status", "updated_at"])
        record = _audit(
            locked, by=by, action=AuditRecord.Action.SUBMIT, from_status="draft", message=message
        )
        transaction.on_commit(lambda: _tell_editors(locked, record))
    return locked


def digest_send_back(*, digest: Digest, by, message: str) -> Digest:
    """An editor returns a digest in review to its authors, saying what to change."""
    _require(by, PUBLISH_PERMISSION)
    if not (message or "").strip():
        raise ValidationError(_("Say what should change: a message is required to send back."))
    with transaction.atomic():
        locked = _locked(digest)
        _require_status(locked, (Digest.Status.REVIEW,), _("sent back"))
        locked.status = Digest.Status.DRAFT
        locked.save(update_fields=["status", "updated_at"])
        record = _audit(
            locked,
            by=by,
            action=AuditRecord.Action.SEND_BACK,
            from_status="review",
            message=message.strip(),
        )
        submitted = (
            locked.audit_records.filter(action=AuditRecord.Action.SUBMIT)
            .select_related("actor")
            .first()
        )
        submitter = submitted.actor if submitted else None
        transaction.on_commit(lambda: _tell_submitter(locked, record, submitter))
    return locked


def digest_unpublish(*, digest: Digest, by, message="") -> Digest:
    """Take ``digest`` off the site: it goes back to draft (its go-live time is kept, so a
    later publish restores the original date)."""
    _require(by, PUBLISH_PERMISSION)
    with transaction.atomic():
        locked = _locked(digest)
        _require_status(locked, Digest.READABLE_STATES, _("unpublished"))
        previous = locked.status
        copy = Digest.objects.select_for_update().filter(working_copy_of=locked).first()
        notes = []
        if copy is not None:
            # Off the site, the digest is edited in place: its unpublished changes become
            # its content (nothing typed is lost), and the working copy goes.
            data = workflow.snapshot(copy)
            _refuse_losing_comments(locked, data, _("Unpublishing with these changes"))
            notes = _apply_snapshot(locked, data)
            _absorb_working_copy(locked, copy)
        locked.status = Digest.Status.DRAFT
        locked.save(update_fields=["status", "updated_at"])
        _audit(
            locked,
            by=by,
            action=AuditRecord.Action.UNPUBLISH,
            from_status=previous,
            message=" ".join([message, *notes]).strip(),
        )
        if copy is not None:
            revision_record(digest=locked, by=by, message=_("Unpublished with its changes"))
        content_changed()
    return locked


def digest_archive(*, digest: Digest, by, message="") -> Digest:
    """Archive a published digest: still readable at its address, marked archived, and
    no longer on the home page or in feeds."""
    _require(by, PUBLISH_PERMISSION)
    with transaction.atomic():
        locked = _locked(digest)
        _require_status(locked, (Digest.Status.PUBLISHED,), _("archived"))
        locked.status = Digest.Status.ARCHIVED
        locked.save(update_fields=["status", "updated_at"])
        _audit(
            locked,
            by=by,
            action=AuditRecord.Action.ARCHIVE,
            from_status="published",
            message=message,
        )
        content_changed()
    return locked


def digest_restore_revision(*, digest: Digest, revision: Revision, by, message="") -> Revision:
    """Write an earlier revision's content back as a new revision. A draft (or a working
    copy) takes it in place; a live digest stays on the site as it is and the content goes
    into its working copy, published like any change. No revision is changed or removed.
    Returns the new revision (of the working copy, for a live digest)."""
    _require(by, PUBLISH_PERMISSION)
    _require(by, RESTORE_PERMISSION)
    if revision.digest_id != digest.pk:
        raise ValidationError(_("That revision belongs to another digest."))
    with transaction.atomic():
        locked = _locked(digest)
        data = revision.snapshot
        what = _("Restoring revision %(n)s") % {"n": revision.number}
        live = locked.working_copy_of if locked.is_working_copy else locked
        _refuse_address_clash(live, data, what)
        _refuse_losing_comments(live, data, what)
        previous = locked.status
        target = locked
        if locked.status in Digest.READABLE_STATES:
            # Never unpublish: readers keep the live version; the revision becomes the
            # working copy's content, to be reviewed and published like any change.
            target = working_copy_start(digest=locked, by=by)
        notes = _apply_snapshot(target, data)
        target.status = Digest.Status.DRAFT
        target.save(update_fields=["status", "updated_at"])
        text = message or _("Restored revision %(n)s") % {"n": revision.number}
        if notes:
            text = " ".join([text, *notes])
        _audit(locked, by=by, action=AuditRecord.Action.RESTORE, from_status=previous, message=text)
        return revision_record(digest=target, by=by, message=text[:300])


def _refuse_address_clash(live: Digest, data: dict, what: str) -> None:
    """Refuse content whose date and slug another digest now uses (``what``: the action)."""
    clash = Digest.objects.originals().filter(issue_date=data["issue_date"], slug=data["slug"])
    if clash.exclude(pk=live.pk).exists():
        raise ValidationError(
            _("%(what)s: another digest now uses the address %(date)s/%(slug)s.")
            % {"what": what, "date": data["issue_date"], "slug": data["slug"]}
        )


def _refuse_losing_comments(digest: Digest, data: dict, what: str) -> None:
    """Refuse content that drops papers of ``digest`` readers commented on."""
    dropped = digest.entries.exclude(paper_id__in=[e["paper"] for e in data["entries"]])
    lost = Comment.objects.filter(entry__in=dropped).count()
    if lost:
        raise ValidationError(
            _(
                "%(what)s would remove papers that readers commented on (%(count)d comments "
                "would be deleted). Nothing was changed; remove those comments first if that "
                "is what you want."
            )
            % {"what": what, "count": lost}
        )


# --- changes to a live digest: its working copy ----------------------------------------


def working_copy_start(*, digest: Digest, by, message="") -> Digest:
    """The working copy of the live ``digest``, made now (a draft holding a copy of its
    content, at no address) unless it has one. Authors and editors edit it in the admin as
    any draft; readers keep the live version until an editor publishes the changes."""
    _require(by, CHANGE_PERMISSION)
    with transaction.atomic():
        locked = _locked(digest)
        if locked.is_working_copy:
            return locked
        existing = Digest.objects.filter(working_copy_of=locked).first()
        if existing is not None:
            return existing
        _require_status(locked, Digest.READABLE_STATES, _("edited through a working copy"))
        copy = Digest.objects.create(
            title=locked.title,
            slug=locked.slug,
            issue_date=locked.issue_date,
            summary=locked.summary,
            status=Digest.Status.DRAFT,
            published_at=locked.published_at,
            expires_at=locked.expires_at,
            working_copy_of=locked,
        )
        _apply_snapshot(copy, workflow.snapshot(locked))
        _audit(
            locked,
            by=by,
            action=AuditRecord.Action.WORKING_COPY,
            from_status=locked.status,
            message=message,
        )
        revision_record(digest=copy, by=by, message=message or _("Copy of the live version"))
    return copy


def working_copy_publish(
    *, copy: Digest, by, at=None, expires_at=None, message="", approve=False
) -> Digest:
    """Publish the changes of a working copy: its content (and go-live and expiry times)
    is written into the live digest in one transaction, matching entries by paper, so
    comments and view counts stay. The working copy goes; its audit records join the live
    digest's; a published revision keeps what went live. Editors only; ``approve`` asks
    that the changes were submitted for review."""
    _require(by, PUBLISH_PERMISSION)
    with transaction.atomic():
        live = Digest.objects.select_for_update().filter(pk=copy.working_copy_of_id).first()
        locked = Digest.objects.select_for_update().filter(pk=copy.pk).first()
        if live is None or locked is None:
            raise ValidationError(_("These changes were published or discarded already."))
        allowed = (
            (Digest.Status.REVIEW,) if approve else (Digest.Status.DRAFT, Digest.Status.REVIEW)
        )
        _require_status(locked, allowed, _("approved") if approve else _("published"))
        _require_status(live, Digest.READABLE_STATES, _("changed"))
        if not locked.entries.exists():
            raise ValidationError(_("Add at least one paper before publishing this digest."))
        data = workflow.snapshot(locked)
        what = _("Publishing these changes")
        _refuse_address_clash(live, data, what)
        _refuse_losing_comments(live, data, what)
        go_live = at or locked.published_at or live.published_at
        expiry = expires_at if expires_at is not None else locked.expires_at
        if expiry and expiry <= go_live:
            raise ValidationError(_("The expiry time must come after the go-live time."))
        if expiry and expiry <= timezone.now():
            raise ValidationError(_("The expiry time is in the past: clear it or move it later."))
        notes = _apply_snapshot(live, data)
        moved = go_live != live.published_at
        live.published_at, live.expires_at = go_live, expiry
        live.save(update_fields=["published_at", "expires_at", "updated_at"])
        _absorb_working_copy(live, locked)
        text = " ".join([message or str(_("Changes published")), *notes])
        _audit(
            live,
            by=by,
            action=AuditRecord.Action.PUBLISH_CHANGES,
            from_status=live.status,
            message=text,
            effective_at=live.published_at,
        )
        revision_record(digest=live, by=by, message=text, published=True)
        content_changed()
        if moved:
            digest_mailing_schedule(digest=live)
    return live


def working_copy_discard(*, copy: Digest, by, message="") -> Digest:
    """Throw away the unpublished changes of a live digest (readers saw none of them).
    Anyone who may edit them may discard them. Returns the live digest."""
    _require(by, CHANGE_PERMISSION)
    with transaction.atomic():
        live = Digest.objects.select_for_update().filter(pk=copy.working_copy_of_id).first()
        locked = Digest.objects.select_for_update().filter(pk=copy.pk).first()
        if live is None or locked is None:
            raise ValidationError(_("These changes were published or discarded already."))
        _absorb_working_copy(live, locked)
        _audit(
            live,
            by=by,
            action=AuditRecord.Action.DISCARD_CHANGES,
            from_status=live.status,
            message=message,
        )
    return live


def _absorb_working_copy(live: Digest, copy: Digest) -> None:
    """Delete ``copy``; its audit records (submitted, sent back…) join ``live``'s log."""
    AuditRecord.objects.filter(digest=copy).update(digest=live)
    copy.delete()


def _apply_snapshot(digest: Digest, data: dict) -> list[str]:
    """Write the content of a snapshot back into ``digest`` and its entries (inside the
    caller's transaction). Entries are matched by paper, so an entry that stays keeps its
    id (and whatever points at it); an entry whose content is already the snapshot's is not
    touched, so its cached block stays valid (publishing a working copy re-renders only the
    papers it changed). Returns notes on what could not be restored."""

    notes = []
    before = workflow.snapshot(digest)
    fields = ("title", "slug", "issue_date", "summary")
    if any(before[name] != data[name] for name in fields) or before["tags"] != data["tags"]:
        digest.title = data["title"]
        digest.slug = data["slug"]
        digest.issue_date = datetime.date.fromisoformat(data["issue_date"])
        digest.summary = data["summary"]
        digest.save(update_fields=["title", "slug", "issue_date", "summary", "updated_at"])
        digest.tags.set(data["tags"])
    unchanged = {item["paper"]: item for item in before["entries"]}

    wanted = {}
    papers = Paper.objects.in_bulk([e["paper"] for e in data["entries"]])
    for item in data["entries"]:
        if item["paper"] in papers:
            wanted[item["paper"]] = item
        else:
            notes.append(
                _("Paper %(id)s no longer exists; its entry was not restored.")
                % {"id": item["arxiv_id"]}
            )
    current = {entry.paper_id: entry for entry in digest.entries.all()}
    for paper_id, entry in current.items():
        if paper_id not in wanted:
            entry.delete()
    entries_park_positions(
        [
            e.pk
            for pid, e in current.items()
            if pid in wanted and e.position != wanted[pid]["position"]
        ]
    )
    kinds = {kind.slug: kind for kind in SectionKind.objects.all()}
    rewritten = []
    for paper_id, item in wanted.items():
        if paper_id in current and unchanged.get(paper_id) == item:
            continue  # the same content: the entry and its block stay as they are
        entry = current.get(paper_id) or Entry(digest=digest, paper_id=paper_id)
        entry.position = item["position"]
        entry.title_zh = item["title_zh"]
        entry.unplaced_text = item["unplaced_text"]
        orphans = [s for s in item["sections"] if s["kind"] not in kinds]
        if orphans:
            # A section kind was deleted since: keep the text where the editor will see it.
            kept = "\n\n".join(f"{s['name']}\n{s['body']}" for s in orphans)
            entry.unplaced_text = "\n\n".join(t for t in (entry.unplaced_text, kept) if t)
            notes.append(
                _("Sections of deleted kinds were put in the unplaced text of %(id)s.")
                % {"id": item["arxiv_id"]}
            )
        entry.save()
        rewritten.append(entry.pk)
        entry.tags.set(item["tags"])
        entry.sections.all().delete()
        for section in item["sections"]:
            if section["kind"] in kinds:
                Section(entry=entry, kind=kinds[section["kind"]], body=section["body"]).save()
        entry.figures.all().delete()
        Figure.objects.bulk_create(
            [
                Figure(
                    entry=entry,
                    position=f["position"],
                    image=f["image"],
                    caption=f["caption"],
                    alt_text=f["alt_text"],
                    source_url=f["source_url"],
                    licence=f["licence"],
                    placeholder=f["placeholder"],
                )
                for f in item["figures"]
            ]
        )
        # bulk_create leaves the entry's update time alone: its block shows the figures.
        Entry.objects.filter(pk=entry.pk).update(updated_at=timezone.now())
    if any(f["image"] for item in wanted.values() for f in item["figures"]):
        # bulk_create skips the image dimension fields; fill them from the files.
        for figure in Figure.objects.filter(entry__in=rewritten).exclude(image=""):
            try:
                figure.width, figure.height = figure.image.width, figure.image.height
                figure.save(update_fields=["width", "height"])
            except (OSError, ValueError):
                pass
    return notes


def digest_record_creation(*, digest: Digest, by, message="") -> Revision:
    """After a digest is created (admin, importer): the audit record and first revision."""
    with transaction.atomic():
        _audit(digest, by=by, action=AuditRecord.Action.CREATE, from_status="", message=message)
        return revision_record(digest=digest, by=by, message=message or _("Created"))


def digest_delete(*, digest: Digest, by) -> None:
    """Delete a digest for good (editors). Its revisions go with it; the audit log keeps a
    record of the deletion and of everything before it."""
    _require(by, "papers.delete_digest")
    with transaction.atomic():
        locked = _locked(digest)
        _audit(locked, by=by, action=AuditRecord.Action.DELETE, from_status=locked.status)
        if locked.status in Digest.READABLE_STATES:
            content_changed()
        locked.delete()


def revision_record(*, digest: Digest, by, message="", published=False) -> Revision:
    """Store the digest's current content as its next revision. Called after every save
    (admin, importer, restore) inside the same transaction."""
    with transaction.atomic():
        locked = _locked(digest)
        last = locked.revisions.order_by("-number").values_list("number", flat=True).first()
        return Revision.objects.create(
            digest=locked,
            number=(last or 0) + 1,
            author=by if getattr(by, "pk", None) else None,
            message=(message or "")[:300],
            snapshot=workflow.snapshot(locked),
            published=published,
        )


def digest_check_editable(*, digest: Digest | None, by) -> None:
    """Refuse a content change ``by`` may not make: any change in place to a published,
    scheduled or archived digest (its working copy takes them), or without the right."""
    if not workflow.can_edit_content(by, digest):
        raise PermissionDenied(
            _(
                "A digest on the site (published, scheduled or archived) is not changed in "
                "place: edit its working copy, then publish the changes."
            )
        )


def share_link_create(*, digest: Digest, by, expires_at=None, note="") -> ShareLink:
    """A link that shows the digest's current draft to someone without an account."""
    _require(by, SHARE_PERMISSION)
    expires_at = expires_at or timezone.now() + datetime.timedelta(days=settings.SHARE_LINK_DAYS)
    if expires_at <= timezone.now():
        raise ValidationError(_("The link's expiry must be in the future."))
    with transaction.atomic():
        link = ShareLink.objects.create(
            digest=digest,
            key=secrets.token_hex(16),
            note=note,
            created_by=by,
            expires_at=expires_at,
        )
        _audit(
            digest,
            by=by,
            action=AuditRecord.Action.SHARE,
            from_status=digest.status,
            message=_("Share link %(note)s, valid until %(until)s")
            % {"note": note or link.key[:6], "until": workflow.site_time(expires_at)},
        )
    return link


def share_link_revoke(*, link: ShareLink, by) -> ShareLink:
    """Stop a share link from working, at once and for good."""
    _require(by, SHARE_PERMISSION)
    with transaction.atomic():
        link = ShareLink.objects.select_for_update().get(pk=link.pk)
        if link.revoked_at is None:
            link.revoked_at, link.revoked_by = timezone.now(), by
            link.save(update_fields=["revoked_at", "revoked_by"])
            _audit(
                link.digest,
                by=by,
                action=AuditRecord.Action.REVOKE,
                from_status=link.digest.status,
                message=link.note or link.key[:6],
            )
    return link


# --- reviewer feedback through share links ----------------------------------------------

REVIEW_NAME_MAX, REVIEW_BODY_MAX = 80, 4000


def review_comment_add(*, link: ShareLink | None, name: str, body: str, target="") -> ReviewComment:
    """A remark by whoever holds ``link`` (no account), on the digest or, with ``target``
    (``"<paper id>:<section kind slug>"`` of a paper the link shows), on one section. The
    link's expiry and revocation apply. The digest's authors and the editors are emailed."""
    if link is None or not link.is_active:
        raise PermissionDenied(_("This link no longer works: ask for a new one."))
    name = " ".join(neutralise(name).split())
    body = neutralise(body).strip()
    if not name or not body:
        raise ValidationError(_("Give your name and a comment."))
    if len(name) > REVIEW_NAME_MAX or len(body) > REVIEW_BODY_MAX:
        raise ValidationError(
            _("A name has at most %(name)d characters, a comment %(body)d.")
            % {"name": REVIEW_NAME_MAX, "body": REVIEW_BODY_MAX}
        )
    wait = rate_limited("review-link", str(link.pk), limits=settings.REVIEW_COMMENT_RATE_LIMITS)
    if wait:
        # Each remark mails the authors and editors: a leaked link must not flood them.
        raise ValidationError(
            _("Many comments came through this link just now: try again in %(n)d minutes.")
            % {"n": max(1, round(wait / 60))}
        )
    paper = kind = None
    if target:
        shown = workflow.shared_digest(link)
        paper_id, _sep, slug = str(target).partition(":")
        number = _as_int(paper_id)  # "²" is a digit to str.isdigit, not to int()
        entry = (
            Entry.objects.filter(digest=shown, paper_id=number).select_related("paper").first()
            if number is not None
            else None
        )
        kind = SectionKind.objects.filter(slug=slug).first() if slug else None
        if entry is None or (slug and kind is None):
            raise ValidationError(_("Choose the digest or one of its sections."))
        paper = entry.paper
    with transaction.atomic():
        comment = ReviewComment.objects.create(
            digest=link.digest, link=link, paper=paper, kind=kind, name=name, body=body
        )
        _tell_about_review(comment)  # queued: sent once the comment is committed
    return comment


def review_comment_reply(*, comment: ReviewComment, by, body: str) -> ReviewComment:
    """A staff member answers a reviewer's remark (replies are one level deep)."""
    _require(by, CHANGE_PERMISSION)
    body = neutralise(body).strip()
    if not body:
        raise ValidationError(_("Write a reply first."))
    if len(body) > REVIEW_BODY_MAX:
        raise ValidationError(_("A reply has at most %(n)d characters.") % {"n": REVIEW_BODY_MAX})
    root = comment.parent or comment
    return ReviewComment.objects.create(
        digest=root.digest,
        parent=root,
        paper=root.paper,
        kind=root.kind,
        # What the reviewer reads: the staff member's name, never a login name.
        name=staff_display_name(by)[:REVIEW_NAME_MAX],
        author=by,
        body=body,
    )


def review_comment_resolve(*, comment: ReviewComment, by, resolved: bool = True) -> ReviewComment:
    """Mark a reviewer's remark as dealt with (or open it again)."""
    _require(by, CHANGE_PERMISSION)
    with transaction.atomic():
        locked = ReviewComment.objects.select_for_update().get(pk=(comment.parent_id or comment.pk))
        locked.resolved_at, locked.resolved_by = (timezone.now(), by) if resolved else (None, None)
        locked.save(update_fields=["resolved_at", "resolved_by"])
    return locked


def _editors():
    """Active users who may publish (editors and superusers) with an address."""
    User = get_user_model()
    perm = Q(groups__permissions__codename="publish_digest") | Q(
        user_permissions__codename="publish_digest"
    )
    return (
        User.objects.filter(is_active=True)
        .filter(perm | Q(is_superuser=True))
        .exclude(email="")
        .distinct()
    )


def _tell_about_review(comment: ReviewComment) -> None:
    """Email the digest's authors (who created it or submitted it, or its changes) and the
    editors that a reviewer wrote, with an absolute link to where the remark shows."""
    digest = comment.digest
    actions = (AuditRecord.Action.CREATE, AuditRecord.Action.SUBMIT)
    authors = {
        record.actor
        for record in digest.audit_records.filter(action__in=actions).select_related("actor")
        if record.actor and record.actor.is_active and record.actor.email
    }
    recipients = sorted({u.email for u in authors} | {u.email for u in _editors()})
    if not recipients:
        return
    shown = workflow.working_copy(digest) or digest
    where = reverse("admin:papers_digest_change", args=[shown.pk])
    if comment.paper_id:
        entry = Entry.objects.filter(digest=shown, paper_id=comment.paper_id).first()
        if entry is not None:
            where = reverse("admin:papers_entry_change", args=[entry.pk])
    section = _("the whole digest")
    if comment.paper_id:
        section = comment.paper.arxiv_id or comment.paper.source_label
        if comment.kind_id:
            section = f"{section} · {comment.kind.name_zh}"
    subject = _("Reviewer comment on %(title)s") % {"title": digest.title}
    body = _(
        "%(name)s commented on %(section)s of “%(title)s” (%(date)s) through a share link:"
        "\n\n%(body)s\n\nAnswer or resolve it in the admin: %(link)s"
    ) % {
        "name": comment.name,
        "section": section,
        "title": digest.title,
        "date": digest.issue_date.isoformat(),
        "body": comment.body,
        "link": settings.SITE_URL + where,
    }
    queue_mail(subject=subject, body=body, to=recipients)


def digests_went_live(*, now=None, dry_run=False) -> list[Digest]:
    """Digests readable now whose going live has not been recorded yet (for each go-live
    time). Records it and sends ``digest_went_live`` unless ``dry_run``; idempotent."""
    now = now or timezone.now()
    done = AuditRecord.objects.filter(
        digest=OuterRef("pk"),
        action=AuditRecord.Action.WENT_LIVE,
        effective_at=OuterRef("published_at"),
    )
    due = list(
        Digest.objects.filter(published_q(now=now))
        .exclude(Exists(done))
        .order_by("published_at", "id")
    )
    if dry_run:
        return due
    handled = []
    for digest in due:
        with transaction.atomic():
            # Two runs at once: the second waits for the lock, then sees the record.
            locked = Digest.objects.select_for_update().filter(pk=digest.pk).first()
            if locked is None or not locked.is_published:
                continue
            if AuditRecord.objects.filter(
                digest=locked, action=AuditRecord.Action.WENT_LIVE, effective_at=locked.published_at
            ).exists():
                continue
            _audit(
                locked,
                by=None,
                action=AuditRecord.Action.WENT_LIVE,
                from_status=locked.status,
                effective_at=locked.published_at,
            )
            transaction.on_commit(lambda d=locked: digest_went_live.send(sender=Digest, digest=d))
            handled.append(locked)
    return handled


def _tell_submitter(digest: Digest, record: AuditRecord, submitter) -> None:
    """Email whoever submitted the digest that it came back, with the editor's message."""
    if submitter is None or not submitter.email or submitter.pk == getattr(record.actor, "pk", 0):
        return
    subject = _("Sent back to draft: %(title)s") % {"title": digest.title}
    body = _(
        "%(who)s sent “%(title)s” (%(date)s) back to draft at %(when)s:\n\n"
        "%(message)s\n\nEdit it in the admin: %(link)s"
    ) % {
        "who": workflow.user_label(record.actor),
        "title": digest.title,
        "date": digest.issue_date.isoformat(),
        "when": workflow.site_time(record.created_at),
        "message": record.message,
        "link": settings.SITE_URL + reverse("admin:papers_digest_change", args=[digest.pk]),
    }
    queue_mail(subject=subject, body=body, to=[submitter.email])


def _tell_editors(digest: Digest, record: AuditRecord) -> None:
    """Email every editor (active users with the publish permission) that a digest waits
    for review, through the worker (settings.EMAIL_BACKEND: the console by default)."""
    editors = _editors()
    recipients = sorted({u.email for u in editors if u.pk != getattr(record.actor, "pk", None)})
    if not recipients:
        return
    link = settings.SITE_URL + reverse("admin:papers_digest_change", args=[digest.pk])
    subject = _("Waiting for review: %(title)s") % {"title": digest.title}
    body = _(
        "%(who)s submitted “%(title)s” (%(date)s) for review at %(when)s.\n\n"
        "%(message)s\n\nReview it in the admin: %(link)s"
    ) % {
        "who": workflow.user_label(record.actor),
        "title": digest.title,
        "date": digest.issue_date.isoformat(),
        "when": workflow.site_time(record.created_at),
        "message": record.message or _("(no message)"),
        "link": link,
    }
    queue_mail(subject=subject, body=body, to=recipients)


# Positions are unique per digest, so a reorder (1<->2) saved row by row would collide
# half-way. Changed rows first move out of the way by this offset (PositiveSmallIntegerField
# holds up to 32767), then take their new positions.
_POSITION_PARKING_OFFSET = 16000


def entries_park_positions(entry_ids) -> None:
    """Move entries whose positions are about to change out of the way, in the current
    transaction (the admin's entry inline, restoring a revision)."""
    if entry_ids:
        Entry.objects.filter(pk__in=list(entry_ids)).update(
            position=F("position") + _POSITION_PARKING_OFFSET,
            updated_at=timezone.now(),  # the position is in the paper's block
        )
        # A bulk update sends no signal: keep the search rows' copy of the position.
        sync_entry_state(entry_ids=entry_ids)


# --- the one-page editor: saving a digest's whole content ------------------------------

# Autosaves of one person within this many minutes of a revision's creation are merged
# into it: the history keeps a version every few minutes, not one per pause in typing.
EDITOR_REVISION_MINUTES = 10

# The fields of a digest, an entry and a figure the editor writes.
DIGEST_FIELDS = ("title", "slug", "issue_date", "summary")
FIGURE_FIELDS = ("caption", "alt_text", "source_url", "licence")
_TAG_LENGTH = 100  # taggit's Tag.name


def entry_key(entry_id, name: str) -> str:
    """The key of an entry's field in ``digest_save_content`` errors (and the editor form's
    field name): ``e12-title_zh``, ``e12-tags``, ``e12-s-summary`` for a section."""
    return f"e{entry_id}-{name}"


def figure_key(figure_id, name: str) -> str:
    return f"f{figure_id}-{name}"


def content_version(digest: Digest | None) -> str:
    """The version of ``digest``'s content a page loads and sends back with its save: the
    latest revision's number (and how many saves it holds). Every save changes it."""
    if digest is None or digest.pk is None:
        return "0"
    latest = Revision.objects.filter(digest=digest).order_by("-number").first()
    return latest.version if latest else "0"


class EditConflict(ValidationError):
    """A save based on an older version than the one stored: someone else saved in between.
    Nothing was written; ``latest_version`` is what a deliberate overwrite sends back."""

    def __init__(self, revision: Revision | None):
        self.revision = revision
        self.latest_version = revision.version if revision else "0"
        self.who = workflow.user_label(revision.author if revision else None)
        when = (revision.saved_at or revision.created_at) if revision else None
        self.when = workflow.site_time(when)
        super().__init__(
            _(
                "Not saved: %(who)s saved this digest at %(when)s, after you opened it. "
                "Your text is still on this page. Open the stored version in another tab to "
                "compare, then save yours to replace it, or reload to take theirs."
            )
            % {"who": self.who, "when": self.when},
            code="stale",
        )


@dataclass
class ContentSave:
    """What ``digest_save_content`` did: the version the page now works from, and the
    revision that holds the save (None when nothing had changed)."""

    digest: Digest
    version: str
    revision: Revision | None
    changed: bool


def _tag_names(value, key: str, errors: dict) -> list[str]:
    names = sorted({str(name).strip() for name in value or [] if str(name).strip()})
    if any(len(name) > _TAG_LENGTH for name in names):
        errors[key] = _("A tag may have at most %(n)d characters.") % {"n": _TAG_LENGTH}
    return names


def _field_errors(exc: ValidationError, errors: dict, key) -> None:
    for name, messages in exc.message_dict.items():
        errors[key(name)] = " ".join(messages)


def _content_plan(digest: Digest, data: dict) -> tuple[dict, list]:
    """Apply ``data`` to ``digest`` and its entries in memory and validate all of it: the
    errors by field key, and the writes to make (nothing is written here)."""
    if not isinstance(data, dict):
        raise ValidationError(_("Nothing to save: the form was empty."))
    errors: dict = {}
    writes: list = []
    digest_changed = False
    for name in DIGEST_FIELDS:
        if name in data:
            value = data[name] if data[name] is not None else ""
            if str(getattr(digest, name) or "") != str(value):
                setattr(digest, name, value)
                digest_changed = True
    try:
        digest.full_clean(exclude=["status", "published_at", "expires_at"])
    except ValidationError as exc:
        _field_errors(exc, errors, lambda name: name)
    if "tags" in data:
        names = _tag_names(data["tags"], "tags", errors)
        if names != sorted(tag.name for tag in digest.tags.all()):
            writes.append(("digest_tags", digest, names))
            digest_changed = True
    if digest_changed:
        writes.append(("digest", digest, None))

    if "entries" not in data:
        return errors, writes
    entries = {
        entry.pk: entry
        for entry in digest.entries.select_related("paper").prefetch_related(
            "tags", "figures", "sections__kind"
        )
    }
    items = data["entries"]
    ids = [item.get("id") if isinstance(item, dict) else None for item in items]
    if sorted(map(str, ids)) != sorted(map(str, entries)) or len(set(ids)) != len(ids):
        raise ValidationError(
            _(
                "The papers of this digest changed since the page was opened (one was added "
                "or removed). Reload the page to edit them."
            ),
            code="entries",
        )
    kinds = {kind.slug: kind for kind in SectionKind.objects.all()}
    moved = []
    for position, item in enumerate(items, start=1):
        entry = entries[int(item["id"])]
        dirty = False
        if entry.position != position:
            moved.append(entry.pk)
            entry.position = position
            dirty = True
        if "title_zh" in item and entry.title_zh != (item["title_zh"] or ""):
            entry.title_zh = item["title_zh"] or ""
            dirty = True
        try:
            entry.clean_fields(exclude=["digest", "paper", "position"])
        except ValidationError as exc:
            _field_errors(exc, errors, lambda name, pk=entry.pk: entry_key(pk, name))
        if "tags" in item:
            names = _tag_names(item["tags"], entry_key(entry.pk, "tags"), errors)
            if names != sorted(tag.name for tag in entry.tags.all()):
                writes.append(("entry_tags", entry, names))
                dirty = True
        sections = {section.kind.slug: section for section in entry.sections.all()}
        for slug, text in (item.get("sections") or {}).items():
            kind = kinds.get(slug)
            if kind is None:
                errors[entry_key(entry.pk, f"s-{slug}")] = _("There is no such section kind.")
                continue
            body = normalise_section_text(str(text or ""), as_list=kind.is_list)
            section = sections.get(slug)
            if section is None and body:
                writes.append(("section", Section(entry=entry, kind=kind, body=body), None))
                dirty = True
            elif section is not None and not body:
                writes.append(("section_delete", section, None))
                dirty = True
            elif section is not None and section.body != body:
                section.body = body
                writes.append(("section", section, None))
                dirty = True
        figures = {figure.pk: figure for figure in entry.figures.all()}
        for values in item.get("figures") or []:
            figure = figures.get(_as_int(values.get("id")))
            if figure is None:
                errors[entry_key(entry.pk, "figures")] = _("A figure is not in this paper.")
                continue
            changed = False
            for name in FIGURE_FIELDS:
                if name in values and getattr(figure, name) != (values[name] or ""):
                    setattr(figure, name, values[name] or "")
                    changed = True
            if changed:
                try:
                    figure.clean_fields(exclude=["entry", "image", "position"])
                except ValidationError as exc:
                    _field_errors(exc, errors, lambda name, pk=figure.pk: figure_key(pk, name))
                writes.append(("figure", figure, None))
                dirty = True
        if dirty:
            writes.append(("entry", entry, None))
    if moved:
        writes.insert(0, ("park", moved, None))
    return errors, writes


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _write(writes: list) -> None:
    for kind, target, names in writes:
        if kind == "park":
            entries_park_positions(target)
        elif kind == "digest":
            target.save()
        elif kind in ("digest_tags", "entry_tags"):
            target.tags.set(names)
        elif kind == "section":
            target.save()
        elif kind == "section_delete":
            target.delete()
        elif kind == "figure":
            target.save(update_fields=[*FIGURE_FIELDS])
    # Entries last: the parked positions become 1..n, and their update time (in the key of
    # the paper's cached block) follows every change of what the block shows.
    for kind, target, _names in writes:
        if kind == "entry":
            target.save()


def digest_save_content(
    *, digest: Digest, by, data: dict, base_version: str, message: str = ""
) -> ContentSave:
    """Save the whole content of ``digest`` as the one-page editor sends it, in one
    transaction: its fields (``title``, ``slug``, ``issue_date``, ``summary``, ``tags``) and
    ``entries``, every entry in its new order (positions become 1..n) as
    ``{"id", "title_zh", "tags", "sections": {kind slug: text}, "figures": [{"id",
    "caption", "alt_text", "source_url", "licence"}]}``. A key left out is left unchanged;
    an empty section is removed.

    Refused: without ``papers.change_digest``, an author on a published digest
    (PermissionDenied); a save not based on the stored version (``EditConflict``); invalid
    values (ValidationError keyed by field: ``title``, ``e<id>-title_zh``,
    ``f<id>-source_url``…). Saves by one person within ``EDITOR_REVISION_MINUTES`` of
    their revision are merged into it (autosave makes no revision per pause)."""
    with transaction.atomic():
        locked, latest = _open_for_edit(digest, by, base_version)
        errors, writes = _content_plan(locked, data)
        if errors:
            raise ValidationError(errors)
        if not writes:
            return ContentSave(
                digest=locked,
                version=latest.version if latest else "0",
                revision=None,
                changed=False,
            )
        _write(writes)
        revision = _record_edit(locked, by, latest, message=message)
    return ContentSave(digest=locked, version=revision.version, revision=revision, changed=True)


def _open_for_edit(digest: Digest, by, base_version) -> tuple[Digest, Revision | None]:
    """In the caller's transaction: ``digest`` locked, after the checks every editor write
    makes (permission, a state that may be edited, a page based on the stored version:
    ``EditConflict`` otherwise), and its latest revision."""
    _require(by, CHANGE_PERMISSION)
    digest_check_editable(digest=digest, by=by)
    locked = _locked(digest)
    # The state may have changed since the page was opened (published meanwhile).
    digest_check_editable(digest=locked, by=by)
    latest = locked.revisions.select_related("author").order_by("-number").first()
    current = latest.version if latest else "0"
    if str(base_version or "").strip() != current:
        raise EditConflict(latest)
    return locked, latest


def _record_edit(locked: Digest, by, latest: Revision | None, *, message="", merge=True):
    """The revision holding an editor write just made: the author's recent autosave
    revision, updated (``merge``), or a new one. A new version either way."""
    now = timezone.now()
    snapshot = workflow.snapshot(locked)
    window = now - datetime.timedelta(minutes=EDITOR_REVISION_MINUTES)
    if (
        merge
        and latest is not None
        and latest.saved_at is not None
        and not latest.published
        and latest.author_id == by.pk
        and latest.created_at >= window
    ):
        latest.snapshot = snapshot
        latest.saves += 1
        latest.saved_at = now
        latest.save(update_fields=["snapshot", "saves", "saved_at"])
        revision = latest
    else:
        revision = Revision.objects.create(
            digest=locked,
            number=(latest.number if latest else 0) + 1,
            author=by,
            message=(message or _("Edited in the digest editor"))[:300],
            snapshot=snapshot,
            saved_at=now,
        )
    if locked.status in Digest.READABLE_STATES:
        content_changed()
    return revision


def digest_add_paper(*, digest: Digest, by, paper: Paper, base_version: str) -> ContentSave:
    """Add ``paper`` to ``digest`` as its last entry (an empty Chinese title and sections,
    to be written in the editor), from the page's ``base_version``. Refused like
    ``digest_save_content`` (permission, a live digest, a stale version), and with a
    ValidationError when the paper is already in the digest. Its own revision."""
    with transaction.atomic():
        locked, latest = _open_for_edit(digest, by, base_version)
        there = locked.entries.filter(paper=paper).values_list("position", flat=True).first()
        if there is not None:
            raise ValidationError(
                _("arXiv:%(id)s is already in this digest, as paper %(n)d.")
                % {"id": paper.arxiv_id, "n": there},
                code="duplicate",
            )
        last = max(locked.entries.values_list("position", flat=True), default=0)
        Entry.objects.create(digest=locked, paper=paper, position=last + 1)
        message = _("Added arXiv:%(id)s in the digest editor") % {"id": paper.arxiv_id}
        revision = _record_edit(locked, by, latest, message=message, merge=False)
    return ContentSave(digest=locked, version=revision.version, revision=revision, changed=True)


def digest_remove_entry(*, digest: Digest, by, entry_id, base_version: str) -> ContentSave:
    """Remove the entry ``entry_id`` (its sections and figures with it) from ``digest``; the
    papers after it move up, so positions stay 1..n. Refused like ``digest_add_paper``, and
    when the entry is not in the digest or readers commented on it (their comments would go).
    The paper itself stays (other digests may show it). Its own revision."""
    with transaction.atomic():
        locked, latest = _open_for_edit(digest, by, base_version)
        number = _as_int(entry_id)
        entry = (
            locked.entries.select_related("paper").filter(pk=number).first()
            if number is not None
            else None
        )
        if entry is None:
            raise ValidationError(
                _("This paper is no longer in the digest. Reload the page."), code="missing"
            )
        lost = Comment.objects.filter(entry=entry).count()
        if lost:
            raise ValidationError(
                _(
                    "Readers commented on this paper (%(count)d comments would be deleted). "
                    "Nothing was changed; remove those comments first if that is what you want."
                )
                % {"count": lost},
                code="commented",
            )
        entry.delete()
        after = list(locked.entries.filter(position__gt=entry.position).order_by("position"))
        entries_park_positions([row.pk for row in after])
        for row in after:
            row.position -= 1
            row.save(update_fields=["position", "updated_at"])
        message = _("Removed arXiv:%(id)s in the digest editor") % {"id": entry.paper.arxiv_id}
        revision = _record_edit(locked, by, latest, message=message, merge=False)
    return ContentSave(digest=locked, version=revision.version, revision=revision, changed=True)
