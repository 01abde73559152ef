import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (site settings are cached), and with no view
    counters remembered by this process (papers/viewcounts.py: ``flush_pending``)."""
    import time

    from papers import viewcounts

    cache.clear()
    viewcounts._pending.clear()
    viewcounts._last_flush[0] = time.monotonic()
    yield
    cache.clear()


@pytest.fixture
def fake_arxiv(settings):
    """A local arXiv API (tests/arxiv_server.py); settings point the client at it."""
    from tests.arxiv_server import FakeArxiv

    server = FakeArxiv()
    settings.ARXIV_API_URL = server.url
    yield server
    server.close()


@pytest.fixture
def english():
    """Messages in English (the site's default is Chinese), for tests that read them."""
    from django.utils import translation

    with translation.override("en"):
        yield
