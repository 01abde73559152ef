"""The client's address for django-axes' login lockout (AXES_CLIENT_IP_CALLABLE)."""

from comments.services import client_ip as visitor_address


def client_ip(request) -> str | None:
    """The address every part of the site reads (``comments.services.client_ip``:
    ``TRUSTED_PROXY_COUNT`` proxies trusted, forged X-Forwarded-For entries ignored), or
    None when there is no socket address (a login made in code): the lockout records store
    addresses in an inet column on PostgreSQL, which refuses anything but an address."""
    return visitor_address(request) if request.META.get("REMOTE_ADDR") else None
