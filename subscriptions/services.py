"""Subscriptions: every rule and write, and the sending of a digest when it goes live.

- **Double opt-in.** A sign-up stores a pending subscriber and mails a signed confirmation
  link, valid ``SUBSCRIPTIONS_CONFIRM_HOURS``; an address gets at most one such mail per
  ``SUBSCRIPTIONS_CONFIRMATION_INTERVAL_SECONDS`` however often it is signed up, and one
  reminder at most, ever. A sign-up never confirms: only the link does.
- **Signed links without an account**: the management page and one-click unsubscribe carry
  the subscriber's random key, signed with SECRET_KEY (``manage_token``).
- **Sending.** editorial's publish path calls ``digest_mailing_schedule``, which enqueues
  ``send_digest`` for the go-live time (no cron). At run time the task checks that the digest
  is still live with that go-live time, freezes who it is for (a ``Delivery`` per
  subscriber: unique per subscriber and digest) and sends one batch, claiming each delivery
  before its mail leaves; then it enqueues the next batch. A worker killed mid-send leaves at
  most the one delivery it had claimed in doubt: it is recorded as failed, never sent again.
- **Stops.** Unsubscribing, a bounce or a complaint (subscriptions/bounces.py) stops every
  later send to the address, mid-mailing included.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
import time
from dataclasses import dataclass

from anymail.exceptions import AnymailInvalidAddress, AnymailRecipientsRefused
from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import task
from taggit.models import Tag

from background.tasks import (
    enqueue_on_commit,
    enqueue_periodic,
    queue_mail,
    retrying_task,
    unsubscribe_headers,
)
from comments import services as comments
from papers.models import Category, Digest, Paper, TaggedDigest, TaggedEntry
from subscriptions import mail
from subscriptions.models import Delivery, Mailing, Subscriber, SubscriptionRecord

logger = logging.getLogger(__name__)

Status = Subscriber.Status
State = Delivery.State
Action = SubscriptionRecord.Action

_CONFIRM_SALT = "subscriptions.confirm"
_MANAGE_SALT = "subscriptions.manage"

# The clock of the send loop's pacing (tests replace it).
sleep = time.sleep


def conf(name: str):
    """One ``SUBSCRIPTIONS_<name>`` setting."""
    return getattr(settings, f"SUBSCRIPTIONS_{name}")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _record(action, *, subscriber=None, by=None, reason: str = "") -> None:
    SubscriptionRecord.objects.create(
        action=action,
        subscriber=subscriber,
        actor=by if getattr(by, "pk", None) else None,
        reason=reason,
    )


# --- signed links --------------------------------------------------------------------


class BadLink(Exception):
    """A link that was altered, or names no subscriber (any more)."""


class ExpiredLink(BadLink):
    """A confirmation link older than ``SUBSCRIPTIONS_CONFIRM_HOURS``."""


def confirm_token(subscriber: Subscriber) -> str:
    return signing.TimestampSigner(salt=_CONFIRM_SALT).sign(subscriber.key)


def manage_token(subscriber: Subscriber) -> str:
    return signing.Signer(salt=_MANAGE_SALT).sign(subscriber.key)


def subscriber_for_confirm_token(token: str) -> Subscriber:
    max_age = datetime.timedelta(hours=conf("CONFIRM_HOURS"))
    try:
        key = signing.TimestampSigner(salt=_CONFIRM_SALT).unsign(token or "", max_age=max_age)
    except signing.SignatureExpired as exc:
        raise ExpiredLink(str(exc)) from exc
    except signing.BadSignature as exc:
        raise BadLink(str(exc)) from exc
    return _by_key(key)


def subscriber_for_token(token: str) -> Subscriber:
    try:
        key = signing.Signer(salt=_MANAGE_SALT).unsign(token or "")
    except signing.BadSignature as exc:
        raise BadLink(str(exc)) from exc
    return _by_key(key)


def _by_key(key: str) -> Subscriber:
    subscriber = Subscriber.objects.filter(key=key).first()
    if subscriber is None:
        raise BadLink("no such subscriber")
    return subscriber


def links(subscriber: Subscriber) -> dict[str, str]:
    """The subscriber's own absolute links: management page and one-click unsubscribe."""
    token = manage_token(subscriber)
    return {
        "manage_url": settings.SITE_URL + reverse("subscriptions:manage", kwargs={"token": token}),
        "unsubscribe_url": settings.SITE_URL
        + reverse("subscriptions:unsubscribe", kwargs={"token": token}),
    }


# --- what a subscriber chose ---------------------------------------------------------


def recent_tags(*, digests: int = 12, limit: int = 60):
    """Tags on the latest listed digests and their papers (what a reader is likely to pick),
    alphabetical: one query, whatever the size of the archive."""
    recent = Digest.objects.listed().order_by("-issue_date", "-id").values("pk")[:digests]
    on_entries = TaggedEntry.objects.filter(content_object__digest__in=recent).values("tag_id")
    on_digests = TaggedDigest.objects.filter(content_object__in=recent).values("tag_id")
    return Tag.objects.filter(Q(pk__in=on_entries) | Q(pk__in=on_digests)).order_by("name")[:limit]


def _set_choices(subscriber: Subscriber, *, everything: bool, tags, categories) -> None:
    tags, categories = list(tags or []), list(categories or [])
    if not everything and not tags and not categories:
        raise ValidationError(
            _("Choose at least one tag or category, or subscribe to every digest.")
        )
    subscriber.everything = everything
    subscriber.save(update_fields=["everything"])
    subscriber.tags.set([] if everything else tags)
    subscriber.categories.set([] if everything else categories)


def describe_choices(subscriber: Subscriber) -> str:
    if subscriber.everything:
        return _("every digest")
    names = [t.name for t in subscriber.tags.all()] + [c.code for c in subscriber.categories.all()]
    return _("digests about: %(names)s") % {"names": ", ".join(sorted(names))}


# --- sign-up, confirmation, changes, stops (the reader's side) ------------------------


@dataclass
class SignUp:
    subscriber: Subscriber
    mailed: bool  # whether a mail was queued (at most one per interval and address)


def subscribe(
    *, email: str, everything: bool, tags=(), categories=(), language: str = ""
) -> SignUp:
    """A reader asks for the digest by mail. A new or stopped address becomes pending and
    gets a confirmation link; an address already subscribed gets its management link
    instead (its choices change only through that link). Either mail goes out at most once
    per interval, however often the address is signed up."""
    email = normalise_email(email)
    if not email:
        raise ValidationError(_("Give an email address."))
    language = language or settings.LANGUAGE_CODE
    for attempt in range(2):
        try:
            return _subscribe(
                email=email,
                everything=everything,
                tags=tags,
                categories=categories,
                language=language,
            )
        except IntegrityError:  # the same address signed up at the same moment: once more
            if attempt:
                raise
    raise AssertionError("unreachable")


def _subscribe(*, email, everything, tags, categories, language) -> SignUp:
    now = timezone.now()
    interval = datetime.timedelta(seconds=conf("CONFIRMATION_INTERVAL_SECONDS"))
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(email=email).first()
        if subscriber is None:
            subscriber = Subscriber.objects.create(
                email=email, key=get_random_string(32), language=language
            )
        sent = subscriber.confirmation_sent_at
        recently = sent is not None and now - sent < interval
        if subscriber.status != Status.CONFIRMED:
            if subscriber.status != Status.PENDING:
                subscriber.status = Status.PENDING
                subscriber.stopped_at = None
            subscriber.language = language
            subscriber.save(update_fields=["status", "stopped_at", "language"])
            _set_choices(subscriber, everything=everything, tags=tags, categories=categories)
        if recently:
            return SignUp(subscriber, mailed=False)
        subscriber.confirmation_sent_at = now
        subscriber.save(update_fields=["confirmation_sent_at"])
        if subscriber.status == Status.CONFIRMED:
            _mail(subscriber, "already")
            return SignUp(subscriber, mailed=True)
        _mail(subscriber, "confirm")
        _record(Action.REQUESTED, subscriber=subscriber, reason=describe_choices(subscriber))
        if subscriber.reminded_at is None:
            enqueue_on_commit(
                remind_unconfirmed,
                subscriber.pk,
                now.isoformat(),
                run_after=now + datetime.timedelta(hours=conf("REMINDER_HOURS")),
            )
    return SignUp(subscriber, mailed=True)


def _mail(subscriber: Subscriber, kind: str) -> None:
    """Queue one of the short mails about the subscription (confirm, remind, already),
    in the subscriber's language, with a one-click way out."""
    own = links(subscriber)
    with translation.override(subscriber.language):
        context = {
            **own,
            "confirm_url": settings.SITE_URL
            + reverse("subscriptions:confirm", kwargs={"token": confirm_token(subscriber)}),
            "hours": conf("CONFIRM_HOURS"),
            "subscriber": subscriber,
            "site_url": settings.SITE_URL,
            "site_name": mail.SiteSettings.load().site_name,
        }
        subjects = {
            "confirm": _("Confirm your subscription to %(site)s"),
            "remind": _("Reminder: confirm your subscription to %(site)s"),
            "already": _("You are subscribed to %(site)s"),
        }
        subject = subjects[kind] % {"site": context["site_name"]}
        body = render_to_string(f"subscriptions/mail/{kind}.txt", context)
    headers = {**unsubscribe_headers(own["unsubscribe_url"]), "List-Id": mail.list_id()}
    queue_mail(subject=subject, body=body, to=[subscriber.email], headers=headers)


@task()
def remind_unconfirmed(subscriber_id: int, asked_at: str) -> str:
    """The one reminder, if the sign-up of ``asked_at`` is still unconfirmed; then, a
    confirmation period later, the address is forgotten if it never confirmed."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
        if subscriber is None or subscriber.status != Status.PENDING:
            return "nothing to remind"
        if subscriber.reminded_at is not None:
            return "already reminded"
        sent = subscriber.confirmation_sent_at
        if sent is None or sent.isoformat() != asked_at:
            return "a later sign-up has its own reminder"
        now = timezone.now()
        if now < sent + datetime.timedelta(hours=conf("REMINDER_HOURS")):
            return "too early"  # a backend that cannot wait ran it at once
        subscriber.reminded_at = now
        subscriber.save(update_fields=["reminded_at"])
        _mail(subscriber, "remind")
        _record(Action.REMINDED, subscriber=subscriber)
        enqueue_on_commit(
            forget_unconfirmed,
            subscriber.pk,
            run_after=now + datetime.timedelta(hours=conf("CONFIRM_HOURS"), minutes=5),
        )
    return "reminded"


def _never_confirmed(now: datetime.datetime):
    """Addresses that never confirmed (waiting, or unsubscribed from the confirmation mail)
    whose last link, the confirmation's or the reminder's, has expired: nothing they could
    still do needs them, so they are not kept. Bounces and complaints stay (never mail them)."""
    cutoff = now - datetime.timedelta(hours=conf("CONFIRM_HOURS"))
    return Subscriber.objects.filter(
        status__in=[Status.PENDING, Status.UNSUBSCRIBED],
        confirmed_at__isnull=True,
        confirmation_sent_at__lt=cutoff,
    ).filter(Q(reminded_at__isnull=True) | Q(reminded_at__lt=cutoff))


@task()
def forget_unconfirmed(subscriber_id: int) -> str:
    """Remove an address that never confirmed once its last link has expired."""
    with transaction.atomic():
        _total, rows = _never_confirmed(timezone.now()).filter(pk=subscriber_id).delete()
        deleted = rows.get(Subscriber._meta.label, 0)
        if deleted:
            _record(Action.EXPIRED, reason=_("An unconfirmed sign-up was removed."))
    return "removed" if deleted else "kept"


@task()
def forget_never_confirmed() -> str:
    """Once a day: every address that never confirmed and whose links expired, whatever
    path it took (signed up again after its reminder, unsubscribed before confirming); the
    per-address task after the reminder covers the usual case at once."""
    try:
        with transaction.atomic():
            _total, rows = _never_confirmed(timezone.now()).delete()
            deleted = rows.get(Subscriber._meta.label, 0)
            if deleted:
                _record(
                    Action.EXPIRED,
                    reason=ngettext(
                        "%(n)d unconfirmed sign-up was removed.",
                        "%(n)d unconfirmed sign-ups were removed.",
                        deleted,
                    )
                    % {"n": deleted},
                )
    finally:
        start_forgetting(after=24 * 3600)
    return f"Removed {deleted} unconfirmed sign-up(s)."


def start_forgetting(sender=None, *, after: float = 0, **kwargs) -> None:
    """Enqueue the next daily sweep (unless one is waiting) ``after`` seconds from now."""
    if not conf("WORKER_SWEEPS"):
        return
    run_after = timezone.now() + datetime.timedelta(seconds=after)
    enqueue_periodic(forget_never_confirmed, run_after=run_after)


def subscriber_confirm(*, subscriber: Subscriber) -> Subscriber:
    """The reader followed the confirmation link and pressed Confirm."""
    with transaction.atomic():
        locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if locked.status == Status.CONFIRMED:
            return locked
        locked.status = Status.CONFIRMED
        locked.confirmed_at = timezone.now()
        locked.stopped_at = None
        locked.stop_reason = ""
        locked.save(update_fields=["status", "confirmed_at", "stopped_at", "stop_reason"])
        _record(Action.CONFIRMED, subscriber=locked, reason=describe_choices(locked))
    return locked


def subscriber_change(*, subscriber: Subscriber, everything: bool, tags=(), categories=()):
    """The reader changed what they receive on their page."""
    with transaction.atomic():
        locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        _set_choices(locked, everything=everything, tags=tags, categories=categories)
        _record(Action.CHANGED, subscriber=locked, reason=describe_choices(locked))
    return locked


def subscriber_unsubscribe(*, subscriber: Subscriber, how: str) -> Subscriber:
    """Stop every mail to the subscriber (one click in a mail program, or the page's
    button). Idempotent: mail programs may POST twice."""
    with transaction.atomic():
        locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if locked.status == Status.UNSUBSCRIBED:
            return locked
        locked.status = Status.UNSUBSCRIBED
        locked.stopped_at = timezone.now()
        locked.stop_reason = how
        locked.save(update_fields=["status", "stopped_at", "stop_reason"])
        _record(Action.UNSUBSCRIBED, subscriber=locked, reason=how)
    return locked


def subscriber_resubscribe(*, subscriber: Subscriber) -> Subscriber:
    """Subscribe again from the subscriber's own page. Its signed link proves the address
    after an unsubscribe; after a bounce or a complaint the address confirms again."""
    with transaction.atomic():
        locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if locked.status == Status.UNSUBSCRIBED and locked.confirmed_at is not None:
            locked.status = Status.CONFIRMED
            locked.stopped_at = None
            locked.stop_reason = ""
            locked.save(update_fields=["status", "stopped_at", "stop_reason"])
            _record(Action.RESUBSCRIBED, subscriber=locked)
            return locked
    if locked.status == Status.CONFIRMED:
        return locked
    return subscribe(
        email=locked.email,
        everything=locked.everything,
        tags=list(locked.tags.all()),
        categories=list(locked.categories.all()),
        language=locked.language,
    ).subscriber


# --- bounces and complaints ----------------------------------------------------------

STOPS = {
    "bounced": (Status.BOUNCED, Action.BOUNCED),
    "complained": (Status.COMPLAINED, Action.COMPLAINED),
    "unsubscribed": (Status.UNSUBSCRIBED, Action.UNSUBSCRIBED),
}


def address_stop(*, email: str, kind: str, reason: str = "", message_id: str = "") -> bool:
    """A bounce, a complaint or a provider-side unsubscribe for ``email``: no more mail of
    any kind to it (digests, and comment notices). The delivery it answers, found by its
    message id, is marked bounced (without one, nothing is guessed: the bounce may answer a
    confirmation or a comment notice). Returns whether the address was known."""
    status, action = STOPS[kind]
    email = normalise_email(email)
    with transaction.atomic():
        delivery = None
        if message_id:
            delivery = Delivery.objects.filter(message_id=message_id.strip("<> ")).first()
        subscriber = Subscriber.objects.select_for_update().filter(email=email).first()
        if delivery is not None and kind == "bounced" and delivery.state == State.SENT:
            delivery.state = State.BOUNCED
            delivery.error = reason[:2000]
            delivery.save(update_fields=["state", "error"])
        if subscriber is not None and subscriber.status != status:
            subscriber.status = status
            subscriber.stopped_at = timezone.now()
            subscriber.stop_reason = (reason or kind)[:300]
            subscriber.save(update_fields=["status", "stopped_at", "stop_reason"])
            _record(action, subscriber=subscriber, reason=reason[:1000])
        stopped_notices = comments.notices_stop(email=email)
    return subscriber is not None or stopped_notices > 0


# --- the back office: export, erasure -------------------------------------------------

EXPORT_PERMISSION = "subscriptions.view_subscriber"
ERASE_PERMISSION = "subscriptions.delete_subscriber"


def _require(user, permission: str) -> None:
    if user is None or not user.is_active or not user.has_perm(permission):
        raise PermissionDenied(_("You do not have permission to do this."))


EXPORT_COLUMNS = [
    "email",
    "status",
    "every_digest",
    "tags",
    "categories",
    "language",
    "signed_up",
    "confirmed",
    "stopped",
    "stop_reason",
]


def subscribers_export(*, by, queryset=None) -> list[list[str]]:
    """The subscriber list as rows (a header first), for a CSV file. Audited."""
    _require(by, EXPORT_PERMISSION)
    rows = (queryset if queryset is not None else Subscriber.objects.all()).prefetch_related(
        "tags", "categories"
    )

    def when(moment):
        return moment.isoformat(timespec="seconds") if moment else ""

    table = [EXPORT_COLUMNS]
    for s in rows.order_by("email"):
        table.append(
            [
                s.email,
                s.status,
                "yes" if s.everything else "no",
                " ".join(sorted(t.name for t in s.tags.all())),
                " ".join(sorted(c.code for c in s.categories.all())),
                s.language,
                when(s.created_at),
                when(s.confirmed_at),
                when(s.stopped_at),
                s.stop_reason,
            ]
        )
    count = len(table) - 1
    _record(
        Action.EXPORTED,
        by=by,
        reason=ngettext("%(count)d subscriber exported.", "%(count)d subscribers exported.", count)
        % {"count": count},
    )
    return table


def subscriber_erase(*, email: str, by, reason: str = "") -> int:
    """Erase an address: the subscriber and everything that names it (its records keep no
    address; send reports keep their counts). Returns how many subscribers were erased
    (0 or 1). Audited, without the address."""
    _require(by, ERASE_PERMISSION)
    email = normalise_email(email)
    if not email:
        raise ValidationError(_("Give the subscriber's email address."))
    with transaction.atomic():
        found = Subscriber.objects.select_for_update().filter(email=email)
        count = found.count()
        # Mail servers quote the address in what they answer: that text goes too.
        SubscriptionRecord.objects.filter(subscriber__in=found).update(reason="")
        Delivery.objects.filter(subscriber__in=found).update(error="", message_id="")
        found.delete()
        note = ngettext("%(count)d subscriber erased.", "%(count)d subscribers erased.", count) % {
            "count": count
        }
        _record(Action.ERASED, by=by, reason=f"{note} {reason}".strip())
    return count


# --- sending a digest ----------------------------------------------------------------


def subscribers_for(digest: Digest):
    """Confirmed subscribers who want ``digest``: those of every digest, and those whose
    tags are on the digest or one of its papers, or whose categories are a paper's primary
    or cross-list category."""
    tags = (
        TaggedEntry.objects.filter(content_object__digest=digest)
        .values("tag_id")
        .union(TaggedDigest.objects.filter(content_object=digest).values("tag_id"))
    )
    papers = Paper.objects.filter(entries__digest=digest)
    primary = papers.values("primary_category_id")
    cross = Paper.categories.through.objects.filter(paper__entries__digest=digest).values(
        "category_id"
    )
    wants_tag = Subscriber.tags.through.objects.filter(
        subscriber=OuterRef("pk"), tag_id__in=list(tags.values_list("tag_id", flat=True))
    )
    categories = {*primary.values_list("primary_category_id", flat=True)}
    categories |= set(cross.values_list("category_id", flat=True))
    wants_category = Subscriber.categories.through.objects.filter(
        subscriber=OuterRef("pk"), category_id__in=[c for c in categories if c]
    )
    return Subscriber.objects.filter(status=Status.CONFIRMED).filter(
        Q(everything=True) | Exists(wants_tag) | Exists(wants_category)
    )


def digest_mailing_schedule(*, digest: Digest) -> bool:
    """Called by editorial's publish path, in its transaction, each time a digest is
    published or scheduled: the digest goes to its subscribers at its go-live time (the
    send checks then that it is still live with that time). A back-dated go-live (an old
    issue published now) is not mailed. Returns whether a send was enqueued."""
    go_live = digest.published_at
    if go_live is None or digest.status != Digest.Status.PUBLISHED:
        return False
    if go_live < timezone.now() - datetime.timedelta(hours=conf("BACKDATED_HOURS")):
        return False
    enqueue_on_commit(send_digest, digest.pk, go_live.isoformat(), run_after=go_live)
    return True


def _live(digest_id: int, go_live: datetime.datetime) -> Digest | None:
    """The digest if it is listed now with that go-live time (drafts, working copies,
    unpublished, rescheduled, archived or expired digests are never mailed)."""
    return Digest.objects.listed().filter(pk=digest_id, published_at=go_live).first()


def mailing_prepare(digest: Digest, go_live: datetime.datetime) -> Mailing:
    """The mailing of ``digest`` at ``go_live``, with a delivery for each subscriber who
    wants it and has not had it (made once: later batches find it)."""
    with transaction.atomic():
        mailing, created = Mailing.objects.get_or_create(digest=digest, go_live=go_live)
        if created:
            # An earlier go-live time of this digest, its send cut short: what waited there
            # is this mailing's now (its chain stops, the digest no longer live at its time).
            Delivery.objects.filter(digest=digest, state=State.QUEUED).update(mailing=mailing)
            Mailing.objects.filter(digest=digest, finished_at__isnull=True).exclude(
                pk=mailing.pk
            ).update(finished_at=timezone.now())
            ids = list(subscribers_for(digest).values_list("pk", flat=True))
            Delivery.objects.bulk_create(
                [Delivery(mailing=mailing, digest=digest, subscriber_id=pk) for pk in ids],
                ignore_conflicts=True,  # had this digest already (an earlier go-live time)
                batch_size=500,
            )
            mailing.intended = Delivery.objects.filter(mailing=mailing).count()
            mailing.save(update_fields=["intended"])
    return mailing


@retrying_task(attempts=6, backoff_seconds=60)
def send_digest(digest_id: int, go_live: str) -> str:
    """Send one batch of the digest's mailing, then enqueue the next (worker task)."""
    moment = datetime.datetime.fromisoformat(go_live)
    digest = _live(digest_id, moment)
    if digest is None:
        return "not live with that go-live time: nothing sent"
    mailing = mailing_prepare(digest, moment)
    sent, more = send_batch(mailing)
    if more:
        send_digest.enqueue(digest_id, go_live)
    return f"sent {sent}" + (", more to come" if more else "")


def _settle_interrupted(mailing: Mailing) -> None:
    """Deliveries claimed by a worker that died before recording the outcome: perhaps sent,
    so never sent again; recorded as failed, saying why."""
    cutoff = timezone.now() - datetime.timedelta(seconds=settings.TASKS_ABANDONED_AFTER)
    mailing.deliveries.filter(state=State.SENDING, claimed_at__lte=cutoff).update(
        state=State.FAILED,
        error=_(
            "The worker stopped while sending this mail; it may or may not have left. "
            "It is not sent again, so nobody gets the digest twice."
        ),
    )


def send_batch(mailing: Mailing, *, size: int | None = None) -> tuple[int, bool]:
    """Send up to ``size`` (``SUBSCRIPTIONS_BATCH_SIZE``) waiting deliveries of ``mailing``
    over one connection, at most ``SUBSCRIPTIONS_SEND_PER_SECOND``. Returns (sent, whether
    more wait). A connection failure puts the unsent delivery back and raises (the task is
    tried again later); a refused address fails alone (a permanent refusal stops it)."""
    _settle_interrupted(mailing)
    size = size or conf("BATCH_SIZE")
    batch = list(
        mailing.deliveries.filter(state=State.QUEUED)
        .select_related("subscriber")
        .order_by("id")[:size]
    )
    if not batch:
        _finish(mailing)
        return 0, False
    digest = mail.digest_with_content(mailing.digest_id)
    rendered: dict[str, mail.DigestMail] = {}
    rate = conf("SEND_PER_SECOND")
    started = time.monotonic()
    sent = 0
    connection = get_connection()
    try:
        for delivery in batch:
            subscriber = delivery.subscriber
            if subscriber is None or subscriber.status != Status.CONFIRMED:
                Delivery.objects.filter(pk=delivery.pk, state=State.QUEUED).update(
                    state=State.SKIPPED
                )
                continue
            if rate > 0:  # paced before the claim: a claimed delivery is one being sent
                wait = started + sent / rate - time.monotonic()
                if wait > 0:
                    sleep(wait)
            fresh = Subscriber.objects.filter(pk=subscriber.pk, status=Status.CONFIRMED)
            claimed = Delivery.objects.filter(pk=delivery.pk, state=State.QUEUED).filter(
                Exists(fresh)  # unsubscribed or bounced since the batch was read: skipped
            )
            if not claimed.update(state=State.SENDING, claimed_at=timezone.now()):
                Delivery.objects.filter(pk=delivery.pk, state=State.QUEUED).update(
                    state=State.SKIPPED
                )
                continue
            language = subscriber.language or settings.LANGUAGE_CODE
            if language not in rendered:
                rendered[language] = mail.render_digest_mail(digest, language=language)
            message = rendered[language].message(
                to=subscriber.email, connection=connection, **links(subscriber)
            )
            try:
                message.send()
            except REFUSALS as exc:
                _refused(delivery, subscriber, exc)
                continue
            except Exception:
                # Not accepted (the server is down, or hung up): this mail did not leave.
                Delivery.objects.filter(pk=delivery.pk).update(state=State.QUEUED, claimed_at=None)
                raise
            status = getattr(message, "anymail_status", None)
            message_id = (
                getattr(status, "message_id", None) or message.extra_headers.get("Message-ID", "")
            ).strip("<>")
            Delivery.objects.filter(pk=delivery.pk).update(
                state=State.SENT, sent_at=timezone.now(), message_id=str(message_id)[:250]
            )
            sent += 1
    finally:
        connection.close()
    more = mailing.deliveries.filter(state=State.QUEUED).exists()
    if not more:
        _finish(mailing)
    return sent, more


# What refuses one recipient, not the connection: SMTP's answer to RCPT or to the message,
# or a provider's (a suppressed or invalid address). Anything else is retried later.
REFUSALS = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPDataError,
    AnymailRecipientsRefused,
    AnymailInvalidAddress,
)


def _refused(delivery: Delivery, subscriber: Subscriber, exc: Exception):
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (0, b""))
    elif isinstance(exc, smtplib.SMTPDataError):
        code, text = exc.smtp_code, exc.smtp_error
    else:  # the provider will not deliver to it (anymail): as permanent as a 5xx
        code, text = 550, str(exc)
    reason = f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
    Delivery.objects.filter(pk=delivery.pk).update(state=State.FAILED, error=reason[:2000])
    if 500 <= int(code or 0) < 600:  # a permanent refusal: a bounce at the door
        address_stop(email=subscriber.email, kind="bounced", reason=reason)
        Delivery.objects.filter(pk=delivery.pk).update(state=State.BOUNCED)


def _finish(mailing: Mailing) -> None:
    if not mailing.deliveries.filter(state__in=[State.QUEUED, State.SENDING]).exists():
        Mailing.objects.filter(pk=mailing.pk, finished_at__isnull=True).update(
            finished_at=timezone.now()
        )


def mailing_report(mailings) -> dict[int, dict[str, int]]:
    """Counts of deliveries by state for each mailing: {mailing id: {state: n}}."""
    counts: dict[int, dict[str, int]] = {m.pk: dict.fromkeys(State.values, 0) for m in mailings}
    rows = (
        Delivery.objects.filter(mailing__in=list(counts))
        .values("mailing_id", "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        counts[row["mailing_id"]][row["state"]] = row["n"]
    return counts


# --- editors: preview and test -------------------------------------------------------

PREVIEW_PERMISSION = "papers.view_digest"
TEST_PERMISSION = "papers.change_digest"


def preview_links() -> dict[str, str]:
    """Links that stand in for a subscriber's own in previews and tests: the sign-up page."""
    url = settings.SITE_URL + reverse("subscriptions:subscribe")
    return {"manage_url": url, "unsubscribe_url": url}


def digest_mail_preview(*, digest: Digest, by, language: str = "") -> mail.DigestMail:
    """The mail subscribers would get for ``digest`` (drafts too: editors check it before
    publishing), with the sign-up page for their own links."""
    _require(by, PREVIEW_PERMISSION)
    if not by.is_staff:
        raise PermissionDenied(_("You do not have permission to do this."))
    rendered = mail.render_digest_mail(
        mail.digest_with_content(digest.pk), language=language or settings.LANGUAGE_CODE
    )
    text, html = rendered.personal(**preview_links())
    return mail.DigestMail(subject=rendered.subject, text=text, html=html)


def digest_mail_test(*, digest: Digest, by) -> str:
    """Send the digest's mail to the editor's own address, through the worker; returns the
    address. Only to themselves: no other address can be given."""
    _require(by, TEST_PERMISSION)
    if not by.is_staff:
        raise PermissionDenied(_("You do not have permission to do this."))
    address = (by.email or "").strip()
    if not address:
        raise ValidationError(
            _("Your account has no email address: add one to your account first.")
        )
    preview = digest_mail_preview(digest=digest, by=by)
    subject = _("[Test] %(subject)s") % {"subject": preview.subject}
    with transaction.atomic():
        queue_mail(
            subject=subject,
            body=preview.text,
            html=preview.html,
            to=[address],
            headers={"List-Id": mail.list_id()},
        )
        _record(
            Action.TEST_SENT,
            by=by,
            reason=_("Test of “%(title)s” (%(date)s) sent to the editor's own address.")
            % {"title": digest.title, "date": digest.issue_date.isoformat()},
        )
    return address


def category_choices():
    return Category.objects.order_by("code")
