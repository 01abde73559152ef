"""Reader comments: the anti-spam rules, the moderation services and the page hook.

Every write lives here. Moderation functions check ``comments.moderate_comment`` themselves
and run in a transaction, so admin actions, views and commands only call them. Every
decision, automatic or by a moderator, writes a ``ModerationRecord`` with its reason.

All rules are settings (``COMMENTS_*`` in digestsite/settings.py). Rate limits (sliding
windows, comments/ratelimit.py), the duplicate lock and the notification lock use Django's
cache API with atomic ``add``, so with Redis configured they hold across several app servers.
"""

import datetime
import hashlib
import ipaddress
import logging
import time
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import get_random_string, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import task

from background.tasks import enqueue_on_commit, queue_mail, unsubscribe_headers
from comments import ratelimit
from comments.markup import count_links, neutralise
from comments.models import (
    BlockedTerm,
    Comment,
    CommentClosure,
    CommentFlag,
    CommentNotice,
    DroppedSubmissionCount,
    ModerationRecord,
)
from pagecache import store as pages
from papers.changes import content_changed
from papers.models import Digest, Entry, SiteSettings

logger = logging.getLogger(__name__)

MODERATE_PERMISSION = "comments.moderate_comment"
SESSION_MINE = "comments_mine"  # ids of the reader's own comments (shown while pending)
MESSAGE_TAG = "comments"  # extra tag of the notices the comment section shows
SESSION_READER = "comments_reader"  # a random reader key, so a reader flags a comment once
_STAMP_SALT = "papers.comments.form-stamp"
Status = Comment.Status
Action = ModerationRecord.Action

# The clock of the rate limiter and of the form stamp (tests move it instead of sleeping).
clock = time.time


def conf(name: str):
    """One ``COMMENTS_<name>`` setting."""
    return getattr(settings, f"COMMENTS_{name}")


def _require(user) -> None:
    if user is None or not user.has_perm(MODERATE_PERMISSION):
        raise PermissionDenied(_("You do not have permission to moderate comments."))


def _hash(value: str, purpose: str) -> str:
    return salted_hmac(f"papers.comments.{purpose}", value).hexdigest()


def email_key(email: str) -> str:
    """A commenter's key: a keyed hash of the normalised email ("" without an email)."""
    email = (email or "").strip().lower()
    return _hash(email, "email") if email else ""


def body_key(body: str) -> str:
    """Same text whatever the spacing and case: what duplicate detection compares."""
    return hashlib.sha256("".join(body.split()).casefold().encode()).hexdigest()


# --- targets -------------------------------------------------------------------------


def target_key(target) -> str:
    """``digest:12`` or ``entry:34``: how forms and cache keys name a target."""
    return f"{'entry' if isinstance(target, Entry) else 'digest'}:{target.pk}"


def resolve_target(key: str):
    """The published digest or entry named by ``key``; ``None`` if there is none.
    Raises ValueError for a malformed key (the caller answers 400)."""
    kind, _sep, pk = (key or "").partition(":")
    if kind not in {"digest", "entry"} or not pk.isdigit() or len(pk) > 18:
        raise ValueError(key)
    if kind == "digest":
        return Digest.objects.published().filter(pk=int(pk)).first()
    return Entry.objects.published().select_related("digest", "paper").filter(pk=int(pk)).first()


def _digest_of(target) -> Digest:
    return target.digest if isinstance(target, Entry) else target


def closed_reason(target, *, closed: bool | None = None) -> str:
    """Why readers cannot comment on ``target`` now ("" when they can). ``closed`` is
    whether a moderator closed the thread (looked up when not given)."""
    digest = _digest_of(target)
    if not digest.is_published:
        return _("Comments open when this digest is published.")
    if digest.status == Digest.Status.ARCHIVED:
        return _("This digest is archived; comments are closed.")
    if closed is None:
        closed = CommentClosure.objects.filter(digest_id=digest.pk).exists()
    if closed:
        return _("Comments are closed on this digest.")
    days = conf("CLOSE_AFTER_DAYS")
    if days and digest.published_at + datetime.timedelta(days=days) < timezone.now():
        return ngettext(
            "Comments close %(days)d day after publication.",
            "Comments close %(days)d days after publication.",
            days,
        ) % {"days": days}
    return ""


# --- who is asking -------------------------------------------------------------------


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def client_ip(request) -> str:
    """The visitor's address, the site's one reading of it (comments, readers, sign-ups and
    the login lockout: digestsite/client_ip.py): REMOTE_ADDR, unless ``TRUSTED_PROXY_COUNT``
    proxies we run sit in front, in which case the address the outermost of them saw
    (counted from the right of X-Forwarded-For, so addresses a client writes into the header
    are ignored)."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies and _valid_ip(hops[-proxies]):
            return hops[-proxies]
    return remote if _valid_ip(remote) else "0.0.0.0"


def reader_key(request) -> str:
    """A random key kept in the reader's session (created on first use)."""
    key = request.session.get(SESSION_READER)
    if not key:
        key = get_random_string(32)
        request.session[SESSION_READER] = key
    return key


def remember_mine(request, comment: Comment) -> None:
    mine = [pk for pk in request.session.get(SESSION_MINE, []) if pk != comment.pk]
    request.session[SESSION_MINE] = (mine + [comment.pk])[-conf("SESSION_REMEMBER") :]


def _my_ids(request) -> list[int]:
    session = getattr(request, "session", None)
    if session is None or session.session_key is None and not session.modified:
        return []  # no session cookie: nothing to look up (and no query)
    ids = session.get(SESSION_MINE, [])
    return [pk for pk in ids if isinstance(pk, int)]


# --- rate limits ---------------------------------------------------------------------


def rate_limited(scope: str, identity: str, *, limits=None) -> int:
    """Count one attempt by ``identity`` against every limit of ``limits`` (a list of
    (attempts, seconds); default ``COMMENTS_RATE_LIMITS``). Returns 0 when allowed, else
    the seconds to wait (a refused attempt is not counted).

    Sliding windows in the cache (comments/ratelimit.py): "one per 15 s" means 15 s after
    the last allowed comment, whatever the clock reads. Slots are taken with ``add``, atomic
    on Redis, so several servers sharing it agree (a rare extra may pass: see there). A
    failing cache limits nothing rather than failing the site."""
    if not identity:
        return 0
    ident = _hash(identity, "rate")[:32]
    windows = [
        ratelimit.Limit(f"comments:rate:{scope}:{ident}:{limit}:{seconds}", limit, seconds)
        for limit, seconds in (conf("RATE_LIMITS") if limits is None else limits)
    ]
    return ratelimit.attempt(cache, windows, now=clock())


# --- the form stamp (minimum fill time without JavaScript) -----------------------------


def form_stamp(request) -> str:
    """A signed "form served at" time, put in a hidden field when the page is rendered
    (a placeholder while the page cache renders a storable page: it fills one in per
    response, ``form_stamp_value``)."""
    if pages.is_rendering(request):
        return pages.hole("stamp")
    return form_stamp_value()


_STAMPS: dict[tuple, str] = {}


def form_stamp_value() -> str:
    """The signed second, made once per second and key: every response of a cached page
    with a comment form carries one, and signing it (~25 µs) was a tenth of such a hit."""
    second = int(clock())
    key = (second, settings.SECRET_KEY)
    stamp = _STAMPS.get(key)
    if stamp is None:
        stamp = signing.dumps(second, salt=_STAMP_SALT)
        _STAMPS.clear()
        _STAMPS[key] = stamp
    return stamp


def stamp_age(stamp: str) -> float | None:
    """Seconds since the form was served, or ``None`` if the stamp is missing or forged."""
    try:
        served = signing.loads(stamp or "", salt=_STAMP_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(served, int):
        return None
    return clock() - served


def count_dropped(reason: str) -> None:
    """A bot's submission is dropped: only this per-day counter records it."""
    day = timezone.localdate()
    with transaction.atomic():
        row, _created = DroppedSubmissionCount.objects.get_or_create(day=day, reason=reason)
        DroppedSubmissionCount.objects.filter(pk=row.pk).update(count=F("count") + 1)


# --- submission ----------------------------------------------------------------------


@dataclass
class SubmitResult:
    comment: Comment
    duplicate: bool = False


# Letters of other scripts that readers take for Latin ones (Unicode's confusables, the
# common few): "саsinо" with a Cyrillic с, а and о must match "casino".
_LOOKALIKES = str.maketrans(
    "АВЕЅІЈКМНОРСТХУаеіјоѕрсхуһԁԛԝӏɡΑΒΕΖΗΙΚΜΝΟΡΤΥΧαικνορτυχ",
    "ABESIJKMHOPCTXYaeijospcxyhdqwlgABEZHIKMNOPTYXaikvoptux",
)


# Format characters (zero-width space and joiners, soft hyphen, BOM, bidi controls) and
# non-spacing marks (combining accents, the grapheme joiner, variation selectors).
_INVISIBLE = {"Cf", "Mn"}


def fold_for_matching(text: str) -> str:
    """``text`` as the blocklist compares it: compatibility forms (full-width ｃａｓｉｎｏ,
    𝐜𝐚𝐬𝐢𝐧𝐨, ⓒ) to plain ones (NFKC), invisible characters (zero-width spaces and joiners,
    soft hyphens, variation selectors) and combining marks dropped, look-alike letters of
    other scripts made Latin, case folded. Only for matching: the comment keeps its text."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE)
    # Before and after folding the case: "В" is a Latin B, but its lower case "в" no b.
    text = text.translate(_LOOKALIKES).casefold().translate(_LOOKALIKES)
    return unicodedata.normalize("NFKC", text)


def _hold_reasons(*, name: str, email: str, body: str, ip: str) -> list[str]:
    reasons = []
    links = count_links(body)
    if links > conf("MAX_LINKS"):
        reasons.append(
            _("%(count)d links (more than %(max)d)") % {"count": links, "max": conf("MAX_LINKS")}
        )
    haystacks = {
        _("name"): fold_for_matching(name),
        _("email"): fold_for_matching(email),
        _("comment"): fold_for_matching(body),
        _("IP address"): ip.lower(),
    }
    for term in BlockedTerm.objects.values_list("term", flat=True):
        folded = fold_for_matching(term)
        for where, text in haystacks.items():
            if folded and folded in text:
                reasons.append(
                    _("blocked term “%(term)s” in %(where)s") % {"term": term, "where": where}
                )
    return reasons


def comment_submit(
    *,
    target,
    name: str,
    email: str,
    body: str,
    ip: str,
    user_agent: str,
    parent=None,
    notify: bool = False,
) -> SubmitResult:
    """Store a reader's comment on a published, open ``target``: held for moderation,
    or approved when the commenter has enough approved comments and no rule holds it.
    The same body on the same target within the duplicate window stores nothing new.
    ``notify``: the commenter (who gave an email) is mailed when it is approved and answered."""
    reason = closed_reason(target)
    if reason:
        raise ValidationError(reason)
    if parent is not None:
        if parent.parent_id:  # one level of replies: answer the thread's top comment
            parent = parent.parent
        if parent.status != Status.APPROVED or target_key(parent.target) != target_key(target):
            raise ValidationError(_("You can only reply to a published comment on this page."))
    body_hash = body_key(body)
    hash_of_email = email_key(email)
    # A duplicate is the same text on the same target from the same commenter (email key,
    # else IP) within the window: a double click or a resend. The same text from someone
    # else is stored but held, as a spam signal ("谢谢分享" from two readers is not spam,
    # one text from twenty addresses usually is).
    same_sender = Q(email_hash=hash_of_email) if hash_of_email else Q(ip_address=ip)
    window = conf("DUPLICATE_WINDOW_SECONDS")
    since = timezone.now() - datetime.timedelta(seconds=window)
    recent_same_text = Comment.objects.for_target(target).filter(
        body_hash=body_hash, created_at__gte=since, is_staff_reply=False
    )
    earlier = recent_same_text.filter(same_sender).order_by("-created_at").first()
    sender_key = _hash(hash_of_email or ip, "sender")[:32]
    lock = f"comments:dup:{target_key(target)}:{body_hash}:{sender_key}"
    if earlier is not None or not cache.add(lock, 1, timeout=window):
        if earlier is None:  # a concurrent twin holds the lock and is being saved right now
            earlier = (
                Comment.objects.for_target(target)
                .filter(same_sender, body_hash=body_hash)
                .order_by("-created_at")
                .first()
            )
        if earlier is not None:
            return SubmitResult(earlier, duplicate=True)

    reasons = _hold_reasons(name=name, email=email, body=body, ip=ip)
    others = recent_same_text.exclude(same_sender).count()
    if others:
        reasons.append(
            ngettext(
                "the same text came from %(count)d other commenter in the last minutes",
                "the same text came from %(count)d other commenters in the last minutes",
                others,
            )
            % {"count": others}
        )
    status, action = Status.PENDING, Action.SUBMITTED
    if reasons:
        why = _("Held: %s.") % "; ".join(reasons)
    else:
        why = _("Pre-moderation: new comments wait for a moderator.")
        needed = conf("AUTO_APPROVE_AFTER")
        if needed and hash_of_email:
            history = Comment.objects.filter(email_hash=hash_of_email, is_staff_reply=False)
            approved = history.filter(status=Status.APPROVED).count()
            if approved >= needed and not history.filter(status=Status.SPAM).exists():
                status, action = Status.APPROVED, Action.AUTO_APPROVED
                why = _("Approved automatically: %(count)d earlier comments were approved.") % {
                    "count": approved
                }
    kwargs = {"entry": target} if isinstance(target, Entry) else {"digest": target}
    with transaction.atomic():
        comment = Comment.objects.create(
            **kwargs,
            parent=parent,
            author_name=name,
            email=email,
            email_hash=hash_of_email,
            notify=bool(notify and email),
            body=body,
            body_hash=body_hash,
            status=status,
            held_reason=why,
            ip_address=ip if _valid_ip(ip) else None,
            user_agent=(user_agent or "")[:300],
            moderated_at=timezone.now() if status == Status.APPROVED else None,
        )
        ModerationRecord.objects.create(
            action=action, comment=comment, digest=_digest_of(target), reason=why
        )
        if status == Status.APPROVED:
            content_changed()
            # The reader sees it published at once: no mail says so again.
            _approved(comment, quietly=True)
        if status == Status.PENDING:
            # The worker looks again once this comment is overdue: no cron needed.
            enqueue_on_commit(
                check_moderation_queue,
                run_after=comment.created_at
                + datetime.timedelta(minutes=conf("NOTIFY_AFTER_MINUTES"), seconds=5),
            )
    return SubmitResult(comment)


# --- moderation ----------------------------------------------------------------------

_DECISIONS = {
    Status.APPROVED: Action.APPROVED,
    Status.REJECTED: Action.REJECTED,
    Status.SPAM: Action.SPAM,
}


def comment_moderate(*, comment: Comment, by, status: str, reason: str = "") -> Comment:
    """Approve, reject or mark a comment as spam. Rejecting or marking spam also unpins it;
    its replies stay, but readers see them only under a published comment."""
    _require(by)
    if status not in _DECISIONS:
        raise ValidationError(_("Unknown decision."))
    with transaction.atomic():
        locked = Comment.objects.select_for_update().get(pk=comment.pk)
        if locked.is_staff_reply and status == Status.SPAM:
            raise ValidationError(_("A staff reply cannot be spam; reject it instead."))
        newly_approved = status == Status.APPROVED and locked.status != Status.APPROVED
        locked.status = status
        if status != Status.APPROVED:
            locked.is_pinned = False
        else:
            # A moderator has read it: flags count afresh (readers who flagged it already
            # still cannot flag it again).
            locked.flag_count = 0
        locked.moderated_at = timezone.now()
        locked.moderated_by = by
        locked.save(
            update_fields=["status", "is_pinned", "flag_count", "moderated_at", "moderated_by"]
        )
        ModerationRecord.objects.create(
            action=_DECISIONS[status],
            comment=locked,
            digest=_digest_of(locked.target),
            actor=by,
            reason=reason,
        )
        if newly_approved:
            _approved(locked)
        content_changed()
    return locked


def comment_set_pinned(*, comment: Comment, by, pinned: bool) -> Comment:
    """Pin (精选) or unpin a top-level comment. Pinning a waiting comment approves it."""
    _require(by)
    with transaction.atomic():
        locked = Comment.objects.select_for_update().get(pk=comment.pk)
        if pinned and locked.parent_id:
            raise ValidationError(_("Only top-level comments can be pinned, not replies."))
        if pinned and locked.status in (Status.REJECTED, Status.SPAM):
            raise ValidationError(_("A rejected or spam comment cannot be pinned."))
        digest = _digest_of(locked.target)
        if pinned and locked.status == Status.PENDING:
            locked.status = Status.APPROVED
            locked.moderated_at = timezone.now()
            locked.moderated_by = by
            ModerationRecord.objects.create(
                action=Action.APPROVED,
                comment=locked,
                digest=digest,
                actor=by,
                reason=_("Approved by pinning."),
            )
            _approved(locked)
        locked.is_pinned = pinned
        locked.save(update_fields=["is_pinned", "status", "moderated_at", "moderated_by"])
        ModerationRecord.objects.create(
            action=Action.PINNED if pinned else Action.UNPINNED,
            comment=locked,
            digest=digest,
            actor=by,
        )
        content_changed()
    return locked


def staff_display_name(user) -> str:
    """The name readers see on a staff reply: the staff member's full name, else the site's
    editors (a login name is never shown: it is half of what a password guesser needs)."""
    return user.get_full_name() or _("%(site)s editors") % {"site": SiteSettings.load().site_name}


def comment_reply(*, comment: Comment, by, body: str) -> Comment:
    """Publish a staff reply under ``comment`` (under its thread's top comment if it is a
    reply itself). Replying to a waiting comment approves it: the reply would be pointless
    under a hidden comment."""
    _require(by)

    body = neutralise(body).strip()
    if not body:
        raise ValidationError(_("Write a reply first."))
    if len(body) > conf("MAX_LENGTH"):
        raise ValidationError(
            _("Keep the reply under %(max)d characters.") % {"max": conf("MAX_LENGTH")}
        )
    with transaction.atomic():
        parent = Comment.objects.select_for_update().get(pk=comment.parent_id or comment.pk)
        if parent.status in (Status.REJECTED, Status.SPAM):
            raise ValidationError(_("You cannot reply to a rejected or spam comment."))
        target = parent.target
        digest = _digest_of(target)
        if parent.status == Status.PENDING:
            parent.status = Status.APPROVED
            parent.moderated_at = timezone.now()
            parent.moderated_by = by
            parent.save(update_fields=["status", "moderated_at", "moderated_by"])
            ModerationRecord.objects.create(
                action=Action.APPROVED,
                comment=parent,
                digest=digest,
                actor=by,
                reason=_("Approved by replying."),
            )
            # The answer's notice says it all: one mail, not two at once.
            _approved(parent, quietly=True)
        kwargs = {"entry": target} if isinstance(target, Entry) else {"digest": target}
        reply = Comment.objects.create(
            **kwargs,
            parent=parent,
            author_name=staff_display_name(by)[:60],
            body=body,
            body_hash=body_key(body),
            status=Status.APPROVED,
            is_staff_reply=True,
            staff_author=by,
            held_reason=_("Staff reply."),
            moderated_at=timezone.now(),
            moderated_by=by,
        )
        ModerationRecord.objects.create(
            action=Action.REPLIED, comment=reply, digest=digest, actor=by
        )
        _tell(parent, f"reply:{reply.pk}", reply=reply)
        content_changed()
    return reply


def comments_close(*, digest: Digest, by) -> CommentClosure:
    """Close comments on ``digest`` and its papers. Published comments stay visible."""
    _require(by)
    with transaction.atomic():
        closure, created = CommentClosure.objects.get_or_create(
            digest=digest, defaults={"closed_by": by}
        )
        if created:
            ModerationRecord.objects.create(action=Action.CLOSED, digest=digest, actor=by)
            content_changed()
    return closure


def comments_reopen(*, digest: Digest, by) -> None:
    """Open comments on ``digest`` again (the automatic closing after N days still applies)."""
    _require(by)
    with transaction.atomic():
        deleted, _rows = CommentClosure.objects.filter(digest=digest).delete()
        if deleted:
            ModerationRecord.objects.create(action=Action.OPENED, digest=digest, actor=by)
            content_changed()


def commenter_erase(*, email: str, by, delete: bool, reason: str = "") -> int:
    """Erase a commenter's personal data: every comment written with ``email`` is deleted
    (``delete``) or kept without name, email, IP and user agent. Returns how many comments
    were touched; the audit record keeps the count, never the address."""
    _require(by)
    key = email_key(email)
    if not key:
        raise ValidationError(_("Give the commenter's email address."))
    with transaction.atomic():
        # Lock only the comment rows (PostgreSQL cannot lock the outer-joined targets).
        comments = Comment.objects.select_for_update(of=("self",)).filter(email_hash=key)
        targets = list(comments.select_related("digest", "entry"))
        count = len(targets)
        if delete:
            Comment.objects.filter(pk__in=[c.pk for c in targets]).delete()
        else:
            Comment.objects.filter(pk__in=[c.pk for c in targets]).update(
                author_name="", email="", email_hash="", ip_address=None, user_agent=""
            )
        what = _("deleted") if delete else _("anonymised")
        note = ngettext("%(count)d comment %(what)s.", "%(count)d comments %(what)s.", count) % {
            "count": count,
            "what": what,
        }
        ModerationRecord.objects.create(
            action=Action.ERASED, actor=by, reason=f"{note} {reason}".strip()
        )
        if targets:
            content_changed()
    return count


def comments_delete(*, comments, by) -> int:
    """Delete comments for good (the admin's delete, for moderators who may delete them);
    their replies go with them. Returns how many were deleted."""
    _require(by)
    if not by.has_perm("comments.delete_comment"):
        raise PermissionDenied(_("You may not delete comments."))
    with transaction.atomic():
        ids = [comment.pk for comment in comments]
        deleted, _rows = Comment.objects.filter(pk__in=ids).delete()
        if deleted:
            content_changed()
    return deleted


# --- flags ---------------------------------------------------------------------------


def comment_flag(*, comment: Comment, reader: str, ip: str) -> bool:
    """A reader reports a published comment. Counted once per reader (and per network);
    at ``COMMENTS_FLAGS_TO_REQUEUE`` flags the comment goes back to the queue.
    Returns False when this reader had already flagged it."""
    try:
        with transaction.atomic():
            CommentFlag.objects.create(
                comment=comment, reader_key=_hash(reader, "reader"), ip_key=_hash(ip, "ip")
            )
            Comment.objects.filter(pk=comment.pk).update(flag_count=F("flag_count") + 1)
            locked = Comment.objects.select_for_update().get(pk=comment.pk)
            needed = conf("FLAGS_TO_REQUEUE")
            if needed and locked.flag_count >= needed and locked.status == Status.APPROVED:
                locked.status = Status.PENDING
                locked.is_pinned = False
                locked.held_reason = ngettext(
                    "Flagged by %(count)d reader.", "Flagged by %(count)d readers.", needed
                ) % {"count": locked.flag_count}
                locked.save(update_fields=["status", "is_pinned", "held_reason"])
                ModerationRecord.objects.create(
                    action=Action.REQUEUED,
                    comment=locked,
                    digest=_digest_of(locked.target),
                    reason=locked.held_reason,
                )
                content_changed()
                enqueue_on_commit(
                    check_moderation_queue,
                    run_after=timezone.now()
                    + datetime.timedelta(minutes=conf("NOTIFY_AFTER_MINUTES"), seconds=5),
                )
    except IntegrityError:
        return False
    return True


# --- telling moderators --------------------------------------------------------------


def moderator_addresses() -> list[str]:
    """Active users allowed to moderate, with an email, plus COMMENTS_MODERATOR_EMAILS."""
    perm = Permission.objects.filter(
        content_type__app_label="comments", codename="moderate_comment"
    ).first()
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    who = Q(is_superuser=True)
    if perm is not None:
        who |= Q(groups__permissions=perm) | Q(user_permissions=perm)
    addresses = set(users.filter(who).values_list("email", flat=True).distinct())
    return sorted(addresses | set(conf("MODERATOR_EMAILS")))


def notify_moderators(*, now=None) -> str:
    """Email moderators when a comment has waited longer than
    ``COMMENTS_NOTIFY_AFTER_MINUTES``, at most once per ``COMMENTS_NOTIFY_INTERVAL_MINUTES``
    (the last notice is a ModerationRecord, so the limit survives restarts; a cache lock
    keeps two servers from sending at once). Returns what happened, for the command."""
    now = now or timezone.now()
    waited = now - datetime.timedelta(minutes=conf("NOTIFY_AFTER_MINUTES"))
    waiting = Comment.objects.filter(status=Status.PENDING)
    overdue = waiting.filter(created_at__lte=waited).count()
    if not overdue:
        return _("No comment has waited too long.")
    interval = datetime.timedelta(minutes=conf("NOTIFY_INTERVAL_MINUTES"))
    if ModerationRecord.objects.filter(
        action=Action.NOTIFIED, created_at__gt=now - interval
    ).exists():
        return _("Moderators were notified less than an interval ago.")
    recipients = moderator_addresses()
    if not recipients:
        return _("No moderator has an email address.")
    if not cache.add("comments:notify-lock", 1, timeout=60):
        return _("Another server is sending the notice.")
    try:
        total = waiting.count()
        url = settings.SITE_URL + reverse("admin:comments_comment_changelist")
        subject = ngettext(
            "%(count)d comment is waiting for moderation",
            "%(count)d comments are waiting for moderation",
            total,
        ) % {"count": total}
        message = "\n\n".join(
            [
                subject + ".",
                ngettext(
                    "%(count)d of them has waited more than %(minutes)d minutes.",
                    "%(count)d of them have waited more than %(minutes)d minutes.",
                    overdue,
                )
                % {"count": overdue, "minutes": conf("NOTIFY_AFTER_MINUTES")},
                _("Moderation queue: %(url)s") % {"url": f"{url}?status__exact=pending"},
            ]
        )
        queue_mail(subject=subject, body=message, to=recipients)
        ModerationRecord.objects.create(
            action=Action.NOTIFIED,
            reason=_("%(waiting)d waiting, %(overdue)d overdue, sent to %(people)d.")
            % {"waiting": total, "overdue": overdue, "people": len(recipients)},
        )
    finally:
        cache.delete("comments:notify-lock")
    return _("Notified %(people)d moderators about %(count)d waiting comments.") % {
        "people": len(recipients),
        "count": total,
    }


@task()
def check_moderation_queue() -> str:
    """The worker's look at the queue, enqueued for the moment a new comment becomes
    overdue (``submit_comment``)."""
    return notify_moderators()


# --- telling commenters --------------------------------------------------------------

_LINK_SALT = "comments.notice-link"
_STOP_SALT = "comments.notice-stop"


def comment_link_token(comment: Comment) -> str:
    """The signed id in a notice's link to the thread: resolved when followed, so the link
    still leads to the comment after its digest's address changed."""
    return signing.Signer(salt=_LINK_SALT).sign(str(comment.pk))


def comment_for_link(token: str) -> Comment | None:
    """The approved comment a notice's link names, on a published page; else None."""
    try:
        pk = signing.Signer(salt=_LINK_SALT).unsign(token or "")
    except signing.BadSignature:
        return None
    comment = (
        Comment.objects.approved()
        .select_related("digest", "entry__digest")
        .filter(pk=int(pk))
        .first()
    )
    if comment is None or not _digest_of(comment.target).is_published:
        return None
    return comment


def notices_stop_token(email_hash: str) -> str:
    return signing.Signer(salt=_STOP_SALT).sign(email_hash)


def email_hash_for_stop(token: str) -> str | None:
    try:
        return signing.Signer(salt=_STOP_SALT).unsign(token or "") or None
    except signing.BadSignature:
        return None


def notices_stop(*, email: str = "", email_hash: str = "") -> int:
    """No more notices to a commenter (one click in a notice, a bounce or a complaint):
    "tell me" is switched off on every comment written with the address. Returns how many
    comments had it on."""
    key = email_hash or email_key(email)
    if not key:
        return 0
    return Comment.objects.filter(email_hash=key, notify=True).update(notify=False)


def _approved(comment: Comment, *, quietly: bool = False) -> None:
    """``comment`` has just been approved (in the caller's transaction): its author is
    told, unless ``quietly``; the author of the comment it answers is told of the answer."""
    _tell(comment, "approved", quietly=quietly)
    if comment.parent_id:
        parent = Comment.objects.filter(pk=comment.parent_id, status=Status.APPROVED).first()
        if parent is not None:
            _tell(parent, f"reply:{comment.pk}", reply=comment)


def _tell(comment: Comment, event: str, *, reply: Comment | None = None, quietly=False) -> None:
    """Mail the commenter about ``event`` once (a ``CommentNotice`` per comment and event),
    if they asked to be told; never about their own answer."""
    if not comment.notify or not comment.email or comment.is_staff_reply:
        return
    if reply is not None and reply.email_hash and reply.email_hash == comment.email_hash:
        return
    try:
        with transaction.atomic():
            CommentNotice.objects.create(comment=comment, event=event)
    except IntegrityError:
        return  # told already
    if quietly:
        return
    stop_url = settings.SITE_URL + reverse(
        "comments:notices-stop", kwargs={"token": notices_stop_token(comment.email_hash)}
    )
    target = comment.target
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "comment": comment,
            "reply": reply,
            "title": target.paper.title if isinstance(target, Entry) else target.title,
            "digest": _digest_of(target),
            "thread_url": settings.SITE_URL
            + reverse("comments:comment-link", kwargs={"token": comment_link_token(comment)}),
            "stop_url": stop_url,
        }
        if reply is None:
            subject = _("Your comment is published")
        elif reply.is_staff_reply:
            subject = _("The editors answered your comment")
        else:
            subject = _("A reader answered your comment")
        body = render_to_string("comments/mail/notice.txt", context)
    queue_mail(
        subject=subject, body=body, to=[comment.email], headers=unsubscribe_headers(stop_url)
    )


# --- the page hook -------------------------------------------------------------------


def _thread_rows(target, mine: list[int], post_url: str) -> list:
    """The approved comments of ``target`` and the reader's own waiting ones (``mine``),
    oldest first, with the strings the template places."""
    visible = Q(status=Status.APPROVED)
    if mine:
        visible |= Q(pk__in=mine, status=Status.PENDING)
    rows = list(
        Comment.objects.for_target(target)
        .filter(visible)
        .only(
            "id",
            "parent_id",
            "author_name",
            "body_html",
            "status",
            "is_pinned",
            "is_staff_reply",
            "created_at",
            "digest_id",
            "entry_id",
        )
        .order_by("created_at", "id")
    )
    for comment in rows:  # strings the template only places (no filter or tag per comment)
        local = timezone.localtime(comment.created_at)
        comment.iso_time = local.isoformat(timespec="seconds")
        comment.shown_time = local.strftime("%Y-%m-%d %H:%M")
        comment.flag_url = f"{post_url}{comment.pk}/flag/"
        comment.reply_url = f"{post_url}{comment.pk}/reply/"
        comment.is_waiting = comment.status == Status.PENDING
    return rows


def comments_context(request, target, *, closed: bool | None = None) -> dict:
    """What ``includes/_comments.html`` needs, in at most two queries whatever the number
    of comments: the approved comments of ``target`` plus the reader's own waiting ones
    (replies, pins and staff badges included), and whether the thread is closed."""
    mine = _my_ids(request)
    post_url = reverse("comments:comment-post")
    rows = _thread_rows(target, mine, post_url)
    days = conf("CLOSE_AFTER_DAYS")
    published_at = _digest_of(target).published_at
    if days and published_at is not None:  # the form closes by age: the page changes then
        pages.expire_at(request, (published_at + datetime.timedelta(days=days)).timestamp())
    threads = [c for c in rows if c.parent_id is None]
    by_id = {c.pk: c for c in threads}
    for comment in threads:
        comment.thread_replies = []
    for comment in rows:
        if comment.parent_id is not None and comment.parent_id in by_id:
            by_id[comment.parent_id].thread_replies.append(comment)
    threads.sort(key=lambda c: not c.is_pinned)  # stable: pinned first, then oldest first
    reason = closed_reason(target, closed=closed)
    own_pending = any(c.is_waiting for c in rows)
    # A "thank you" notice is personal too (read from the message cookie: no query).
    notice = any(MESSAGE_TAG in m.extra_tags for m in messages.get_messages(request))
    return {
        "comment_section": {
            "threads": threads,
            "count": sum(1 for c in rows if c.status == Status.APPROVED),
            "closed_reason": reason,
            "target": target_key(target),
            "stamp": "" if reason else form_stamp(request),
            "post_url": post_url,
            "max_length": conf("MAX_LENGTH"),
        },
        "comments_private": own_pending or notice,
    }
