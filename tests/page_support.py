"""Rendering a public page afresh in tests, and telling which queries it ran."""

from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext


def render_afresh(url: str, ran) -> tuple[str, bool]:
    """A new reader's HTML of ``url`` rendered by its view (the page cache off), and
    whether any of its queries matched ``ran`` (a test on the SQL)."""
    with override_settings(PAGE_CACHE_ENABLED=False):
        with CaptureQueriesContext(connection) as captured:
            html = Client().get(url).content.decode()
    return html, any(ran(query["sql"]) for query in captured)
