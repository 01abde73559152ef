"""Search on SQLite: an FTS5 index over the search rows (papers/search.py).

An *external content* FTS5 table: it stores only the index, and reads the texts from
papers_entrysearch (its rowid is the entry id). Three triggers keep it current with every
write to the search rows, whatever makes it: ``refresh_entries`` (an upsert), deletes
cascading from entries and digests, bulk loads and raw SQL, none of which need to know
about the index; a Python signal would miss the bulk and raw paths. The update trigger
fires only when a term text is written and has changed, so ``sync_entry_state`` (the sort
key and publication state) never re-indexes.

The tokenizer is unicode61 without diacritic folding: every term of the term texts (a
lower-case Latin word or number, a CJK bigram such as 推理, a facet such as t12) is a run of
letters and digits between single spaces, so it is exactly one FTS5 token.

Two covering indexes keep searches off the table's long rows: the list order with the entry
id and the publication state (a page of a common word or tag walks it and tests each id),
and the entry id with the state and sort key (a count, or a page of a few matches, looks up
each id the FTS index gives).

On PostgreSQL (generated tsvector columns, migration 0003) this migration does nothing.
"""

from django.db import migrations

SQLITE_FORWARD = [
    """
    CREATE VIRTUAL TABLE papers_entrysearch_fts USING fts5(
        title_terms, body_terms, facets,
        content='papers_entrysearch', content_rowid='entry_id',
        tokenize='unicode61 remove_diacritics 0'
    )
    """,
    """
    CREATE TRIGGER papers_entrysearch_fts_ai AFTER INSERT ON papers_entrysearch BEGIN
        INSERT INTO papers_entrysearch_fts (rowid, title_terms, body_terms, facets)
        VALUES (new.entry_id, new.title_terms, new.body_terms, new.facets);
    END
    """,
    """
    CREATE TRIGGER papers_entrysearch_fts_ad AFTER DELETE ON papers_entrysearch BEGIN
        INSERT INTO papers_entrysearch_fts (papers_entrysearch_fts, rowid, title_terms,
                                            body_terms, facets)
        VALUES ('delete', old.entry_id, old.title_terms, old.body_terms, old.facets);
    END
    """,
    """
    CREATE TRIGGER papers_entrysearch_fts_au
    AFTER UPDATE OF entry_id, title_terms, body_terms, facets ON papers_entrysearch
    WHEN old.entry_id IS NOT new.entry_id OR old.title_terms IS NOT new.title_terms
        OR old.body_terms IS NOT new.body_terms OR old.facets IS NOT new.facets
    BEGIN
        INSERT INTO papers_entrysearch_fts (papers_entrysearch_fts, rowid, title_terms,
                                            body_terms, facets)
        VALUES ('delete', old.entry_id, old.title_terms, old.body_terms, old.facets);
        INSERT INTO papers_entrysearch_fts (rowid, title_terms, body_terms, facets)
        VALUES (new.entry_id, new.title_terms, new.body_terms, new.facets);
    END
    """,
    # Index the rows that exist already.
    "INSERT INTO papers_entrysearch_fts (papers_entrysearch_fts) VALUES ('rebuild')",
    # The list order with the entry id and publication state: a page of a common word or
    # tag walks this index and tests each id against the set of matches without reading
    # the table, whose state columns sit behind the long term texts (overflow pages).
    """
    CREATE INDEX papers_entrysearch_walk ON papers_entrysearch (
        issue_date DESC, digest_pk DESC, position, entry_id, status, published_at, expires_at
    )
    """,
    # The other way in: a count, or a page of a few matches, takes the ids from the FTS
    # index and looks up each one's state and sort key here, again without the table.
    """
    CREATE INDEX papers_entrysearch_state ON papers_entrysearch (
        entry_id, status, published_at, expires_at, issue_date, digest_pk, position
    )
    """,
]
SQLITE_BACKWARD = [
    "DROP INDEX IF EXISTS papers_entrysearch_state",
    "DROP INDEX IF EXISTS papers_entrysearch_walk",
    "DROP TRIGGER IF EXISTS papers_entrysearch_fts_au",
    "DROP TRIGGER IF EXISTS papers_entrysearch_fts_ad",
    "DROP TRIGGER IF EXISTS papers_entrysearch_fts_ai",
    "DROP TABLE IF EXISTS papers_entrysearch_fts",
]


def sqlite_forward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def sqlite_backward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0009_merge_speed_db"),
    ]

    operations = [
        migrations.RunPython(sqlite_forward, sqlite_backward, elidable=False),
    ]
