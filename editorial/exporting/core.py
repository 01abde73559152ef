"""What every export shares: the formats, who may export what, the digest loaded once with
everything the formats show, the site's address, and the result handed to the admin and the
command."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from papers.models import Digest, Entry
from reading import api

# name -> (label, file suffix, content type)
FORMATS = {
    "wechat": (gettext_lazy("WeChat Official Account (HTML)"), "wechat.html", "text/html"),
    "zhihu": (gettext_lazy("Zhihu (Markdown)"), "zhihu.md", "text/markdown"),
    "markdown": (gettext_lazy("Markdown (the site's layout)"), "md", "text/markdown"),
    "json": (gettext_lazy("JSON (the API's shape)"), "json", "application/json"),
}

VIEW_PERMISSION = "papers.view_digest"
CHANGE_PERMISSION = "papers.change_digest"


class ExportError(Exception):
    """An export that cannot be made (unknown digest or format, no site address), with a
    message for the editor or the operator."""


@dataclass
class Export:
    """One digest in one format: the text to paste or save, and what the editor must know."""

    digest: Digest
    format: str
    text: str
    warnings: list[str] = field(default_factory=list)
    # WeChat: the plain-text rendition put on the clipboard beside the HTML, and the length
    # of the text the WeChat editor counts.
    plain_text: str = ""
    text_length: int | None = None

    @property
    def content_type(self) -> str:
        return f"{FORMATS[self.format][2]}; charset=utf-8"

    @property
    def filename(self) -> str:
        return f"{self.digest.issue_date:%Y-%m-%d}-{self.digest.slug}.{FORMATS[self.format][1]}"


# --- who may export what ------------------------------------------------------------------


def can_export(user, digest: Digest) -> bool:
    """Editorial staff (staff who may view digests in the admin) export what readers can read
    now; a digest readers cannot read (a draft, one in review, scheduled or expired) leaves the
    back office only through staff who may also change digests (authors and editors)."""
    if not (user and user.is_active and user.is_staff and user.has_perm(VIEW_PERMISSION)):
        return False
    return digest.is_published or user.has_perm(CHANGE_PERMISSION)


def require_export_permission(user, digest: Digest) -> None:
    if not can_export(user, digest):
        if digest.is_published or user is None:
            raise PermissionDenied(_("You may not export digests."))
        raise PermissionDenied(
            _(
                "“%(digest)s” is not on the site (it is %(state)s): only staff who may change "
                "digests can export it."
            )
            % {"digest": digest, "state": state_label(digest)}
        )


def state_label(digest: Digest) -> str:
    if digest.is_scheduled:
        return _("scheduled")
    if digest.status in Digest.READABLE_STATES and not digest.is_published:
        return _("expired")
    return str(digest.get_status_display()).lower()


# --- the digest and the site's address ------------------------------------------------------


def load_digest(pk: int) -> Digest | None:
    """The digest with everything any format shows, in a fixed number of queries: its tags,
    and its entries in order with paper, categories, tags, sections (with kinds) and
    figures (the API's own prefetch, so the JSON is the API's)."""
    entries = api.with_detail(Entry.objects.all())
    return (
        Digest.objects.filter(pk=pk)
        .prefetch_related("tags", Prefetch("entries", queryset=entries, to_attr="export_entries"))
        .first()
    )


def find_digest(reference: str) -> Digest:
    """A digest by id (``42``), by issue date when one digest has it (``2025-09-30``), or by
    date and slug (``2025-09-30/ai-frontier-2025-09-30``)."""
    reference = reference.strip()
    if reference.isdigit():
        found = Digest.objects.filter(pk=int(reference)).first()
        if found is None:
            raise ExportError(_("No digest with id %(id)s.") % {"id": reference})
        return found
    date_text, _slash, slug = reference.partition("/")
    try:
        date = datetime.date.fromisoformat(date_text)
    except ValueError:
        raise ExportError(
            _(
                "“%(ref)s” names no digest: give its id (42), its issue date (2025-09-30) or "
                "its date and slug (2025-09-30/ai-frontier-2025-09-30)."
            )
            % {"ref": reference}
        ) from None
    digests = Digest.objects.originals().filter(issue_date=date)
    if slug:
        digests = digests.filter(slug=slug)
    found = list(digests.order_by("id")[:10])
    if not found:
        raise ExportError(_("No digest of %(ref)s.") % {"ref": reference})
    if len(found) > 1:
        raise ExportError(
            _("%(date)s has several digests; add the slug: %(choices)s")
            % {
                "date": date.isoformat(),
                "choices": ", ".join(f"{date.isoformat()}/{d.slug}" for d in found),
            }
        )
    return found[0]


class SiteAddress:
    """Makes a site path absolute against the site's public address, as a request's
    ``build_absolute_uri`` does against the address it came to (the API's serialisation
    takes either)."""

    def __init__(self, base: str):
        base = (base or "").strip().rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ExportError(
                _(
                    "The site's address “%(url)s” is not an http(s) address such as "
                    "https://digest.example.com (set SITE_URL)."
                )
                % {"url": base}
            )
        self.base = base + "/"

    def build_absolute_uri(self, location: str) -> str:
        return urljoin(self.base, location)

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base)
        return f"{parts.scheme}://{parts.netloc}"


def site_address(override: str = "") -> SiteAddress:
    """``override`` (the command's --site-url), else ``SITE_URL``."""
    return SiteAddress(override or settings.SITE_URL)
