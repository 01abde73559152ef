"""Speed: the search row carries its entry's sort key (issue date, digest, position) and its
digest's publication state (status, go-live, expiry), so that list and search pages read one
narrow table and walk one index (papers/search.py: sync_entry_state keeps the copies).

The backfill is one statement: ``UPDATE … FROM`` on PostgreSQL, a row-value subquery on
SQLite. The sort index is created after it, so it is built once over the filled rows.
On PostgreSQL the title vector gets a GIN index, and the table is analysed so that the
planner knows the new columns at once.
"""

from django.db import migrations, models

POSTGRES_BACKFILL = """
UPDATE papers_entrysearch
SET issue_date = d.issue_date, digest_pk = e.digest_id, position = e.position,
    status = d.status, published_at = d.published_at, expires_at = d.expires_at
FROM papers_entry e INNER JOIN papers_digest d ON d.id = e.digest_id
WHERE e.id = papers_entrysearch.entry_id
"""
SQLITE_BACKFILL = """
UPDATE papers_entrysearch
SET (issue_date, digest_pk, position, status, published_at, expires_at) = (
    SELECT d.issue_date, e.digest_id, e.position, d.status, d.published_at, d.expires_at
    FROM papers_entry e INNER JOIN papers_digest d ON d.id = e.digest_id
    WHERE e.id = papers_entrysearch.entry_id
)
"""


def backfill(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(POSTGRES_BACKFILL if vendor == "postgresql" else SQLITE_BACKFILL)


# The title vector gets a GIN index too: a relevance page takes "every word in the title"
# entries first, and for a word rare in titles that set comes from this index.
POSTGRES_FORWARD = [
    "CREATE INDEX papers_entrysearch_title_gin ON papers_entrysearch USING gin (title_vector)",
    "ANALYZE papers_entrysearch",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS papers_entrysearch_title_gin"]


def postgres_forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_FORWARD:
            schema_editor.execute(statement)


def postgres_backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("papers", "0007_merge_reading"),
    ]

    operations = [
        migrations.AddField(
            model_name="entrysearch",
            name="digest_pk",
            field=models.BigIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="entrysearch",
            name="expires_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="entrysearch",
            name="issue_date",
            field=models.DateField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="entrysearch",
            name="position",
            field=models.PositiveSmallIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="entrysearch",
            name="published_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="entrysearch",
            name="status",
            field=models.CharField(blank=True, editable=False, max_length=16),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="entrysearch",
            index=models.Index(
                fields=["-issue_date", "-digest_pk", "position"], name="entrysearch_sort_idx"
            ),
        ),
        migrations.RunPython(postgres_forward, postgres_backward),
    ]
