"""The benchmark data generator and the page benchmark (`make bench`).

The benchmark's figures are read by people from its output; no test here asserts a timing.
"""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from comments.models import Comment
from editorial.management.commands import bench
from papers.models import Digest, Entry, Paper, Section, TaggedEntry
from reading.models import EntrySearch
from tests import factories

pytestmark = pytest.mark.django_db


def generate(*args):
    out = StringIO()
    call_command("generate_bench_data", *args, stdout=out)
    return out.getvalue()


def snapshot():
    """Everything a reader could see of the generated data (not ids or timestamps)."""
    return {
        "digests": list(
            Digest.objects.order_by("slug").values_list(
                "slug", "title", "issue_date", "summary", "status", "published_at", "view_count"
            )
        ),
        "papers": list(
            Paper.objects.order_by("arxiv_id").values_list(
                "arxiv_id",
                "title",
                "authors",
                "affiliations",
                "abstract",
                "primary_category__code",
            )
        ),
        "entries": list(
            Entry.objects.order_by("digest__slug", "position").values_list(
                "digest__slug", "position", "paper__arxiv_id", "title_zh"
            )
        ),
        "sections": sorted(
            Section.objects.values_list(
                "entry__digest__slug", "entry__position", "kind__slug", "body_html"
            )
        ),
        "tags": sorted(
            TaggedEntry.objects.values_list(
                "content_object__digest__slug", "content_object__position", "tag__name"
            )
        ),
        "comments": sorted(
            Comment.objects.values_list("digest__slug", "entry__digest__slug", "body", "status"),
            key=repr,
        ),
    }


def test_the_same_seed_gives_the_same_data_at_once_or_grown_in_steps():
    generate("--papers", "60", "--digests", "12", "--seed", "5")
    at_once = snapshot()
    generate("--reset", "--papers", "25", "--digests", "5", "--seed", "5")
    generate("--papers", "60", "--digests", "12", "--seed", "5")
    assert snapshot() == at_once
    generate("--reset", "--papers", "60", "--digests", "12", "--seed", "6")
    assert snapshot()["sections"] != at_once["sections"]


def test_counts_search_rows_and_states_are_as_asked():
    output = generate("--papers", "220", "--digests", "40")
    assert "Benchmark data ready: 220 papers, 40 digests (200 entries)" in output
    assert Paper.objects.count() == 220 and Digest.objects.count() == 40
    assert Entry.objects.count() == 200
    assert EntrySearch.objects.count() == 200  # built through papers.search.refresh_entries
    assert set(Entry.objects.values_list("position", flat=True)) == {1, 2, 3, 4, 5}
    # Every entry has its critique (most have all eight kinds), rendered as Section.save does.
    assert Section.objects.count() >= 200 * 6
    section = Section.objects.filter(kind__is_list=True).first()
    assert section.body_html.startswith("<ul>") and "<li>" in section.body_html
    # A few digests are not readable: the draft (index 37) is a 404 for readers.
    draft = Digest.objects.get(slug="bench-37")
    assert draft.status == Digest.Status.DRAFT
    assert Client().get(draft.get_absolute_url()).status_code == 404
    assert Comment.objects.filter(status=Comment.Status.APPROVED).exists()
    # A second run with the same size changes nothing.
    assert "already complete" in generate("--papers", "220", "--digests", "40")
    assert Digest.objects.count() == 40


def test_readable_entries_get_related_lists_as_the_worker_stores_them(monkeypatch):
    from reading import related
    from reading.models import RelatedEntry
    from reading.related import STORED, indexed_entries, section_kinds

    # The worker's own computation (run at once under the test settings) is tested elsewhere.
    monkeypatch.setattr(related, "refresh", lambda **kw: related.Refresh(computed=False))
    generate("--papers", "220", "--digests", "40")
    readable = set(indexed_entries().values_list("pk", flat=True))
    whole = RelatedEntry.objects.filter(kind=None)
    assert set(whole.values_list("entry_id", flat=True)) == readable
    assert set(whole.values_list("related_id", flat=True)) <= readable  # never a draft's
    by_section = RelatedEntry.objects.filter(kind__in=list(section_kinds()))
    assert set(by_section.values_list("entry_id", flat=True)) == readable
    entry = Entry.objects.get(pk=min(readable))
    ranks = list(whole.filter(entry=entry).order_by("rank").values_list("rank", flat=True))
    assert ranks == list(range(1, len(ranks) + 1)) and 0 < len(ranks) <= STORED
    assert 'class="related"' in Client().get(entry.get_absolute_url()).content.decode()
    # A second run fills only the lists that are missing, and leaves the others alone.
    others = set(RelatedEntry.objects.exclude(entry=entry).values_list("entry", "kind", "related"))
    RelatedEntry.objects.filter(entry=entry).delete()
    generate("--papers", "220", "--digests", "40")
    assert whole.filter(entry=entry).exists()
    assert (
        set(RelatedEntry.objects.exclude(entry=entry).values_list("entry", "kind", "related"))
        == others
    )


def test_quick_is_the_ci_size():
    generate("--quick")
    assert (Paper.objects.count(), Digest.objects.count()) == (1000, 200)
    assert Entry.objects.published().count() > 900


def test_it_refuses_a_database_with_other_content_unless_forced():
    factories.digest(slug="real-issue")
    with pytest.raises(CommandError, match="not benchmark data"):
        generate("--papers", "10", "--digests", "2")
    assert Digest.objects.count() == 1
    generate("--papers", "10", "--digests", "2", "--force")
    assert Digest.objects.filter(slug__startswith="bench-").count() == 2
    generate("--reset", "--papers", "10", "--digests", "1", "--force")
    assert Digest.objects.filter(slug="real-issue").exists()  # --reset deletes only bench data
    assert Digest.objects.filter(slug__startswith="bench-").count() == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--papers", "3"], "at least 5"),
        (["--digests", "0"], "at least 1"),
        (["--seed", "-1"], "0 or more"),
    ],
)
def test_bad_arguments_are_a_command_error(args, message):
    with pytest.raises(CommandError, match=message):
        generate(*args)


def test_more_data_than_asked_or_another_seed_needs_reset():
    generate("--papers", "20", "--digests", "4")
    with pytest.raises(CommandError, match="--reset"):
        generate("--papers", "10", "--digests", "2")
    with pytest.raises(CommandError, match="another seed"):
        generate("--papers", "20", "--digests", "4", "--seed", "99")


def test_reference_views_exist_only_under_the_benchmark_urls(settings, django_assert_num_queries):
    assert Client().get("/__bench__/plain/").status_code == 404
    assert Client().get("/__bench__/template/").status_code == 404
    settings.ROOT_URLCONF = "digestsite.bench_urls"
    client = Client()
    assert client.get("/__bench__/plain/").status_code == 200
    client.get("/__bench__/template/")  # site settings are cached after the first page
    with django_assert_num_queries(0):
        response = client.get("/__bench__/template/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 40_000 < len(response.content) < 55_000  # a digest page's size
    assert html.count('class="entry"') == 5
    assert html.count('class="critique') + html.count('class="abstract"') == 45


# The mail figure runs the real worker, which closes a connection left inside a transaction
# (PostgreSQL's is then gone): this test commits, as the benchmark does on its own database.
@pytest.mark.django_db(transaction=True)
def test_the_quick_benchmark_runs_end_to_end_and_reports_every_page(tmp_path):
    import importlib

    from django.apps import apps

    # Reference data from the migrations (section kinds, categories), again after a flush.
    importlib.import_module("papers.migrations.0002_seed_reference_data").seed(apps, None)
    out = StringIO()
    call_command(
        "bench",
        "--in-place",
        "--no-http",
        "--no-startup",
        "--small-papers",
        "20",
        "--small-digests",
        "4",
        "--papers",
        "200",
        "--digests",
        "40",
        "--iterations",
        "1",
        "--warmup",
        "0",
        "--page-seconds",
        "0.1",
        "--output",
        str(tmp_path),
        "--mail-subscribers",
        "30",
        stdout=out,
    )
    printed = out.getvalue()
    assert "Targets (issue 7):" in printed
    assert "Mail: queued and sent a digest to 30 subscribers through local SMTP" in printed
    mail = json.loads((tmp_path / "latest.json").read_text())["mail"]
    assert (mail["sent"], mail["distinct_recipients"], mail["failed"]) == (30, 30, 0)
    report = json.loads((tmp_path / "latest.json").read_text())
    assert len(list(tmp_path.glob("bench-*.json"))) == 1
    assert [(s["papers"], s["digests"], s["entries"]) for s in report["sizes"]] == [
        (20, 4, 20),
        (200, 40, 200),
    ]
    assert report["machine"]["cpus"] >= 1 and report["machine"]["database"]
    assert set(report["pages"]) == {name for name, _kind, _group in bench.PAGES}
    for name, page in report["pages"].items():
        assert page["url"].startswith("/"), name
        assert set(page["in_process"]) == {"20", "200"}, name
        for figures in page["in_process"].values():
            modes = {"warm", "cold"} if page["kind"] == "public" else {"warm"}
            if name in bench.RENDERED_PAGES:
                modes.add("page-cold")  # after a change: rendered, blocks and rows warm
            assert set(figures) == modes, name
            for mode in figures.values():
                assert mode["status"] == 200
                assert 0 < mode["p50_ms"] <= mode["p95_ms"]
                assert mode["runs"] >= 1 and mode["bytes"] > 0
                assert isinstance(mode["queries"], int) and mode["queries"] >= 0
                assert mode["ratio_to_template"] > 0
    assert report["pages"]["reference: plain view"]["in_process"]["200"]["warm"]["queries"] == 0
    # Cold is a real render, not an answer from the page cache.
    for name in ("home", "digest", "entry"):
        assert report["pages"][name]["in_process"]["200"]["cold"]["queries"] > 0, name
    digest = report["pages"]["digest"]["in_process"]["200"]
    assert 0 < digest["page-cold"]["queries"] < digest["cold"]["queries"]  # blocks were cached
    assert report["http"] == {"skipped": True} and report["startup"] == {"skipped": True}
    targets = {row["target"]: row for row in report["targets"]}
    assert len(targets) == 11
    # Lists and search are judged after a change too (a filter nobody asked for since the
    # last change), and that run is a real render.
    for label in ("filtered list p50", "search p50"):
        assert f"{label} (after a change, slowest)" in targets
        assert f"{label} (every cache empty, slowest)" in targets
    for name in ("list: tag + category", "search 蒸馏"):
        assert report["pages"][name]["in_process"]["200"]["page-cold"]["queries"] > 0, name
    assert all({"goal", "value", "pass", "note"} <= set(row) for row in targets.values())
    # The digest is judged both after a change (≤ 1.0x the template) and with every cache
    # empty (≤ 2.0x); lists and search with every cache empty are stress figures, shown
    # against their goals but not judged.
    stress = {name for name, row in targets.items() if "stress" in row}
    assert stress == {
        "filtered list p50 (every cache empty, slowest)",
        "search p50 (every cache empty, slowest)",
    }
    assert all(targets[name]["pass"] is None for name in stress)
    assert targets["cold digest (after a change) ÷ static template"]["pass"] in (True, False)
    empty = targets["digest, every cache empty ÷ static template"]
    assert empty["goal"] == "≤ 2.0" and empty["pass"] in (True, False)
    assert bench._verdict({"pass": None, "stress": True}, {}) == "within"
    assert bench._verdict({"pass": None, "stress": False}, {}) == "over"
    assert bench._verdict({"pass": False}, {False: "FAIL"}) == "FAIL"
    assert report["checks"]["unpublished_digests_hidden"] == {"draft": True}


def test_bench_refuses_bad_arguments():
    with pytest.raises(CommandError, match="must be positive"):
        call_command("bench", "--in-place", "--iterations", "0")
    with pytest.raises(CommandError, match="small size"):
        call_command("bench", "--in-place", "--small-papers", "500", "--papers", "100")


def test_each_size_has_its_own_database_whatever_the_connection_points_at_now(monkeypatch):
    """The full size is the configured database, the small one ``<name>_small``, also after
    the run has switched the connection to the small one (it once measured the small
    database twice, growing it to the full size)."""
    from django.db import connection

    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example:5432/digest_bench")
    command = bench.Command()
    command.configured_name = "digest_bench"
    monkeypatch.setitem(connection.settings_dict, "NAME", "digest_bench_small")
    monkeypatch.setattr(connection, "vendor", "postgresql")
    assert command.database_for("full", 100_000, 20_000) == (
        "digest_bench",
        "postgres://u@db.example:5432/digest_bench",
    )
    assert command.database_for("small", 1_000, 200) == (
        "digest_bench_small",
        "postgres://u@db.example:5432/digest_bench_small",
    )


def test_the_analytics_benchmark_fills_around_rows_the_sites_counting_wrote():
    from django.utils import timezone

    from readership import benchmark
    from readership.models import DigestDay

    digest = factories.digest(entries=1, status="published")
    DigestDay.objects.create(digest=digest, day=timezone.localdate(), views=3, readers=2)
    benchmark._fill_year(2)
    kept = DigestDay.objects.get(digest=digest, day=timezone.localdate())
    assert (kept.views, kept.readers) == (3, 2)
    assert DigestDay.objects.filter(digest=digest).count() == 2


# transaction: the benchmark opens a new database connection before each cold figure.
@pytest.mark.django_db(transaction=True)
def test_the_analytics_benchmark_times_the_workers_refresh_and_the_stored_page():
    from django.test import Client

    from editorial import analytics
    from readership import benchmark
    from readership.models import DigestDay

    factories.digest(entries=2, status="published")
    editor = Client()
    editor.force_login(factories.user("boss", superuser=True))
    figures = benchmark.analytics_at_scale(editor, analytics.refresh, days=3, runs=1)
    assert {"refresh_s cold 365 days", "page_ms cold 365 days by day"} <= set(figures)
    assert analytics.AnalyticsSnapshot.objects.filter(days=365).exists()
    assert DigestDay.objects.count() == 0  # the rows made for the run are gone
