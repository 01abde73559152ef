"""PostgreSQL: the lists' sort index also carries the entry id and the digest's publication
state (``INCLUDE``), so a list without words or tags counts and cuts its page by reading
the index alone. Counting the first 1,001 published rows of the unfiltered list read 176
pages of the wide search table (4 ms at 100,000 papers; a sequential scan of a table larger
than a quarter of shared_buffers goes through a small ring and never stays cached); from
the index, 0.5 ms.

The index keeps its name and key columns, which is all Django's model state knows of it.
SQLite has its own covering list-order index (migration 0010_sqlite_fts).
"""

from django.db import migrations

KEY = '(issue_date DESC, digest_pk DESC, "position")'
FORWARD = [
    "DROP INDEX IF EXISTS entrysearch_sort_idx",
    f"CREATE INDEX entrysearch_sort_idx ON papers_entrysearch {KEY} "
    "INCLUDE (entry_id, status, published_at, expires_at)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS entrysearch_sort_idx",
    f"CREATE INDEX entrysearch_sort_idx ON papers_entrysearch {KEY}",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("papers", "0011_merge_0010_block_versions_0010_sqlite_fts")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD), elidable=False)]
