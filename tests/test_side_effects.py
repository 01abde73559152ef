"""Side effects are proportional: a preview writes nothing anyone else sees, a publish
announces one change, and neither costs more queries than its few rows need."""

from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from editorial import services
from editorial.importing import parse_digest, plan_import, write_digest
from pagecache import store as pages
from papers.models import Digest
from tests import factories

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "digest-2025-09-30.txt"
CACHE_WRITES = ("set", "set_many", "add", "delete", "delete_many", "incr", "clear", "touch")

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_writes(monkeypatch):
    """Every write to every configured cache, as (alias, method) pairs."""
    writes = []
    for alias in caches:
        cache = caches[alias]
        for name in CACHE_WRITES:
            real = getattr(cache, name)

            def spy(*args, _real=real, _entry=(alias, name), **kwargs):
                writes.append(_entry)
                return _real(*args, **kwargs)

            monkeypatch.setattr(cache, name, spy)
    return writes


@pytest.fixture
def seed():
    if not SEED.is_file():
        pytest.skip(f"the shared seed page {SEED} is absent (it sits beside the clone)")
    return parse_digest(SEED.read_text())


def test_the_import_preview_of_the_seed_only_reads_in_3_queries_and_writes_no_cache(
    seed, cache_writes, django_capture_on_commit_callbacks
):
    generation = pages.generation()
    cache_writes.clear()  # the generation's first reader made it
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True) as announced,
    ):
        plan = plan_import(seed)
    assert len(plan.entries) == 5 and plan.digest.pk is None
    assert not Digest.objects.exists()
    # The digest of that date, the known papers, the categories: nothing else, no write,
    # no savepoint (nothing to roll back).
    assert len(queries) <= 3, [q["sql"] for q in queries]
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries)
    assert announced == [] and cache_writes == []
    assert pages.generation() == generation  # every reader's cached page is still good


def test_publishing_the_seed_costs_at_most_25_queries_and_one_invalidation(
    seed, django_capture_on_commit_callbacks
):
    digest = write_digest(seed).digest
    boss = factories.user("boss", superuser=True)
    generation = pages.generation()
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks() as announced,
    ):
        services.digest_publish(digest=digest, by=boss)
    assert len(queries) <= 25, len(queries)
    # After the commit: one change announced, the subscribers' send enqueued for the
    # go-live time (subscriptions.services.digest_mailing_schedule), and the related papers'
    # refresh (reading/related.py, following the change).
    kinds = {callback.__qualname__.split(".")[0]: callback for callback in announced}
    names = sorted(callback.__qualname__.split(".")[0] for callback in announced)
    # The related refresh is enqueued once per transaction, however many changes ask for it.
    assert names == ["content_changed", "enqueue_on_commit", "enqueue_once_on_commit"]
    assert pages.generation() == generation
    kinds["content_changed"]()
    assert pages.generation() != generation


def test_a_change_that_is_rolled_back_announces_nothing(django_capture_on_commit_callbacks):
    from django.db import transaction

    digest = factories.digest(entries=1, status="draft")
    boss = factories.user("boss", superuser=True)
    with django_capture_on_commit_callbacks() as announced:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.digest_publish(digest=digest, by=boss)
            raise RuntimeError("the editor's request failed after the publish")
    assert announced == []
