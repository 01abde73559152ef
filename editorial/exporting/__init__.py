"""Export of a digest for republishing: WeChat Official Account HTML, Zhihu Markdown,
Markdown in the site's layout (which editorial/importing/ reads back) and JSON in the API's
shape.

``export_digest`` loads the digest once with everything the formats show, checks who may
export it, and renders one format (``formats``) from templates/editorial/export/. The
digest's admin page (``admin.DigestExportMixin``) and ``manage.py export_digest`` both go
through it. Exports only read: nothing is written, nothing announced.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from editorial.exporting.core import (
    FORMATS,
    Export,
    ExportError,
    SiteAddress,
    can_export,
    find_digest,
    load_digest,
    require_export_permission,
    site_address,
    state_label,
)
from editorial.exporting.formats import WECHAT_COLUMN_PX, WECHAT_MAX_TEXT, render


def export_digest(*, digest_id: int, fmt: str, address: SiteAddress, by=None) -> Export:
    """Digest ``digest_id`` in format ``fmt``, its images and links absolute against
    ``address``. ``by``: the editor asking (the admin), checked by ``can_export``; None is
    the operator at the command line, who exports without an account only what readers can
    read now."""
    digest = load_digest(digest_id)
    if digest is None:
        raise ExportError(_("No digest with id %(id)s.") % {"id": digest_id})
    if by is not None:
        require_export_permission(by, digest)
    elif not digest.is_published:
        raise PermissionDenied(
            _("“%(digest)s” is not on the site (it is %(state)s).")
            % {"digest": digest, "state": state_label(digest)}
        )
    return render(digest, fmt, address)


__all__ = [
    "FORMATS",
    "WECHAT_COLUMN_PX",
    "WECHAT_MAX_TEXT",
    "Export",
    "ExportError",
    "SiteAddress",
    "can_export",
    "export_digest",
    "find_digest",
    "site_address",
]
