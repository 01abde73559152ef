"""The arXiv client and the store, against a local server replaying recorded responses."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from editorial.arxiv_client import ArxivClient, ArxivError, parse_feed
from editorial.arxiv_sync import store_records
from papers.models import Category, Paper
from tests import factories
from tests.arxiv_server import Reply, entry_xml, feed_xml, recorded

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _fetch(*ids, **kwargs):
    return ArxivClient(**kwargs).fetch(ids)


def test_both_id_schemes_and_versioned_ids_come_back_versionless(fake_arxiv):
    fake_arxiv.add(Reply(recorded("two-papers.xml")))
    records = _fetch("https://arxiv.org/abs/2509.22445v2", "hep-th/9901001")
    assert set(records) == {"2509.22445", "hep-th/9901001"}
    assert records["2509.22445"].version == 2
    assert fake_arxiv.requests[0]["ids"] == ["2509.22445", "hep-th/9901001"]


def test_a_record_carries_every_field_normalised(fake_arxiv):
    fake_arxiv.add(Reply(recorded("two-papers.xml")))
    record = _fetch("2509.22445", "hep-th/9901001")["2509.22445"]
    assert record.title == (
        "Bridging Kolmogorov Complexity and Deep Learning: Asymptotically Optimal Description "
        "Length Objectives for Transformers"
    )
    assert record.authors == ["Peter Shaw", "James Cohan", "Jacob Eisenstein", "Kristina Toutanova"]
    assert record.affiliations == ["Google DeepMind", "Google Research"]
    assert record.abstract == (
        "The Minimum Description Length (MDL) principle offers a formal framework for applying "
        "Occam’s razor in machine learning. Objectives with <strong> guarantees & bounds."
    )
    assert (record.primary_category, record.categories) == ("cs.LG", ["cs.AI", "cs.IT"])
    assert (record.published_on, record.updated_on) == ("2025-09-26", "2025-09-29")
    assert record.comment == "9 pages, 4 figures"
    assert record.journal_ref == "Proceedings of Examples 2025"
    assert record.doi == "10.48550/arXiv.2509.22445"
    assert record.abs_url == "http://arxiv.org/abs/2509.22445v2"
    assert record.pdf_url == "http://arxiv.org/pdf/2509.22445v2"


def test_requests_name_the_site_in_their_user_agent(fake_arxiv):
    fake_arxiv.add(Reply(recorded("two-papers.xml")))
    _fetch("2509.22445", "hep-th/9901001")
    assert "PaperDigestCMS" in fake_arxiv.requests[0]["user_agent"]


def test_ids_go_in_batches_of_fifty(fake_arxiv):
    fake_arxiv.fallback = lambda ids: Reply(feed_xml("".join(entry_xml(i) for i in ids)))
    ids = [f"2509.{n:05d}" for n in range(10001, 10121)]
    records = _fetch(*ids)
    assert len(records) == 120
    assert [len(r["ids"]) for r in fake_arxiv.requests] == [50, 50, 20]


def test_requests_are_spaced_by_the_minimum_interval(fake_arxiv):
    fake_arxiv.fallback = lambda ids: Reply(feed_xml("".join(entry_xml(i) for i in ids)))
    waits = []
    client = ArxivClient(min_interval=3, sleep=waits.append)
    client.fetch([f"2509.{n:05d}" for n in range(10001, 10101)])
    assert len(fake_arxiv.requests) == 2
    assert waits and 2.5 < waits[-1] <= 3


def test_an_unknown_id_is_an_error(fake_arxiv):
    fake_arxiv.add(Reply(recorded("empty.xml")))
    with pytest.raises(ArxivError, match="no paper 2509.99999"):
        _fetch("2509.99999")


def test_an_error_entry_is_reported_with_arxivs_message(fake_arxiv):
    fake_arxiv.add(Reply(recorded("error.xml")))
    with pytest.raises(ArxivError, match="incorrect id format"):
        _fetch("2509.12345")


def test_an_html_block_page_is_not_mistaken_for_data(fake_arxiv):
    fake_arxiv.add(Reply(recorded("block-page.html"), content_type="text/html"))
    with pytest.raises(ArxivError, match="web page instead of data"):
        _fetch("2509.22445")


def test_truncated_xml_is_reported(fake_arxiv):
    body = recorded("two-papers.xml")
    fake_arxiv.add(Reply(body[: len(body) // 2]))
    with pytest.raises(ArxivError, match="cut off"):
        _fetch("2509.22445")


def test_a_429_is_retried_after_a_backoff_and_then_succeeds(fake_arxiv):
    fake_arxiv.add(
        Reply(b"Too many requests", status=429, content_type="text/plain"),
        Reply(recorded("two-papers.xml")),
    )
    waits = []
    records = ArxivClient(sleep=waits.append, min_interval=0).fetch(["2509.22445"])
    assert "2509.22445" in records
    assert len(fake_arxiv.requests) == 2
    assert waits == [pytest.approx(0.01)]


def test_retry_after_from_the_server_is_honoured(fake_arxiv):
    fake_arxiv.add(
        Reply(b"", status=503, content_type="text/plain", headers={"Retry-After": "7"}),
        Reply(recorded("two-papers.xml")),
    )
    waits = []
    ArxivClient(sleep=waits.append, min_interval=0).fetch(["2509.22445"])
    assert waits == [7.0]


def test_repeated_503s_give_up_with_a_clear_message(fake_arxiv):
    fake_arxiv.fallback = lambda ids: Reply(b"", status=503, content_type="text/plain")
    with pytest.raises(ArxivError, match=r"busy \(HTTP 503\).*after 3 attempts"):
        ArxivClient(max_retries=2, sleep=lambda s: None).fetch(["2509.22445"])


def test_a_timeout_is_reported(fake_arxiv):
    fake_arxiv.add(Reply(recorded("two-papers.xml"), delay=1))
    with pytest.raises(ArxivError, match="did not answer within 0.2 seconds"):
        ArxivClient(timeout=0.2, max_retries=0).fetch(["2509.22445"])


def test_a_refused_connection_is_retried_then_reported(settings):
    settings.ARXIV_API_URL = "http://127.0.0.1:9/api/query"
    with pytest.raises(ArxivError, match="Could not reach arXiv.*after 2 attempts"):
        ArxivClient(max_retries=1, sleep=lambda s: None).fetch(["2509.22445"])


def test_an_invalid_id_is_refused_before_any_request(fake_arxiv):
    with pytest.raises(ArxivError, match="not an arXiv identifier"):
        _fetch("not-an-id")
    assert fake_arxiv.requests == []


# -- storing -----------------------------------------------------------------------------


def _records():
    return parse_feed(recorded("two-papers.xml"))


def test_storing_creates_papers_with_categories_and_a_snapshot():
    result = store_records(_records())
    assert sorted(result.created) == ["2509.22445", "hep-th/9901001"]
    paper = Paper.objects.get(arxiv_id="2509.22445")
    assert paper.author_list[0] == "Peter Shaw" and len(paper.author_list) == 4
    assert paper.affiliation_list == ["Google DeepMind", "Google Research"]
    assert paper.primary_category.code == "cs.LG"
    assert sorted(c.code for c in paper.categories.all()) == ["cs.AI", "cs.IT"]
    assert paper.published_on.isoformat() == "2025-09-26"
    assert paper.doi == "10.48550/arXiv.2509.22445"
    assert paper.arxiv_snapshot["title"] == paper.title and paper.arxiv_fetched_at
    assert Category.objects.get(code="hep-th").name == "hep-th"


def test_a_refresh_keeps_editor_corrections_and_reports_them():
    store_records(_records())
    Paper.objects.filter(arxiv_id="2509.22445").update(title="Corrected by an editor")
    record = _records()[0]
    record.comment = "10 pages, accepted"
    result = store_records([record])
    paper = Paper.objects.get(arxiv_id="2509.22445")
    assert paper.title == "Corrected by an editor"
    assert paper.comment == "10 pages, accepted"  # untouched by the editor: refreshed
    assert result.conflicts["2509.22445"]["title"][0] == "Corrected by an editor"
    assert result.updated == ["2509.22445"]


def test_overwrite_replaces_editor_corrections():
    store_records(_records())
    Paper.objects.filter(arxiv_id="2509.22445").update(title="Corrected by an editor")
    result = store_records(_records()[:1], overwrite=True)
    assert Paper.objects.get(arxiv_id="2509.22445").title.startswith("Bridging")
    assert result.conflicts == {}


def test_a_refresh_fills_empty_fields_of_an_imported_paper_and_keeps_typed_ones():
    factories.paper(arxiv_id="2509.22445", title="Bridging", authors="P Shaw", abstract="")
    result = store_records(_records()[:1])
    paper = Paper.objects.get(arxiv_id="2509.22445")
    assert paper.abstract.startswith("The Minimum Description Length")
    assert paper.authors == "P Shaw"
    assert set(result.conflicts["2509.22445"]) >= {"title", "authors"}


# -- the command ---------------------------------------------------------------------------


def _command(*args):
    out = StringIO()
    call_command("fetch_arxiv", *args, stdout=out)
    return out.getvalue()


def test_fetch_arxiv_creates_papers_and_prints_plain_progress(fake_arxiv):
    fake_arxiv.add(Reply(recorded("two-papers.xml")))
    output = _command("https://arxiv.org/abs/2509.22445v2", "hep-th/9901001")
    assert "arXiv: 2/2" in output
    assert "created 2509.22445: Bridging Kolmogorov" in output
    assert "2 created, 0 updated" in output
    assert Paper.objects.count() == 2


def test_fetch_arxiv_writes_nothing_when_arxiv_fails(fake_arxiv):
    fake_arxiv.add(Reply(recorded("block-page.html"), content_type="text/html"))
    with pytest.raises(CommandError, match="web page.*Nothing was written"):
        _command("2509.22445")
    assert Paper.objects.count() == 0


def test_fetch_arxiv_keeps_edited_fields_unless_told_to_overwrite(fake_arxiv):
    fake_arxiv.fallback = lambda ids: Reply(recorded("two-papers.xml"))
    _command("2509.22445", "hep-th/9901001")
    Paper.objects.filter(arxiv_id="2509.22445").update(title="Corrected")
    output = _command("2509.22445", "hep-th/9901001")
    assert "kept 2509.22445 English title (edited)" in output
    assert Paper.objects.get(arxiv_id="2509.22445").title == "Corrected"
    _command("2509.22445", "hep-th/9901001", "--overwrite")
    assert Paper.objects.get(arxiv_id="2509.22445").title.startswith("Bridging")


def test_the_spacing_is_shared_with_other_processes_through_the_cache(fake_arxiv):
    import time

    from django.core.cache import cache

    from editorial.arxiv_client import RATE_LIMITER

    fake_arxiv.add(Reply(recorded("two-papers.xml")))
    cache.set(RATE_LIMITER.CACHE_KEY, time.time() + 2)  # another worker just asked arXiv
    waits = []
    ArxivClient(min_interval=3, sleep=waits.append).fetch(["2509.22445"])
    assert len(waits) == 1 and 1.5 < waits[0] <= 2


def test_a_refresh_updates_search_and_the_api_of_published_papers(client):
    paper = factories.paper(arxiv_id="2509.22445", title="Old Placeholder Title", abstract="")
    digest = factories.digest()
    factories.entry(digest=digest, paper=paper)
    assert client.get("/api/v1/entries/").json()["results"][0]["paper"]["title"] == (
        "Old Placeholder Title"
    )  # now cached
    store_records(_records()[:1], overwrite=True)
    api = client.get("/api/v1/entries/").json()["results"][0]["paper"]["title"]
    assert api.startswith("Bridging")
    found = client.get("/search/", {"q": "Kolmogorov"}).content.decode()
    assert digest.entries.get().get_absolute_url() in found
