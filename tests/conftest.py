import pytest
from django.core.cache import caches
from django.db import connections
from django.test.client import Client


def run_commit_hooks() -> None:
    """Run the on-commit callbacks waiting in the test's transaction, as the commit of the
    work before them would have (unless a transaction the test opened itself is still
    open: those wait for it, or vanish with its rollback). Callbacks that callbacks
    register run too: after a real commit they would run at once (a task of the immediate
    backend announcing what it wrote: reading/related.py)."""
    for connection in connections.all(initialized_only=True):
        if not all(block._from_testcase for block in connection.atomic_blocks):
            continue
        while connection.run_on_commit:
            hooks, connection.run_on_commit = connection.run_on_commit, []
            for _savepoints, hook, _robust in hooks:
                hook()


@pytest.fixture(autouse=True)
def _requests_start_after_a_commit(monkeypatch):
    """Each test runs in one transaction that never commits, but on a real server every
    request starts after the previous one's work committed: each request of the test client
    first runs the waiting on-commit callbacks (content_changed: papers/changes.py)."""
    request = Client.request

    def committed_request(self, **kwargs):
        run_commit_hooks()
        return request(self, **kwargs)

    monkeypatch.setattr(Client, "request", committed_request)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (site settings and readership counters are
    cached)."""
    for alias in caches:
        caches[alias].clear()
    yield
    for alias in caches:
        caches[alias].clear()


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


@pytest.fixture
def axes_on(settings):
    """django-axes on (the test settings leave it off), locking at the third failure."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
