"""Issue 18: an item without an arXiv id (a news item of a mixed daily) is a Paper known by
its link. The database keeps the rules (an arXiv id or a source link; one item per link),
and migration 0021 brings the old rows over untouched, on SQLite and PostgreSQL."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from papers.models import Paper
from tests import factories

BEFORE = [("papers", "0020_digest_working_copy")]
AFTER = [("papers", "0021_paper_source_url")]
NEWS = "https://openai.com/blog/new-models-and-developer-products-announced-at-devday"


@pytest.mark.django_db
def test_a_paper_needs_an_arxiv_id_or_a_source_link():
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.paper(arxiv_id=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.paper(arxiv_id="")  # stored as NULL, so the same refusal
    item = factories.paper(arxiv_id="", source_url=NEWS, authors="")
    item.refresh_from_db()
    assert item.arxiv_id is None and item.is_link_sourced
    assert item.url_key == f"link-{item.pk}" and item.source_label == "openai.com"
    assert item.abs_url == "" and item.source_link == NEWS
    item.full_clean()  # no authors needed for an item not on arXiv


@pytest.mark.django_db
def test_link_sourced_items_are_unique_by_link_and_arxiv_papers_by_id():
    factories.paper(arxiv_id=None, source_url=NEWS)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.paper(arxiv_id=None, source_url=NEWS)
    # Many papers without an id may coexist (NULL is not a duplicate), each with its link.
    factories.paper(arxiv_id=None, source_url=NEWS + "?second")
    # An arXiv paper may name the same page as its source: the id identifies it.
    factories.paper(arxiv_id="2001.08361", source_url=NEWS)
    assert Paper.objects.filter(arxiv_id__isnull=True).count() == 2


@pytest.mark.django_db
def test_the_form_validation_says_what_is_missing(english):
    item = Paper(title="t", authors="", primary_category=factories.category())
    with pytest.raises(ValidationError) as refused:
        item.full_clean()
    assert "source link" in str(refused.value)
    factories.paper(arxiv_id=None, source_url=NEWS)
    twin = Paper(title="t", source_url=NEWS, primary_category=factories.category())
    with pytest.raises(ValidationError, match="exists already"):
        twin.full_clean()


@pytest.mark.django_db(transaction=True)
def test_migration_0021_keeps_old_papers_and_allows_link_sourced_ones():
    try:
        _migrate_there_and_back()
    finally:  # whatever happened, the next tests find the schema of today
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


def _migrate_there_and_back():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    # An earlier transactional test's flush may have emptied the categories' reference rows.
    category = old.get_model("papers", "Category").objects.get_or_create(
        code="cs.LG", defaults={"name": "Machine Learning"}
    )[0]
    OldPaper = old.get_model("papers", "Paper")
    OldPaper.objects.create(
        arxiv_id="2001.08361", title="Scaling Laws", authors="J Kaplan", primary_category=category
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = MigrationExecutor(connection).loader.project_state(AFTER).apps
    NewPaper = new.get_model("papers", "Paper")
    kept = NewPaper.objects.get()
    assert (kept.arxiv_id, kept.title, kept.source_url) == ("2001.08361", "Scaling Laws", "")
    NewPaper.objects.create(title="新闻", source_url=NEWS, primary_category_id=category.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        NewPaper.objects.create(title="重复", source_url=NEWS, primary_category_id=category.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        NewPaper.objects.create(title="无源", primary_category_id=category.pk)
    # Back to 0020 is possible once no item lacks an arXiv id.
    NewPaper.objects.filter(arxiv_id__isnull=True).delete()
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
