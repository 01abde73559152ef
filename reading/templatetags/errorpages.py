"""Tags for the standalone error pages (400, 500, 503)."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def unhashed_static(path: str) -> str:
    """The static file's unhashed URL (whitenoise serves it too). Error pages must render
    even when the static manifest is missing or broken, which ``{% static %}`` cannot."""
    return settings.STATIC_URL + path
