"""The importing benchmark runs, reports per-item times and leaves the database unchanged
(its speed goal is checked by `make bench`, not by a timed test)."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from editorial.importing import parse_digest
from editorial.management.commands.bench_import import synthetic_digest
from papers.models import Digest, Paper

pytestmark = pytest.mark.django_db


def test_the_benchmark_reports_both_measures_and_writes_nothing_to_the_database(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command(
        "bench_import",
        *("--entries", "20", "--digests", "2", "--runs", "1", "--preview-papers", "20"),
        stdout=out,
    )
    output = out.getvalue()
    assert "arXiv: parse + store" in output and "digest import (text layout)" in output
    assert "target: preview of a 20-paper paste" in output
    report = json.loads((tmp_path / "bench" / "import.json").read_text())
    assert [b["items"] for b in report["benchmarks"]] == [20, 2, 20]
    assert 0 < report["preview"]["statements"] <= 10
    assert Paper.objects.count() == 0 and Digest.objects.count() == 0


def test_the_benchmark_digests_are_in_the_seed_layout():
    parsed = parse_digest(synthetic_digest(3))
    assert len(parsed.entries) == 5
    assert all(len(entry.sections) == 8 for entry in parsed.entries)
    assert all(len(entry.figures) == 3 for entry in parsed.entries)
    assert parsed.report.unknown_sections == {}
    assert parsed.entries[0].section("innovation").bullets[-1] == "创新三粘在后面。"
