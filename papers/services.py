"""Writes that change important state. Each checks permission on the server, runs in a
transaction, and is the only place that transition is implemented: admin actions, views,
commands and tests all call these functions."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Digest, Entry

PUBLISH_PERMISSION = "papers.publish_digest"


def _require(user, permission: str) -> None:
    if user is None or not user.has_perm(permission):
        raise PermissionDenied(_("You do not have permission to do this."))


require_permission = _require  # for services in other modules (importing, arXiv)


def digest_publish(*, digest: Digest, by, at=None) -> Digest:
    """Publish ``digest`` at ``at`` (default: its scheduled go-live time if it has one,
    else now). A future time schedules it; readers see it from then on."""
    _require(by, PUBLISH_PERMISSION)
    with transaction.atomic():
        locked = Digest.objects.select_for_update().get(pk=digest.pk)
        if not locked.entries.exists():
            raise ValidationError(_("Add at least one paper before publishing this digest."))
        locked.published_at = at or locked.published_at or timezone.now()
        if locked.expires_at and locked.expires_at <= locked.published_at:
            raise ValidationError(_("The expiry time must come after the go-live time."))
        locked.status = Digest.Status.PUBLISHED
        locked.save(update_fields=["status", "published_at", "updated_at"])
    return locked


def digest_unpublish(*, digest: Digest, by) -> Digest:
    """Take ``digest`` off the site: it goes back to draft (its go-live time is kept, so a
    later publish restores the original date)."""
    _require(by, PUBLISH_PERMISSION)
    with transaction.atomic():
        locked = Digest.objects.select_for_update().get(pk=digest.pk)
        locked.status = Digest.Status.DRAFT
        locked.save(update_fields=["status", "updated_at"])
    return locked


# Positions are unique per digest, so a reorder (1<->2) saved row by row would collide
# half-way. Changed rows first move out of the way by this offset (PositiveSmallIntegerField
# holds up to 32767), then take their new positions.
_POSITION_PARKING_OFFSET = 16000


def entries_park_positions(entry_ids) -> None:
    """Move entries whose positions are about to change out of the way, in the current
    transaction (see the admin's entry inline)."""
    if entry_ids:
        Entry.objects.filter(pk__in=list(entry_ids)).update(
            position=F("position") + _POSITION_PARKING_OFFSET
        )
