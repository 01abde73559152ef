"""The import page's preview of the largest paste it accepts answers from the parser and a
fixed number of read queries: no row written, no savepoint to roll back, as many queries for
1,500 papers as for two. (Its time is measured by `make bench`: docs/performance.md.)"""

import re

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from editorial.management.commands.bench_import import large_paste
from papers.models import Paper
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

URL = "/admin/papers/digest/import/"
WRITES = re.compile(r"^\s*(?:INSERT|UPDATE|DELETE|REPLACE|SAVEPOINT|RELEASE|ROLLBACK)\b", re.I)
# A logged-in editor's preview: the session, the user, the user's own and group permissions,
# the SectionKind table (the parser), then the plan: the digest of that date, the known
# papers, the categories.
PREVIEW_QUERIES = 8


@pytest.fixture
def client():
    editor = factories.user(
        "editor",
        staff=True,
        perms=["papers.add_digest", "papers.change_digest", "papers.view_digest"],
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    client.get(URL)
    return client


def _rows() -> dict[str, int]:
    """The number of rows of every model whose table exists."""
    tables = set(connection.introspection.table_names())
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if model._meta.db_table in tables
    }


def _preview(client, text):
    data = {
        "text": text,
        "format": "auto",
        "_preview": "1",
        "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
    }
    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, data, HTTP_ACCEPT_LANGUAGE="en")
    return response, [query["sql"] for query in queries]


def test_a_1500_paper_paste_near_the_limit_previews_in_the_reads_of_a_two_paper_one(client):
    text = large_paste(1500)
    assert 0.8 * settings.IMPORT_MAX_BYTES < len(text.encode()) <= settings.IMPORT_MAX_BYTES
    # Known papers among them: one to reuse as it is, one whose empty abstract it fills.
    factories.paper(arxiv_id="3001.00001", title="Edited Title")
    factories.paper(arxiv_id="3001.00002", abstract="")
    small_response, small_statements = _preview(client, large_paste(2))
    assert small_response.context["plan"] is not None
    before = _rows()

    response, statements = _preview(client, text)

    assert response.status_code == 200
    assert len(statements) == len(small_statements) <= PREVIEW_QUERIES, statements
    assert not [sql for sql in statements + small_statements if WRITES.match(sql)]
    assert _rows() == before
    plan = response.context["plan"]
    page = response.content.decode()
    assert "What was recognised" in page and 'name="_create"' in page
    # Paper numbers have at most three digits: the papers after 999 are read as more text of
    # paper 999, each of their headings a warning the preview lists.
    assert len(plan.entries) == 999
    assert "999 papers" in page and "Benchmark Paper 0-999:" in page
    assert plan.created_papers[:2] == ["3001.00003", "3001.00004"]
    assert plan.reused_papers == ["3001.00001", "3001.00002"]
    assert plan.filled_papers == ["3001.00002"]
    assert "997 new papers" in page and "2 already known" in page
    assert "A second “要点” heading in the paper of line" in page
    assert Paper.objects.get(arxiv_id="3001.00002").abstract == ""
