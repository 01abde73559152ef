"""The facet names of each search row, and the title tier made of titles alone (issue 21).

- ``facet_names`` (reading/models.py): the tags, categories and affiliations of the entry
  with what a list shows of them, read by the capped count itself, so that a list's facet
  counts cost no query of their own (reading/facets.py). Added with ``ALTER TABLE … ADD
  COLUMN`` on both databases: Django's own AddField would rebuild the SQLite table (a
  NOT NULL column with a default) and lose the FTS5 triggers and the covering indexes it
  does not know of.
- SQLite: the covering index a count probes for each FTS5 match (``papers_entrysearch_state``,
  papers migration 0010) also holds the facet names, so the count still never reads the
  table's long rows.
- PostgreSQL: ``papers_entryfacets`` (papers migration 0014) gets the column too, and its
  trigger copies it: a list filtered by tags or categories alone counts that narrow table.
- Every search row is rebuilt (``refresh_entries``): the one-line summary moves from the
  title terms to the body terms, so a match in a title (English or Chinese) ranks above one
  in the summary, and the facet names are filled.
"""

from django.db import migrations, models

SQLITE_STATE_COLUMNS = "entry_id, status, published_at, expires_at, issue_date, digest_pk, position"

SQLITE_FORWARD = [
    "ALTER TABLE papers_entrysearch ADD COLUMN facet_names text NOT NULL DEFAULT ''",
    "DROP INDEX IF EXISTS papers_entrysearch_state",
    f"CREATE INDEX papers_entrysearch_state ON papers_entrysearch "
    f"({SQLITE_STATE_COLUMNS}, facet_names)",
]
SQLITE_BACKWARD = [
    "DROP INDEX IF EXISTS papers_entrysearch_state",
    f"CREATE INDEX papers_entrysearch_state ON papers_entrysearch ({SQLITE_STATE_COLUMNS})",
    "ALTER TABLE papers_entrysearch DROP COLUMN facet_names",
]

POSTGRES_FORWARD = [
    "ALTER TABLE papers_entrysearch ADD COLUMN facet_names text NOT NULL DEFAULT ''",
    "ALTER TABLE papers_entryfacets ADD COLUMN facet_names text NOT NULL DEFAULT ''",
    """
    CREATE OR REPLACE FUNCTION papers_entryfacets_copy() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM papers_entryfacets WHERE entry_id = OLD.entry_id;
            RETURN NULL;
        END IF;
        IF TG_OP = 'UPDATE' AND OLD.entry_id <> NEW.entry_id THEN
            DELETE FROM papers_entryfacets WHERE entry_id = OLD.entry_id;
        END IF;
        INSERT INTO papers_entryfacets AS f
            (entry_id, issue_date, digest_pk, status, published_at, expires_at, facet_vector,
             facet_names)
        VALUES (NEW.entry_id, NEW.issue_date, NEW.digest_pk, NEW.status, NEW.published_at,
                NEW.expires_at, NEW.facet_vector, NEW.facet_names)
        ON CONFLICT (entry_id) DO UPDATE SET
            issue_date = EXCLUDED.issue_date, digest_pk = EXCLUDED.digest_pk,
            status = EXCLUDED.status, published_at = EXCLUDED.published_at,
            expires_at = EXCLUDED.expires_at, facet_vector = EXCLUDED.facet_vector,
            facet_names = EXCLUDED.facet_names;
        RETURN NULL;
    END
    $$
    """,
]
POSTGRES_BACKWARD = [
    """
    CREATE OR REPLACE FUNCTION papers_entryfacets_copy() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM papers_entryfacets WHERE entry_id = OLD.entry_id;
            RETURN NULL;
        END IF;
        IF TG_OP = 'UPDATE' AND OLD.entry_id <> NEW.entry_id THEN
            DELETE FROM papers_entryfacets WHERE entry_id = OLD.entry_id;
        END IF;
        INSERT INTO papers_entryfacets AS f
            (entry_id, issue_date, digest_pk, status, published_at, expires_at, facet_vector)
        VALUES (NEW.entry_id, NEW.issue_date, NEW.digest_pk, NEW.status, NEW.published_at,
                NEW.expires_at, NEW.facet_vector)
        ON CONFLICT (entry_id) DO UPDATE SET
            issue_date = EXCLUDED.issue_date, digest_pk = EXCLUDED.digest_pk,
            status = EXCLUDED.status, published_at = EXCLUDED.published_at,
            expires_at = EXCLUDED.expires_at, facet_vector = EXCLUDED.facet_vector;
        RETURN NULL;
    END
    $$
    """,
    "ALTER TABLE papers_entryfacets DROP COLUMN IF EXISTS facet_names",
    "ALTER TABLE papers_entrysearch DROP COLUMN IF EXISTS facet_names",
]


def run(sqlite, postgres):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for statement in {"sqlite": sqlite, "postgresql": postgres}.get(vendor, ()):
            schema_editor.execute(statement)

    return apply


def rebuild_search_rows(apps, schema_editor):
    """Every entry's search row, by the code that keeps them (a fixed number of queries per
    500 entries); nothing to do on a new database."""
    from reading.search import refresh_entries

    Entry = apps.get_model("papers", "Entry")
    ids = list(Entry.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 500):
        refresh_entries(ids[start : start + 500])


class Migration(migrations.Migration):
    # The rebuild runs the live code, which reads every column the models have now.
    dependencies = [
        ("reading", "0002_walk_index_covers_facets"),
        ("papers", "0020_digest_working_copy"),
        ("editorial", "0004_revision_editor_saves"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="entrysearch",
                    name="facet_names",
                    field=models.TextField(blank=True, default="", editable=False),
                ),
                migrations.AddField(
                    model_name="entryfacets",
                    name="facet_names",
                    field=models.TextField(blank=True, default=""),
                ),
            ],
            database_operations=[
                migrations.RunPython(
                    run(SQLITE_FORWARD, POSTGRES_FORWARD),
                    run(SQLITE_BACKWARD, POSTGRES_BACKWARD),
                    elidable=False,
                ),
            ],
        ),
        migrations.RunPython(rebuild_search_rows, migrations.RunPython.noop, elidable=False),
    ]
