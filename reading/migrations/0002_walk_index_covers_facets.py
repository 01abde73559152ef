"""SQLite: the list-order index of the search rows also covers their facets, so a page of a
list filtered by tags and categories alone, with many matches, walks the index and tests each
row's facets in it (reading/search.py, ``FtsMatch``), without building the whole FTS5 match
set first (docs/performance.md, "Facet walk"). On PostgreSQL this migration does nothing."""

from django.db import migrations

COLUMNS = "issue_date DESC, digest_pk DESC, position, entry_id, status, published_at, expires_at"


def rebuild(columns: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute("DROP INDEX IF EXISTS papers_entrysearch_walk")
            schema_editor.execute(
                f"CREATE INDEX papers_entrysearch_walk ON papers_entrysearch ({columns})"
            )

    return run


class Migration(migrations.Migration):
    dependencies = [("reading", "0001_initial")]

    operations = [
        migrations.RunPython(rebuild(f"{COLUMNS}, facets"), rebuild(COLUMNS)),
    ]
