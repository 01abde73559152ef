"""PostgreSQL: ``papers_entryfacets``, a narrow copy of each search row's facet vector and
publication state (papers/models/reading.py: EntryFacets), kept by triggers on the search
table, for the capped counts of lists filtered by tags and categories. The search table's
rows are ~1.3 KB, six to a page: the 1,001 rows a count visits for a common tag lay on
~660 pages, and the GIN bitmap of the tag spanned all 17,000 (7–9 ms at 100,000 papers);
on this table, ~120 rows to a page, 2–4 ms.

Triggers rather than Python: every writer of the search rows (``refresh_entries``,
``sync_entry_state``, ``rebuild_search``, bulk imports, the benchmark's generator) keeps
the copy exact in the same transaction without knowing it exists; TRUNCATE (Django's test
flush) empties it too. SQLite gets the model's state only: its counts use the FTS5 index.
"""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = [
    """
    CREATE TABLE papers_entryfacets (
        entry_id bigint PRIMARY KEY,
        issue_date date,
        digest_pk bigint,
        status varchar(16) NOT NULL,
        published_at timestamptz,
        expires_at timestamptz,
        facet_vector tsvector NOT NULL
    )
    """,
    "CREATE INDEX papers_entryfacets_gin ON papers_entryfacets USING gin (facet_vector)",
    # A tag within a date range or one digest: the planner ANDs these with the GIN bitmap
    # instead of testing every row of the tag.
    "CREATE INDEX papers_entryfacets_date ON papers_entryfacets (issue_date)",
    "CREATE INDEX papers_entryfacets_digest ON papers_entryfacets (digest_pk)",
    """
    CREATE FUNCTION papers_entryfacets_copy() RETURNS trigger LANGUAGE plpgsql AS $$
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
    """
    CREATE FUNCTION papers_entryfacets_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        TRUNCATE papers_entryfacets;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER papers_entryfacets_copy
    AFTER INSERT OR UPDATE OR DELETE ON papers_entrysearch
    FOR EACH ROW EXECUTE FUNCTION papers_entryfacets_copy()
    """,
    """
    CREATE TRIGGER papers_entryfacets_truncate
    AFTER TRUNCATE ON papers_entrysearch
    FOR EACH STATEMENT EXECUTE FUNCTION papers_entryfacets_truncate()
    """,
    """
    INSERT INTO papers_entryfacets
        (entry_id, issue_date, digest_pk, status, published_at, expires_at, facet_vector)
    SELECT entry_id, issue_date, digest_pk, status, published_at, expires_at, facet_vector
    FROM papers_entrysearch
    """,
    "ANALYZE papers_entryfacets",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS papers_entryfacets_truncate ON papers_entrysearch",
    "DROP TRIGGER IF EXISTS papers_entryfacets_copy ON papers_entrysearch",
    "DROP FUNCTION IF EXISTS papers_entryfacets_truncate()",
    "DROP FUNCTION IF EXISTS papers_entryfacets_copy()",
    "DROP TABLE IF EXISTS papers_entryfacets",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("papers", "0013_comment_thread_indexes")]

    operations = [
        migrations.CreateModel(
            name="EntryFacets",
            fields=[
                (
                    "entry",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="papers.entry",
                    ),
                ),
                ("issue_date", models.DateField(null=True)),
                ("digest_pk", models.BigIntegerField(null=True)),
                ("status", models.CharField(max_length=16)),
                ("published_at", models.DateTimeField(null=True)),
                ("expires_at", models.DateTimeField(null=True)),
            ],
            options={"db_table": "papers_entryfacets", "managed": False},
        ),
        migrations.RunPython(run(FORWARD), run(BACKWARD), elidable=False),
    ]
