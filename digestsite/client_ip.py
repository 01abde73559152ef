"""The client's address, as far as our own proxies vouch for it."""

from django.conf import settings


def client_ip(request) -> str | None:
    """With ``TRUSTED_PROXY_COUNT`` proxies in front, the client is the address the outermost
    of them saw: the N-th entry from the right of X-Forwarded-For. Entries further left were
    written by the client and are ignored, so a forged header cannot dodge a lockout."""
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= count:
            return hops[-count]
    # None when there is no socket address (a login made in code): the lockout records store
    # addresses in an inet column on PostgreSQL, which refuses anything but an address.
    return request.META.get("REMOTE_ADDR") or None
