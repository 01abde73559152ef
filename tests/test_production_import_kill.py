"""An `import_digest` killed with SIGKILL half-way leaves no partial digest (issue 8's
fault check, now that the importer exists)."""

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_production_backup import (
    COUNT,
    ROOT,
    _child_env,
    _database_url_for_child,
    kill_while_held,
)

SAMPLE = Path(__file__).parent / "samples" / "digest-text.txt"

# The child imports a digest and stops inside the import's transaction, after the digest, its
# papers, entries, sections and figures were written but before the commit; then it is killed.
HOLD_AND_WAIT = """
import sys, time
import django
django.setup()
from django.core.management import call_command
from editorial import services
from papers.models import Entry, Section

def hold(**kwargs):
    print("HOLDING", Entry.objects.count(), Section.objects.count(), flush=True)
    time.sleep(600)

services.digest_record_creation = hold
call_command("import_digest", sys.argv[1], "--allow-unplaced")
print("COMMITTED", flush=True)
"""


@pytest.mark.django_db(transaction=True)
def test_an_import_digest_killed_mid_way_leaves_no_partial_digest(tmp_path):
    from django.apps import apps

    # A transactional test may start without the rows migrations seeded.
    importlib.import_module("papers.migrations.0002_seed_reference_data").seed(apps, None)
    env = _child_env(_database_url_for_child(tmp_path), tmp_path)
    entries, sections = kill_while_held(HOLD_AND_WAIT, str(SAMPLE), env=env)
    assert int(entries) > 0 and int(sections) > 0  # written, not committed

    counted = subprocess.run(
        [sys.executable, "-c", COUNT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    counts = json.loads(counted.stdout.strip().splitlines()[-1])
    for label in (
        "papers.digest",
        "papers.entry",
        "papers.section",
        "papers.figure",
        "papers.paper",
    ):
        assert counts[label] == 0, (label, counts)
    # Importing again afterwards simply works.
    rerun = subprocess.run(
        [sys.executable, "manage.py", "import_digest", str(SAMPLE), "--allow-unplaced"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert "Created draft digest" in rerun.stdout
